package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
)

const apiKeyPrefix = "moltzap_agent_"

// apiKey is a freshly minted agent key: the full key is shown once, the rest is stored.
type apiKey struct {
	Full       string
	KeyID      string
	SecretHash string
}

// newAPIKey mints "moltzap_agent_<16 hex key id>_<48 hex secret>".
func newAPIKey() (apiKey, error) {
	id, err := randomHex(8)
	if err != nil {
		return apiKey{}, err
	}
	secret, err := randomHex(24)
	if err != nil {
		return apiKey{}, err
	}
	return apiKey{Full: apiKeyPrefix + id + "_" + secret, KeyID: id, SecretHash: hashSecret(secret)}, nil
}

// parseAPIKey splits a key into its id and secret; ok is false for any malformed key.
func parseAPIKey(key string) (keyID, secret string, ok bool) {
	rest, found := strings.CutPrefix(key, apiKeyPrefix)
	if !found || len(rest) != 16+1+48 || rest[16] != '_' {
		return "", "", false
	}
	keyID, secret = rest[:16], rest[17:]
	if !isLowerHex(keyID) || !isLowerHex(secret) {
		return "", "", false
	}
	return keyID, secret, true
}

// secretMatches compares the hash of secret with the stored hash in constant time.
func secretMatches(secret, storedHash string) bool {
	return subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(storedHash)) == 1
}

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// newClaimToken mints "MZAP-" + 32 upper-case hex digits.
func newClaimToken() (string, error) {
	h, err := randomHex(16)
	if err != nil {
		return "", err
	}
	return "MZAP-" + strings.ToUpper(h), nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random bytes: %w", err)
	}
	return hex.EncodeToString(b), nil
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// constantTimeEqual compares two secrets without leaking where they differ.
func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
