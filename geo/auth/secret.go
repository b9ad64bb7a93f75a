package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// TokenPrefix starts every API token, so secret scanners and people recognise one.
const TokenPrefix = "gm_"

// NewSecret returns prefix followed by 32 random bytes (URL-safe base64), and the SHA-256
// digest that is stored in its place.
func NewSecret(prefix string) (secret string, digest []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, fmt.Errorf("auth: read random secret: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, Digest(secret), nil
}

// NewToken returns a new API token ("gm_…") and its digest.
func NewToken() (string, []byte, error) { return NewSecret(TokenPrefix) }

// Digest is the SHA-256 of a secret: how tokens, session ids and CSRF tokens are stored
// and looked up. They carry 256 random bits, so a fast hash is enough.
func Digest(secret string) []byte {
	d := sha256.Sum256([]byte(secret))
	return d[:]
}

// LooksLikeToken reports whether s has the shape of an API token.
func LooksLikeToken(s string) bool {
	return strings.HasPrefix(s, TokenPrefix) && len(s) > len(TokenPrefix)+20
}

// NewPassword returns a random password of 20 characters for a first admin.
func NewPassword() (string, error) {
	b := make([]byte, 15)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("auth: read random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
