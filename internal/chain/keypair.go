package chain

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"

	"github.com/gagliardetto/solana-go"
)

// Keypair is a signing key. However it is printed, logged or marshalled, only its public
// key shows: the private half never leaves this type except as a signature.
type Keypair struct {
	key solana.PrivateKey
}

// NewKeypair returns a fresh random keypair.
func NewKeypair() (*Keypair, error) {
	k, err := solana.NewRandomPrivateKey()
	if err != nil {
		return nil, fmt.Errorf("generate keypair: %w", err)
	}
	return &Keypair{key: k}, nil
}

// KeypairFromPrivateKey wraps a 64-byte ed25519 private key (seed, then public key).
func KeypairFromPrivateKey(k solana.PrivateKey) (*Keypair, error) {
	if err := checkKeypairBytes(k); err != nil {
		return nil, err
	}
	return &Keypair{key: append(solana.PrivateKey{}, k...)}, nil
}

// LoadKeypair reads a Solana CLI keypair file (a JSON array of 64 byte values, as written by
// solana-keygen). Errors name the file, never its content.
func LoadKeypair(path string) (*Keypair, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keypair file: %w", err)
	}
	defer clear(raw)
	var nums []int
	// The decoder's own error could quote a value from the file: report only where.
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&nums); err != nil {
		return nil, fmt.Errorf("keypair file %s: not a JSON array of 64 byte values", path)
	}
	defer clear(nums)
	if len(nums) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("keypair file %s: holds %d values, want %d", path, len(nums), ed25519.PrivateKeySize)
	}
	key := make(solana.PrivateKey, len(nums))
	for i, n := range nums {
		if n < 0 || n > 255 {
			return nil, fmt.Errorf("keypair file %s: value %d is not a byte", path, i)
		}
		key[i] = byte(n)
	}
	if err := checkKeypairBytes(key); err != nil {
		return nil, fmt.Errorf("keypair file %s: %w", path, err)
	}
	return &Keypair{key: key}, nil
}

// checkKeypairBytes verifies the length and that the public half belongs to the seed.
func checkKeypairBytes(k []byte) error {
	if len(k) != ed25519.PrivateKeySize {
		return fmt.Errorf("private key has %d bytes, want %d", len(k), ed25519.PrivateKeySize)
	}
	derived := ed25519.NewKeyFromSeed(k[:ed25519.SeedSize])
	defer clear(derived)
	if !bytes.Equal(derived[ed25519.SeedSize:], k[ed25519.SeedSize:]) {
		return fmt.Errorf("public key half does not match the secret seed")
	}
	return nil
}

// PublicKey is the keypair's address.
func (k Keypair) PublicKey() solana.PublicKey { return k.key.PublicKey() }

// String shows only the public key.
func (k Keypair) String() string { return "Keypair(" + k.PublicKey().String() + ")" }

// Format makes every fmt verb (%v, %+v, %#v, %x, ...) print String.
func (k Keypair) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// LogValue makes slog record only the public key.
func (k Keypair) LogValue() slog.Value { return slog.StringValue(k.PublicKey().String()) }

// MarshalJSON encodes the public key only.
func (k Keypair) MarshalJSON() ([]byte, error) { return json.Marshal(k.PublicKey().String()) }

// MarshalText encodes the public key only.
func (k Keypair) MarshalText() ([]byte, error) { return []byte(k.PublicKey().String()), nil }

// SignTransaction adds the signatures of the given keypairs to tx (for transactions sent
// with SendSigned, or handed to another signer). Keypairs tx does not need are ignored.
func SignTransaction(tx *solana.Transaction, signers ...*Keypair) error {
	_, err := tx.PartialSign(func(pub solana.PublicKey) *solana.PrivateKey {
		for _, s := range signers {
			if s.PublicKey().Equals(pub) {
				return &s.key
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sign transaction: %w", err)
	}
	return nil
}
