package verify

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// maxKeys bounds the keys kept from one document: a kid-less token or a v1a
// entry is tried against each of them, so their number is work per delivery.
const maxKeys = 64

// keySet is one immutable snapshot of the usable keys of a JWKS document.
type keySet struct {
	fetched time.Time
	// ed holds every Ed25519 verification key, for v1a (which names no key).
	ed []*edKey
	// jws holds every key usable for a JWS, with the algorithms it allows.
	jws []*jwsKey
}

type edKey struct {
	pub ed25519.PublicKey // exactly 32 bytes
}

type jwsKey struct {
	kid  string
	algs []jwa.SignatureAlgorithm
	pub  any // *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

func (k *jwsKey) allows(alg jwa.SignatureAlgorithm) bool {
	return slices.Contains(k.algs, alg)
}

// parseKeySet keeps the public verification keys of doc that this package
// can use. Keys of types jwx does not know (e.g. a future post-quantum "AKP"
// key) are skipped rather than failing the whole document, since the set is
// shared with keys for other consumers. A document with no usable key is an
// error, so that it never replaces a good set.
func parseKeySet(doc []byte) (*keySet, error) {
	set, err := jwk.Parse(doc, jwk.WithIgnoreParseError(true))
	if err != nil {
		// jwx's message may quote the document; the document is public,
		// but a line in an error log is no place for it.
		return nil, errors.New("not a JSON Web Key Set")
	}
	s := new(keySet)
	for i := 0; i < set.Len() && len(s.ed)+len(s.jws) < maxKeys; i++ {
		key, ok := set.Key(i)
		if !ok || !forVerifying(key) {
			continue
		}
		pub, err := key.PublicKey()
		if err != nil {
			continue
		}
		var raw any
		if err := pub.Raw(&raw); err != nil {
			continue
		}
		alg := key.Algorithm().String()
		switch raw := raw.(type) {
		case ed25519.PublicKey:
			// jwx accepts an "x" of any length; crypto/ed25519 panics on it.
			if len(raw) != ed25519.PublicKeySize {
				continue
			}
			switch alg {
			case "", jwa.EdDSA.String(), "Ed25519": // "Ed25519" is RFC 9864's name
				s.ed = append(s.ed, &edKey{pub: raw})
			}
			if alg == "" || alg == jwa.EdDSA.String() {
				s.jws = append(s.jws, &jwsKey{kid: key.KeyID(), algs: []jwa.SignatureAlgorithm{jwa.EdDSA}, pub: raw})
			}
		case *rsa.PublicKey:
			if algs := rsaAlgs(alg); algs != nil {
				s.jws = append(s.jws, &jwsKey{kid: key.KeyID(), algs: algs, pub: raw})
			}
		case *ecdsa.PublicKey:
			// jwx does not check that the point is on the curve.
			if _, err := raw.ECDH(); err != nil {
				continue
			}
			if algs := ecAlgs(raw, alg); algs != nil {
				s.jws = append(s.jws, &jwsKey{kid: key.KeyID(), algs: algs, pub: raw})
			}
		}
	}
	if len(s.ed) == 0 && len(s.jws) == 0 {
		return nil, fmt.Errorf("no usable key among %d", set.Len())
	}
	return s, nil
}

// forVerifying reports whether key may verify signatures according to its
// own "use" and "key_ops" members.
func forVerifying(key jwk.Key) bool {
	if use := key.KeyUsage(); use != "" && use != jwk.ForSignature.String() {
		return false
	}
	if ops := key.KeyOps(); len(ops) > 0 && !slices.Contains(ops, jwk.KeyOpVerify) {
		return false
	}
	return true
}

// rsaAlgs: a key's "alg" is the only algorithm it verifies. Without one, only
// RS256, the algorithm Google's guide names: allowing PS* or RS384/512 as
// well would let whoever chooses the token's header pick among them for no
// benefit.
func rsaAlgs(alg string) []jwa.SignatureAlgorithm {
	switch a := jwa.SignatureAlgorithm(alg); a {
	case "":
		return []jwa.SignatureAlgorithm{jwa.RS256}
	case jwa.RS256, jwa.RS384, jwa.RS512, jwa.PS256, jwa.PS384, jwa.PS512:
		return []jwa.SignatureAlgorithm{a}
	}
	return nil
}

// ecAlgs: the curve fixes the algorithm (RFC 7518 3.4); an "alg" that
// disagrees with the curve makes the key unusable.
func ecAlgs(pub *ecdsa.PublicKey, alg string) []jwa.SignatureAlgorithm {
	var want jwa.SignatureAlgorithm
	switch pub.Curve.Params().Name {
	case "P-256":
		want = jwa.ES256
	case "P-384":
		want = jwa.ES384
	case "P-521":
		want = jwa.ES512
	default:
		return nil
	}
	if alg != "" && alg != want.String() {
		return nil
	}
	return []jwa.SignatureAlgorithm{want}
}
