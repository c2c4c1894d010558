package geminihook

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/geminihook/geminihook/verify"
)

// maxSecretsFile bounds what is read from GEMINI_WEBHOOK_SECRETS_FILE: a
// few secrets take a few hundred bytes.
const maxSecretsFile = 64 << 10

// secretsReload is how often the secrets file is checked for a new value.
// Cloud Run refreshes a mounted secret on its own schedule; checking every
// few seconds costs one small read.
const secretsReload = 10 * time.Second

func readSecretsFile(path string) ([]verify.Secret, error) {
	b, err := readSmallFile(path)
	if err != nil {
		return nil, err
	}
	return parseSecretsFile(path, b)
}

// parseSecretsFile accepts a file with no secret: a deployment starts with
// an empty secret before Gemini has issued one, and static deliveries are
// refused (and retried by Gemini) until it is stored.
func parseSecretsFile(path string, b []byte) ([]verify.Secret, error) {
	secrets, err := verify.ParseSecrets(string(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return secrets, nil
}

func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSecretsFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxSecretsFile {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxSecretsFile)
	}
	return b, nil
}

// watchSecrets re-reads the secrets file every interval until ctx ends and,
// whenever its content changes, hands the static secrets plus the file's to
// set. A file that cannot be read or parsed, or that was emptied after
// holding secrets, leaves the secrets in use (so deliveries go on
// verifying) and is logged once, without its content.
func watchSecrets(ctx context.Context, path string, static []verify.Secret, interval time.Duration, set func(...verify.Secret), log *slog.Logger) {
	var (
		// The first check applies the file whatever it holds: it may
		// have changed since start-up read it.
		last     []byte
		first    = true
		inUse    int // secrets of the file in use
		reported string
	)
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		b, err := readSmallFile(path)
		if err == nil && !first && bytes.Equal(b, last) {
			continue
		}
		last = b
		var secrets []verify.Secret
		if err == nil {
			secrets, err = parseSecretsFile(path, b)
		}
		if err == nil && len(secrets) == 0 && inUse > 0 {
			err = fmt.Errorf("%s holds no secret any more", path)
		}
		if err != nil {
			if msg := err.Error(); msg != reported {
				log.Error("secrets file unusable; keeping the secrets in use", "variable", "GEMINI_WEBHOOK_SECRETS_FILE", "error", msg)
				reported = msg
			}
			continue
		}
		reported = ""
		set(append(append([]verify.Secret{}, static...), secrets...)...)
		if !first {
			log.Info("secrets file reloaded", "variable", "GEMINI_WEBHOOK_SECRETS_FILE", "secrets", len(secrets))
		}
		first, inUse = false, len(secrets)
	}
}
