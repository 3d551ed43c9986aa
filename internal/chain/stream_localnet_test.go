package chain

import (
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"

	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
)

// TestStreamProgramAccountKeysListsWhatTheNodeHas creates accounts owned by a fresh program id
// (the system program assigns any owner) with a version byte of 1 or 2, and streams the keys of
// the version-1 ones in small batches: the same keys as the whole-answer listing, none twice.
func TestStreamProgramAccountKeysListsWhatTheNodeHas(t *testing.T) {
	ln := localnettest.Start(t)
	ctx := testContext(t, 3*time.Minute)
	c := client(ln)
	payer := fundedKeypair(t, ctx, c, 100)
	owner := mustKeypair(t).PublicKey()
	const size, accounts, perTx = 16, 120, 5
	rent, err := c.MinimumBalanceForRentExemption(ctx, size)
	if err != nil {
		t.Fatal(err)
	}
	for start := 0; start < accounts; start += perTx {
		signers := []*Keypair{payer}
		var ixs []solana.Instruction
		for range perTx {
			kp := mustKeypair(t)
			signers = append(signers, kp)
			ixs = append(ixs, system.NewCreateAccountInstruction(rent, size, owner, payer.PublicKey(), kp.PublicKey()).Build())
		}
		if _, err := c.Send(ctx, ixs, signers...); err != nil {
			t.Fatalf("create accounts: %v", err)
		}
	}
	// Every account's data is zeros: filter on byte 0 == 0 matches them all, == 1 none.
	whole, err := c.ListProgramAccountKeys(ctx, owner, size, Memcmp{Offset: 0, Bytes: []byte{0}})
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != accounts {
		t.Fatalf("whole listing: %d keys, want %d", len(whole), accounts)
	}
	var streamed []solana.PublicKey
	batches := 0
	total, err := c.StreamProgramAccountKeys(ctx, owner, size, []Memcmp{{Offset: 0, Bytes: []byte{0}}}, 7, func(keys []solana.PublicKey) error {
		if len(keys) == 0 || len(keys) > 7 {
			t.Errorf("batch of %d keys, want 1..7", len(keys))
		}
		batches++
		streamed = append(streamed, keys...) // keys is reused after the call: copy
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total != accounts || len(streamed) != accounts || batches != (accounts+6)/7 {
		t.Fatalf("streamed %d keys (total %d) in %d batches, want %d in %d", len(streamed), total, batches, accounts, (accounts+6)/7)
	}
	sortKeys(whole)
	sortKeys(streamed)
	for i := range whole {
		if !whole[i].Equals(streamed[i]) {
			t.Fatalf("key %d: streamed %s, listed %s", i, streamed[i], whole[i])
		}
	}
	none, err := c.StreamProgramAccountKeys(ctx, owner, size, []Memcmp{{Offset: 0, Bytes: []byte{1}}}, 7, func([]solana.PublicKey) error {
		t.Error("a batch for a filter nothing matches")
		return nil
	})
	if err != nil || none != 0 {
		t.Fatalf("empty listing: %d keys, %v", none, err)
	}

	// The batch function's failure ends the listing at once, as it is, and is not retried.
	boom := errors.New("disk full")
	calls := 0
	_, err = c.StreamProgramAccountKeys(ctx, owner, size, nil, 10, func([]solana.PublicKey) error {
		calls++
		return boom
	})
	if !errors.Is(err, boom) || calls != 1 {
		t.Fatalf("batch failure: %v after %d calls, want %v after 1", err, calls, boom)
	}

}

func sortKeys(keys []solana.PublicKey) {
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
}
