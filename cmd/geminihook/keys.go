package main

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/spf13/cobra"
)

// Files `keys new` writes.
const (
	privateKeyFile = "private.pem"
	jwksFile       = "jwks.json"
)

func newKeysCmd() *cobra.Command {
	cmd := newGroupCmd("keys", "Key pairs for testing dynamic webhooks locally")
	var out, kind string
	var force bool
	newCmd := &cobra.Command{
		Use:   "new",
		Short: "Write a private key and the JWKS that publishes its public key",
		Long: `Write DIR/private.pem (PKCS #8) and DIR/jwks.json, a key set with the public
key, as Gemini publishes its own. Serve the key set with 'geminihook jwks
serve', point the receiver's GEMINI_JWKS_URL at it, and sign deliveries with
'geminihook send --key DIR/private.pem' (v1a) or '--key ... --kid KID' (JWT).
The key id is printed; it is the key's RFC 7638 thumbprint.`,
		Example: "  geminihook keys new --out keys",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("--out is required")}
			}
			kid, err := writeKeys(out, kind, force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s and %s\nkid %s\n",
				filepath.Join(out, privateKeyFile), filepath.Join(out, jwksFile), kid)
			return nil
		},
	}
	newCmd.Flags().StringVar(&out, "out", "", "directory to write private.pem and jwks.json to (created if missing)")
	newCmd.Flags().StringVar(&kind, "type", "ed25519", "key type: ed25519 (v1a and EdDSA JWTs) or rsa (RS256 JWTs)")
	newCmd.Flags().BoolVar(&force, "force", false, "overwrite existing files")
	cmd.AddCommand(newCmd)
	return cmd
}

func writeKeys(dir, kind string, force bool) (string, error) {
	var priv crypto.Signer
	var alg string
	switch kind {
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return "", err
		}
		priv, alg = k, "EdDSA"
	case "rsa":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return "", err
		}
		priv, alg = k, "RS256"
	default:
		return "", usageError{fmt.Errorf("--type %q: want ed25519 or rsa", kind)}
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", err
	}
	pub, err := jwk.FromRaw(priv.Public())
	if err != nil {
		return "", err
	}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	kid := base64URL(thumb)
	for k, v := range map[string]string{jwk.KeyIDKey: kid, jwk.AlgorithmKey: alg, jwk.KeyUsageKey: "sig"} {
		if err := pub.Set(k, v); err != nil {
			return "", err
		}
	}
	set, err := json.MarshalIndent(map[string]any{"keys": []jwk.Key{pub}}, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	if err := writeFile(filepath.Join(dir, privateKeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), flags, 0o600); err != nil {
		return "", err
	}
	if err := writeFile(filepath.Join(dir, jwksFile), append(set, '\n'), flags, 0o644); err != nil {
		return "", err
	}
	return kid, nil
}

func writeFile(path string, data []byte, flags int, perm os.FileMode) error {
	f, err := os.OpenFile(path, flags, perm)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists (use --force to overwrite)", path)
		}
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readPrivateKey reads a PEM private key: PKCS #8, or PKCS #1 for RSA.
func readPrivateKey(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, fmt.Errorf("%s holds no PEM block", path)
	}
	if block.Type == "RSA PRIVATE KEY" {
		return x509.ParsePKCS1PrivateKey(block.Bytes)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: unsupported key type %T", path, k)
	}
	return s, nil
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
