package devstack

import (
	"context"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
)

// The proxy in front of the real localnet: its faults reach the chain client as a node's
// would, the client recovers, and the transfer is applied once.
func TestRPCFaultProxyFaultsAreSeenAndSurvived(t *testing.T) {
	// Short slots, so a blockhash (150 blocks) expires in a few seconds.
	ln := localnettest.Start(t, "--slot-time-ms", "20")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	node := chain.New(ln.RPC)
	p, err := NewRPCFaultProxy(ln.RPC)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	c := chain.New(p.URL, chain.WithCallTimeout(time.Second), chain.WithPollInterval(50*time.Millisecond),
		chain.WithRetry(chain.RetryPolicy{Attempts: 5, InitialBackoff: 50 * time.Millisecond, MaxBackoff: time.Second}))

	payer, err := chain.NewKeypair()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := node.Airdrop(ctx, payer.PublicKey(), 10*solana.LAMPORTS_PER_SOL); err != nil {
		t.Fatal(err)
	}
	transferOnce := func(t *testing.T) {
		t.Helper()
		to := solana.NewWallet().PublicKey()
		ix := system.NewTransferInstruction(1_000_000, payer.PublicKey(), to).Build()
		if _, err := c.Send(ctx, []solana.Instruction{ix}, payer); err != nil {
			t.Fatalf("send through the proxy: %v", err)
		}
		got, err := node.Balance(ctx, to)
		if err != nil || got != 1_000_000 {
			t.Fatalf("receiver holds %d lamports (%v), want 1000000: applied other than once", got, err)
		}
	}

	t.Run("slow sendTransaction answer", func(t *testing.T) {
		// The first send is forwarded and lands; its answer comes after the client's 1 s
		// timeout, so the client follows the signature's status and finds it landed
		// (transferOnce checks it was applied once).
		p.SetSlow(SlowRule{Methods: []string{"sendTransaction"}, Every: 2, Delay: 3 * time.Second})
		before := p.Stats()
		transferOnce(t)
		p.Clear()
		s := p.Stats().Sub(before)
		t.Log(s)
		if s.Delayed["sendTransaction"] < 1 || s.Abandoned["sendTransaction"] < 1 {
			t.Fatalf("the slow answer was not hit: %s", s)
		}
	})

	t.Run("stale blockhash", func(t *testing.T) {
		bh, err := node.RPC().GetLatestBlockhash(ctx, rpc.CommitmentConfirmed)
		if err != nil {
			t.Fatal(err)
		}
		for {
			v, err := node.RPC().IsBlockhashValid(ctx, bh.Value.Blockhash, rpc.CommitmentConfirmed)
			if err != nil {
				t.Fatal(err)
			}
			if !v.Value {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		p.SetStaleBlockhash(&StaleBlockhash{Blockhash: bh.Value.Blockhash.String(), LastValidBlockHeight: bh.Value.LastValidBlockHeight, Every: 2})
		before := p.Stats()
		transferOnce(t)
		p.Clear()
		s := p.Stats().Sub(before)
		t.Log(s)
		if s.StaleServed < 1 || s.Refused < 1 {
			t.Fatalf("the stale blockhash was not served and refused: %s", s)
		}
	})
}
