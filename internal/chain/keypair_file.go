package chain

import (
	"encoding/json"
	"fmt"
	"os"
)

// WriteFile saves the keypair in the Solana CLI's format (a JSON array of the 64 secret key
// bytes), readable by its owner only.
func (k Keypair) WriteFile(path string) error {
	b := make([]int, len(k.key))
	for i, v := range k.key {
		b[i] = int(v)
	}
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("write keypair %s: %w", k.PublicKey(), err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return fmt.Errorf("write keypair %s: %w", k.PublicKey(), err)
	}
	return nil
}
