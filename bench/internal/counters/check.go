package counters

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// The governed counter logs one of these per migrate call, in account order.
const (
	logMigrated = "governed-counter v2: migrated v1 -> v2"
	logNoop     = "governed-counter v2: already v2, nothing to migrate"
)

// Tally is what the chain says about a proposal and the migration of a set of accounts:
// each account's layout version now, and every transaction that names the proposal.
type Tally struct {
	Accounts                 int // in the set
	AtV1, AtV2, Other, Gone  int // layout version byte now (Gone: no such account)
	MigrateTxs, FailedTxs    int // migrate_account transactions that landed, and failed ones
	Executions               int // UpgradeExecuted events of the proposal
	Listed                   int // account listings in AccountsMigrated events
	Relisted                 int // accounts listed by more than one event: no-op re-sends
	MigratedOnce             int // accounts of the set moved v1 -> v2 by exactly one call
	MigratedNever            int // accounts of the set no call moved (still v1, or moved outside)
	MigratedTwice            int // accounts of the set moved more than once (impossible on chain)
	Foreign                  int // accounts in events that are not in the set
	LogMismatch              int // transactions whose logs did not pair up with their event
	ComputeUnits             uint64
	AccountsInMeteredTxs     int
	MinCUPerAcc, MaxCUPerAcc float64
	// bySignature lists the accounts each migrate transaction's event named.
	bySignature map[string]map[string]bool
}

// CUPerAccount is the mean compute units of a migrated account (getTransaction's
// meta.computeUnitsConsumed over the accounts of the transaction).
func (t Tally) CUPerAccount() float64 {
	if t.AccountsInMeteredTxs == 0 {
		return 0
	}
	return float64(t.ComputeUnits) / float64(t.AccountsInMeteredTxs)
}

// ExactlyOnce reports whether every account of the set is at v2 and was moved there by exactly
// one call, and nothing else was touched.
func (t Tally) ExactlyOnce() bool {
	return t.AtV1 == 0 && t.Other == 0 && t.Gone == 0 && t.AtV2 == t.Accounts &&
		t.MigratedOnce == t.Accounts && t.MigratedTwice == 0 && t.Foreign == 0 && t.LogMismatch == 0
}

func (t Tally) String() string {
	return fmt.Sprintf("%d accounts: v2 %d, v1 %d, other %d, gone %d; %d migrate txs (%d failed); "+
		"v1->v2 once %d, never %d, twice %d; %d listings, %d relisted (no-op re-sends); executions %d",
		t.Accounts, t.AtV2, t.AtV1, t.Other, t.Gone, t.MigrateTxs, t.FailedTxs,
		t.MigratedOnce, t.MigratedNever, t.MigratedTwice, t.Listed, t.Relisted, t.Executions)
}

// Audit reads the set's accounts and every transaction of the proposal.
func Audit(ctx context.Context, c *chain.Client, set *Set, proposal solana.PublicKey) (Tally, error) {
	t := Tally{Accounts: len(set.Keys), bySignature: map[string]map[string]bool{}}
	versions, err := Versions(ctx, c, set.Program)
	if err != nil {
		return t, err
	}
	inSet := make(map[string]bool, len(set.Keys))
	for _, k := range set.Keys {
		inSet[k.String()] = true
		v, ok := versions[k]
		switch {
		case !ok:
			t.Gone++
		case v == V1:
			t.AtV1++
		case v == V2:
			t.AtV2++
		default:
			t.Other++
		}
	}

	sigs, err := Signatures(ctx, c, proposal)
	if err != nil {
		return t, err
	}
	var (
		mu          sync.Mutex
		firstErr    error
		transitions = map[string]int{}
		listings    = map[string]int{}
	)
	work := make(chan solana.Signature)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for sig := range work {
				tx, err := readTransaction(ctx, c, sig)
				mu.Lock()
				if err != nil {
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					continue
				}
				if tx.failed {
					t.FailedTxs++
				}
				t.Executions += tx.executions
				if tx.migrated != nil {
					t.MigrateTxs++
					named := map[string]bool{}
					for i, acc := range tx.migrated {
						k := acc.String()
						named[k] = true
						listings[k]++
						t.Listed++
						if !inSet[k] {
							t.Foreign++
						}
						if len(tx.outcomes) == len(tx.migrated) && tx.outcomes[i] {
							transitions[k]++
						}
					}
					if len(tx.outcomes) != len(tx.migrated) {
						t.LogMismatch++
					}
					t.bySignature[sig.String()] = named
					if tx.cu != nil {
						t.ComputeUnits += *tx.cu
						t.AccountsInMeteredTxs += len(tx.migrated)
						per := float64(*tx.cu) / float64(len(tx.migrated))
						if t.MinCUPerAcc == 0 || per < t.MinCUPerAcc {
							t.MinCUPerAcc = per
						}
						t.MaxCUPerAcc = max(t.MaxCUPerAcc, per)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range sigs {
		work <- s
	}
	close(work)
	wg.Wait()
	if firstErr != nil {
		return t, firstErr
	}
	for _, n := range listings {
		if n > 1 {
			t.Relisted++
		}
	}
	for _, k := range set.Keys {
		switch transitions[k.String()] {
		case 0:
			t.MigratedNever++
		case 1:
			t.MigratedOnce++
		default:
			t.MigratedTwice++
		}
	}
	return t, nil
}

// Versions reads the layout version byte of every state account of program.
func Versions(ctx context.Context, c *chain.Client, program solana.PublicKey) (map[solana.PublicKey]byte, error) {
	zero, one := uint64(0), uint64(1)
	res, err := c.RPC().GetProgramAccountsWithOpts(ctx, program, &rpc.GetProgramAccountsOpts{
		Commitment: rpc.CommitmentConfirmed, Encoding: solana.EncodingBase64,
		Filters:   []rpc.RPCFilter{{DataSize: StateLen}},
		DataSlice: &rpc.DataSlice{Offset: &zero, Length: &one},
	})
	if err != nil {
		return nil, fmt.Errorf("versions of %s's accounts: %w", program, err)
	}
	out := make(map[solana.PublicKey]byte, len(res))
	for _, a := range res {
		if a == nil || a.Account == nil {
			continue
		}
		if data := a.Account.Data.GetBinary(); len(data) > 0 {
			out[a.Pubkey] = data[0]
		} else {
			out[a.Pubkey] = 0
		}
	}
	return out, nil
}

// Signatures lists every transaction that names account, newest first.
func Signatures(ctx context.Context, c *chain.Client, account solana.PublicKey) ([]solana.Signature, error) {
	limit := 1000
	var out []solana.Signature
	var before solana.Signature
	for {
		page, err := c.RPC().GetSignaturesForAddressWithOpts(ctx, account, &rpc.GetSignaturesForAddressOpts{
			Limit: &limit, Before: before, Commitment: rpc.CommitmentConfirmed,
		})
		if err != nil {
			return nil, fmt.Errorf("signatures of %s: %w", account, err)
		}
		for _, s := range page {
			out = append(out, s.Signature)
		}
		if len(page) < limit {
			return out, nil
		}
		before = page[len(page)-1].Signature
	}
}

type landedTx struct {
	failed     bool
	executions int
	migrated   []solana.PublicKey // nil: not a migrate_account transaction
	outcomes   []bool             // per migrate call, in order: moved v1 -> v2 (false: no-op)
	cu         *uint64
}

func readTransaction(ctx context.Context, c *chain.Client, sig solana.Signature) (landedTx, error) {
	version := uint64(0)
	var res *rpc.GetTransactionResult
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		res, err = c.RPC().GetTransaction(ctx, sig, &rpc.GetTransactionOpts{
			Encoding: solana.EncodingBase64, Commitment: rpc.CommitmentConfirmed, MaxSupportedTransactionVersion: &version,
		})
		if err == nil || ctx.Err() != nil || errors.Is(err, rpc.ErrNotFound) {
			break
		}
	}
	if err != nil {
		return landedTx{}, fmt.Errorf("get transaction %s: %w", sig, err)
	}
	if res.Meta == nil || res.Transaction == nil {
		return landedTx{}, fmt.Errorf("get transaction %s: no meta", sig)
	}
	out := landedTx{failed: res.Meta.Err != nil, cu: res.Meta.ComputeUnitsConsumed}
	if out.failed {
		return out, nil
	}
	tx, err := res.Transaction.GetTransaction()
	if err != nil {
		return out, fmt.Errorf("decode transaction %s: %w", sig, err)
	}
	keys := append(solana.PublicKeySlice{}, tx.Message.AccountKeys...)
	keys = append(keys, res.Meta.LoadedAddresses.Writable...)
	keys = append(keys, res.Meta.LoadedAddresses.ReadOnly...)
	for _, inner := range res.Meta.InnerInstructions {
		for _, ci := range inner.Instructions {
			if int(ci.ProgramIDIndex) >= len(keys) || !keys[ci.ProgramIDIndex].Equals(governor.ProgramID) ||
				!governor.IsEventInstruction(ci.Data) {
				continue
			}
			ev, err := governor.DecodeEvent(ci.Data)
			if err != nil {
				return out, fmt.Errorf("transaction %s: %w", sig, err)
			}
			switch e := ev.(type) {
			case *governor.AccountsMigrated:
				out.migrated = append(out.migrated, e.Accounts...)
			case *governor.UpgradeExecuted:
				out.executions++
			}
		}
	}
	if out.migrated != nil {
		for _, line := range res.Meta.LogMessages {
			switch {
			case strings.HasSuffix(line, logMigrated):
				out.outcomes = append(out.outcomes, true)
			case strings.HasSuffix(line, logNoop):
				out.outcomes = append(out.outcomes, false)
			}
		}
	}
	return out, nil
}

// Rows is what account_migrations says about a job, checked against the chain.
type Rows struct {
	Total, Migrated, Pending, Failed, Skipped int
	// Unconfirmed rows name a signature whose AccountsMigrated event does not list the account.
	Unconfirmed int
	// Missing counts accounts of the set the job has no row for; Foreign rows not in the set.
	Missing, Foreign int
}

// ExactlyOnce reports whether every account of the set has one row, migrated, by a
// transaction whose event names it.
func (r Rows) ExactlyOnce(set *Set) bool {
	return r.Total == len(set.Keys) && r.Migrated == r.Total && r.Unconfirmed == 0 && r.Missing == 0 && r.Foreign == 0
}

func (r Rows) String() string {
	return fmt.Sprintf("%d rows: migrated %d, pending %d, failed %d, skipped %d; %d not confirmed by their "+
		"transaction's event, %d accounts without a row, %d rows outside the set",
		r.Total, r.Migrated, r.Pending, r.Failed, r.Skipped, r.Unconfirmed, r.Missing, r.Foreign)
}

// CheckRows pages through the job's rows (keyset, 10,000 at a time) and checks each against the
// chain's events gathered by Audit. A row is keyed by (job, account), so an account has at most one.
func CheckRows(ctx context.Context, st *store.Store, job string, set *Set, t Tally) (Rows, error) {
	var r Rows
	inSet := make(map[string]bool, len(set.Keys))
	for _, k := range set.Keys {
		inSet[k.String()] = true
	}
	seen := make(map[string]bool, len(set.Keys))
	after := ""
	for {
		rows, err := st.ListAccountMigrations(ctx, job, store.AccountFilter{After: after, Limit: 10000})
		if err != nil {
			return r, err
		}
		for _, row := range rows {
			r.Total++
			seen[row.Account] = true
			if !inSet[row.Account] {
				r.Foreign++
			}
			switch row.Status {
			case store.AccountMigrated:
				r.Migrated++
				if !t.bySignature[row.Signature][row.Account] {
					r.Unconfirmed++
				}
			case store.AccountPending:
				r.Pending++
			case store.AccountFailed:
				r.Failed++
			case store.AccountSkipped:
				r.Skipped++
			}
		}
		if len(rows) < 10000 {
			break
		}
		after = rows[len(rows)-1].Account
	}
	for k := range inSet {
		if !seen[k] {
			r.Missing++
		}
	}
	return r, nil
}
