package chain

import (
	"context"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
)

// Tests against the real local chain start it with localnettest.Start.

// client returns a chain client on the localnet with fast polling.
func client(ln *localnettest.Localnet, opts ...Option) *Client {
	return New(ln.RPC, append([]Option{WithPollInterval(50 * time.Millisecond)}, opts...)...)
}

func testContext(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// fundedKeypair returns a new keypair holding sol SOL on the chain.
func fundedKeypair(t *testing.T, ctx context.Context, c *Client, sol uint64) *Keypair {
	t.Helper()
	kp, err := NewKeypair()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Airdrop(ctx, kp.PublicKey(), sol*solana.LAMPORTS_PER_SOL); err != nil {
		t.Fatalf("airdrop: %v", err)
	}
	return kp
}

func mustKeypair(t *testing.T) *Keypair {
	t.Helper()
	kp, err := NewKeypair()
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

// waitNextSlot waits until the chain is past the current slot: a program deployed or
// upgraded in a slot cannot be invoked in that slot.
func waitNextSlot(t *testing.T, ctx context.Context, c *Client) {
	t.Helper()
	start, err := c.RPC().GetSlot(ctx, c.Commitment())
	if err != nil {
		t.Fatalf("getSlot: %v", err)
	}
	for {
		s, err := c.RPC().GetSlot(ctx, c.Commitment())
		if err != nil {
			t.Fatalf("getSlot: %v", err)
		}
		if s > start+1 {
			return
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
}
