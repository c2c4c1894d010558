package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/spf13/cobra"
)

func newJWKSCmd() *cobra.Command {
	cmd := newGroupCmd("jwks", "A local JWKS for testing dynamic webhooks")
	var dir, addr string
	serveCmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve DIR/jwks.json on loopback, for GEMINI_JWKS_URL",
		Long: `Serve DIR/jwks.json (as 'geminihook keys new' writes it) at /jwks.json and
/.well-known/jwks.json on a loopback address, re-reading the file on every
request so that keys added to it are served at once. The receiver accepts a
plain-http JWKS URL only on loopback.`,
		Example: `  geminihook jwks serve --dir keys
  GEMINI_JWKS_URL=http://127.0.0.1:8081/jwks.json geminihook serve`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return usageError{errors.New("--dir is required")}
			}
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usageError{fmt.Errorf("--addr %q: %w", addr, err)}
			}
			if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
				return usageError{fmt.Errorf("--addr %q: only a loopback address is allowed", addr)}
			}
			path := filepath.Join(dir, jwksFile)
			if _, err := readJWKS(path); err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s at http://%s/jwks.json\n", path, ln.Addr())
			return serveJWKS(cmd.Context(), ln, path)
		},
	}
	serveCmd.Flags().StringVar(&dir, "dir", "", "directory holding jwks.json")
	serveCmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8081", "loopback address to listen on")
	cmd.AddCommand(serveCmd)
	return cmd
}

func readJWKS(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if _, err := jwk.Parse(b); err != nil {
		return nil, fmt.Errorf("%s is not a JWKS: %w", path, err)
	}
	return b, nil
}

func serveJWKS(ctx context.Context, ln net.Listener, path string) error {
	mux := http.NewServeMux()
	h := func(w http.ResponseWriter, _ *http.Request) {
		b, err := readJWKS(path)
		if err != nil {
			http.Error(w, "key set unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(b)
	}
	mux.HandleFunc("GET /jwks.json", h)
	mux.HandleFunc("GET /.well-known/jwks.json", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	if ctx == nil {
		ctx = context.Background()
	}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
