// Package counters creates, migrates and audits the governed counter's state accounts in bulk:
// what the benchmarks and fault drills need around a migration.
package counters

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/pipeline"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// StateLen is the size of a counter state account (program/examples/governed-counter).
const StateLen = 64

// Version byte values of a state account.
const (
	V1 = 1
	V2 = 2
)

// MaxTxSize is the largest serialized legacy transaction the network accepts.
const MaxTxSize = 1232

// Set is a range of counter accounts of one program, created with seeds on a base key.
type Set struct {
	Program solana.PublicKey
	Base    solana.PublicKey
	From    int // first seed index
	Keys    []solana.PublicKey
	Seeds   []string
}

// NewSet derives n account addresses of program for seeds c<From>..c<From+n-1> on base.
func NewSet(program, base solana.PublicKey, from, n int) (*Set, error) {
	s := &Set{Program: program, Base: base, From: from, Keys: make([]solana.PublicKey, n), Seeds: make([]string, n)}
	for i := range n {
		seed := fmt.Sprintf("c%d", from+i)
		key, err := solana.CreateWithSeed(base, seed, program)
		if err != nil {
			return nil, fmt.Errorf("derive counter %s: %w", seed, err)
		}
		s.Keys[i], s.Seeds[i] = key, seed
	}
	return s, nil
}

// Slice returns accounts [i, j) of the set as a set of its own.
func (s *Set) Slice(i, j int) *Set {
	return &Set{Program: s.Program, Base: s.Base, From: s.From + i, Keys: s.Keys[i:j], Seeds: s.Seeds[i:j]}
}

// createInstructions creates and initializes account i: create_account_with_seed (one
// signature, the base's) and v1's init.
func (s *Set) createInstructions(i int, rent uint64) []solana.Instruction {
	data := make([]byte, 9)
	data[0] = 0 // init
	binary.LittleEndian.PutUint64(data[1:], uint64(100+i%100))
	return []solana.Instruction{
		system.NewCreateAccountWithSeedInstruction(s.Base, s.Seeds[i], rent, StateLen, s.Program, s.Base, s.Keys[i], s.Base).Build(),
		solana.NewInstruction(s.Program, solana.AccountMetaSlice{
			solana.Meta(s.Keys[i]).WRITE(), solana.Meta(s.Base).SIGNER(),
		}, data),
	}
}

// CreateResult is how the accounts were created.
type CreateResult struct {
	Accounts     int
	PerTx        int
	Transactions int
	Elapsed      time.Duration
}

// Rate is accounts per second.
func (r CreateResult) Rate() float64 { return perSecond(r.Accounts, r.Elapsed) }

// Create creates and initializes every account of the set under v1, as many per transaction as
// fit, pipelined. payer must be the set's base.
func (s *Set) Create(ctx context.Context, c *chain.Client, payer *chain.Keypair, progress func(done int)) (CreateResult, error) {
	if !payer.PublicKey().Equals(s.Base) {
		return CreateResult{}, fmt.Errorf("create counters: payer %s is not the base %s", payer.PublicKey(), s.Base)
	}
	rent, err := c.MinimumBalanceForRentExemption(ctx, StateLen)
	if err != nil {
		return CreateResult{}, err
	}
	perTx := s.fitPerTx(rent)
	var batches [][]solana.Instruction
	for start := 0; start < len(s.Keys); start += perTx {
		var ixs []solana.Instruction
		for i := start; i < min(start+perTx, len(s.Keys)); i++ {
			ixs = append(ixs, s.createInstructions(i, rent)...)
		}
		batches = append(batches, ixs)
	}
	snd := &pipeline.Sender{Chain: c, Payer: payer}
	if progress != nil {
		snd.Progress = func(txs int) { progress(min(txs*perTx, len(s.Keys))) }
	}
	res, err := snd.Run(ctx, batches)
	out := CreateResult{Accounts: len(s.Keys), PerTx: perTx, Transactions: res.Transactions, Elapsed: res.Elapsed}
	if err != nil {
		return out, fmt.Errorf("create counters: %w", err)
	}
	if res.Failed > 0 {
		return out, fmt.Errorf("create counters: %d of %d transactions failed, first: %w", res.Failed, len(batches), res.FirstError)
	}
	return out, nil
}

// fitPerTx is how many accounts one creation transaction holds (the longest seed decides).
func (s *Set) fitPerTx(rent uint64) int {
	if len(s.Keys) == 0 {
		return 1
	}
	last := len(s.Keys) - 1
	best := 1
	for k := 1; k <= 32; k++ {
		var ixs []solana.Instruction
		for range k {
			ixs = append(ixs, s.createInstructions(last, rent)...)
		}
		// Distinct accounts cost 32 bytes each: stand-ins for the other k-1 keys.
		size := TxSize(ixs, s.Base) + 32*(k-1)
		if size > MaxTxSize {
			break
		}
		best = k
	}
	return best
}

// TxSize is the serialized size of a transaction of ixs paid by payer, with every signature.
func TxSize(ixs []solana.Instruction, payer solana.PublicKey) int {
	tx, err := solana.NewTransaction(ixs, solana.Hash{}, solana.TransactionPayer(payer))
	if err != nil {
		return 1 << 20
	}
	msg, err := tx.Message.MarshalBinary()
	if err != nil {
		return 1 << 20
	}
	sigs := int(tx.Message.Header.NumRequiredSignatures)
	return compactLen(sigs) + 64*sigs + len(msg)
}

// TxAccounts is the number of distinct accounts a transaction of ixs references, and how many
// of them sign.
func TxAccounts(ixs []solana.Instruction, payer solana.PublicKey) (accounts, signers int) {
	tx, err := solana.NewTransaction(ixs, solana.Hash{}, solana.TransactionPayer(payer))
	if err != nil {
		return 0, 0
	}
	return len(tx.Message.AccountKeys), int(tx.Message.Header.NumRequiredSignatures)
}

func compactLen(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 0x4000:
		return 2
	default:
		return 3
	}
}

// MigrateBatches splits the set into migrate_account instructions of perTx accounts.
func (s *Set) MigrateBatches(multisig, proposal, cranker solana.PublicKey, perTx int) [][]solana.Instruction {
	var out [][]solana.Instruction
	for start := 0; start < len(s.Keys); start += perTx {
		keys := s.Keys[start:min(start+perTx, len(s.Keys))]
		out = append(out, []solana.Instruction{governor.NewMigrateAccountInstruction(multisig, proposal, s.Program, cranker, keys)})
	}
	return out
}

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}
