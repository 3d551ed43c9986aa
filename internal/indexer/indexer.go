// Package indexer stores the governance program's events in the audit trail and the proposal
// index, so actions taken outside the API (a member sending straight to RPC with the CLI) are
// audited too, and tells the affected workflows that the chain changed.
package indexer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Stream names the cursor of the event stream in indexer_cursor.
const Stream = "events"

// Notifier tells a proposal's workflow that its on-chain state changed. The worker passes a
// Temporal signal; a nil Notifier only indexes.
type Notifier func(ctx context.Context, proposal string) error

// Indexer reads the program's transactions, newest first from RPC, and applies them oldest
// first. Applying an event twice changes nothing (rows are keyed by signature and action).
type Indexer struct {
	Chain   *chain.Client
	Store   *store.Store
	Program solana.PublicKey
	Notify  Notifier
	Log     *slog.Logger
	// PageSize bounds one getSignaturesForAddress call.
	PageSize int
}

var origin = store.Origin{Actor: "indexer", Source: store.SourceIndexer}

// Run polls every interval until ctx ends.
func (ix *Indexer) Run(ctx context.Context, interval time.Duration) {
	for {
		if n, err := ix.Poll(ctx); err != nil && ctx.Err() == nil {
			ix.Log.Warn("indexer poll failed; retrying", "error", err)
		} else if n > 0 {
			ix.Log.Info("indexed transactions", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

// Poll indexes every transaction since the stored cursor and returns how many it applied.
func (ix *Indexer) Poll(ctx context.Context) (int, error) {
	cur, err := ix.Store.GetCursor(ctx, ix.Program.String(), Stream)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("indexer: %w", err)
	}
	var until solana.Signature
	if cur.LastSignature != "" {
		if until, err = solana.SignatureFromBase58(cur.LastSignature); err != nil {
			return 0, fmt.Errorf("indexer: stored cursor %q: %w", cur.LastSignature, err)
		}
	}
	limit := ix.PageSize
	if limit <= 0 {
		limit = 1000
	}
	// Walk back from the newest signature to the cursor, page by page.
	var pending []*rpc.TransactionSignature
	var before solana.Signature
	for {
		opts := &rpc.GetSignaturesForAddressOpts{Limit: &limit, Until: until, Before: before, Commitment: rpc.CommitmentConfirmed}
		page, err := ix.Chain.RPC().GetSignaturesForAddressWithOpts(ctx, ix.Program, opts)
		if err != nil {
			return 0, fmt.Errorf("indexer: signatures of %s: %w", ix.Program, err)
		}
		pending = append(pending, page...)
		if len(page) < limit {
			break
		}
		before = page[len(page)-1].Signature
	}
	if len(pending) == 0 {
		return 0, nil
	}
	// Events of multisigs this deployment does not serve are not indexed: anyone can create a
	// multisig and fill the trail with it.
	list, err := ix.Store.ListServed(ctx)
	if err != nil {
		return 0, fmt.Errorf("indexer: %w", err)
	}
	served := make(map[solana.PublicKey]bool, len(list))
	for _, m := range list {
		if k, err := solana.PublicKeyFromBase58(m.Address); err == nil {
			served[k] = true
		}
	}
	applied := 0
	for i := len(pending) - 1; i >= 0; i-- {
		s := pending[i]
		if s.Err == nil {
			evs, err := ix.Chain.GetTransactionEvents(ctx, s.Signature)
			if err != nil {
				return applied, fmt.Errorf("indexer: %w", err)
			}
			if err := ix.apply(ctx, evs, served); err != nil {
				return applied, err
			}
		}
		if _, err := ix.Store.SaveCursor(ctx, store.Cursor{
			Program: ix.Program.String(), Stream: Stream, LastSignature: s.Signature.String(), LastSlot: s.Slot,
		}); err != nil {
			return applied, fmt.Errorf("indexer: %w", err)
		}
		applied++
	}
	return applied, nil
}

func (ix *Indexer) apply(ctx context.Context, evs *chain.TransactionEvents, served map[solana.PublicKey]bool) error {
	at := evs.BlockTime
	sig := evs.Signature.String()
	touched := map[string]bool{}
	for _, e := range evs.Events {
		if ms, ok := eventMultisig(e.Event); !ok || !served[ms] {
			continue
		}
		entry := store.AuditEntry{
			At: at, Action: "chain." + snake(e.EventName()), Signature: sig, Slot: evs.Slot,
			Source: store.SourceIndexer, Details: map[string]any{"event": e.Event},
		}
		var err error
		switch ev := e.Event.(type) {
		case *governor.MultisigInitialized:
			entry.Actor = ev.Multisig.String()
			_, err = ix.Store.RecordMultisigConfig(ctx, store.MultisigConfig{
				Multisig: ev.Multisig.String(), Signature: sig, Slot: evs.Slot, EffectiveAt: at,
				Members: keyStrings(ev.Members), Threshold: int(ev.Threshold), TimelockSeconds: ev.TimelockSeconds,
				ProposalLifetimeSeconds: ev.ProposalLifetimeSeconds, Guardian: ev.Guardian.String(),
			})
		case *governor.UpgradeCancelVoted:
			// A member's vote to cancel; threshold votes cancel (UpgradeCancelled follows).
			entry.Actor, entry.Proposal = ev.Member.String(), ev.Proposal.String()
		case *governor.PauseExtendVoted:
			entry.Actor = ev.Member.String()
		case *governor.ResumeVoted:
			entry.Actor = ev.Member.String()
		case *governor.ConfigProposed:
			entry.Actor, entry.Proposal = ev.Proposer.String(), ev.Proposal.String()
			entry.Details = map[string]any{"index": ev.Index, "actions": governor.ConfigActionsJSON(ev.Actions),
				"expires_at": time.Unix(ev.ExpiresAt, 0).UTC()}
			err = ix.configProposed(ctx, ev)
		case *governor.ConfigActionExecuted:
			entry.Actor, entry.Proposal = ev.Multisig.String(), ev.Proposal.String()
			entry.Details = map[string]any{"action": ev.Action.JSON()}
		case *governor.ConfigExecuted:
			entry.Actor, entry.Proposal = ev.Executor.String(), ev.Proposal.String()
			var stale []string
			stale, err = ix.configExecuted(ctx, ev, sig, evs.Slot)
			for _, p := range stale {
				touched[p] = true
			}
		case *governor.UpgradeProposed:
			entry.Actor, entry.Proposal = ev.Proposer.String(), ev.Proposal.String()
			err = ix.proposed(ctx, ev)
		case *governor.UpgradeApproved:
			entry.Actor, entry.Proposal = ev.Member.String(), ev.Proposal.String()
			err = ix.approved(ctx, ev, sig, evs.Slot, at)
		case *governor.UpgradeExecuted:
			entry.Actor, entry.Proposal = ev.Executor.String(), ev.Proposal.String()
			_, err = ix.Store.SetProposalStatus(ctx, ev.Proposal.String(), store.ProposalExecuted,
				store.StatusChange{Signature: sig, Slot: evs.Slot, At: time.Unix(ev.ExecutedAt, 0).UTC()}, origin)
		case *governor.UpgradeCancelled:
			entry.Actor, entry.Proposal = ev.CancelledBy.String(), ev.Proposal.String()
			_, err = ix.Store.SetProposalStatus(ctx, ev.Proposal.String(), store.ProposalCancelled,
				store.StatusChange{Signature: sig, Slot: evs.Slot, At: time.Unix(ev.CancelledAt, 0).UTC(),
					Reason: "cancelled on chain"}, origin)
		case *governor.AccountsMigrated:
			entry.Actor, entry.Proposal = "migration", ev.Proposal.String()
			entry.Details = map[string]any{"accounts": len(ev.Accounts), "target_program": ev.TargetProgram.String()}
		case *governor.SystemPaused:
			entry.Actor = ev.PausedBy.String()
		case *governor.SystemResumed:
			entry.Actor = ev.Multisig.String()
			// A resume sent straight to RPC: the paused workflows wait for a signal (or hours).
			var open []string
			open, err = ix.openProposals(ctx, ev.Multisig, math.MaxUint64)
			for _, p := range open {
				touched[p] = true
			}
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalidTransition) {
			return fmt.Errorf("indexer: apply %s of %s: %w", e.EventName(), sig, err)
		}
		if _, err := ix.Store.AppendAudit(ctx, entry); err != nil {
			return fmt.Errorf("indexer: %w", err)
		}
		// AccountsMigrated changes nothing a proposal workflow waits for; signalling it would
		// grow the proposal workflow's history with every migrated batch (a million accounts
		// would pass Temporal's history limit, measured by `make bench`).
		if _, migrated := e.Event.(*governor.AccountsMigrated); entry.Proposal != "" && !migrated {
			touched[entry.Proposal] = true
		}
	}
	if ix.Notify != nil {
		for p := range touched {
			if err := ix.Notify(ctx, p); err != nil {
				ix.Log.Debug("no workflow to notify", "proposal", p, "error", err)
			}
		}
	}
	return nil
}

// eventMultisig is the multisig an event belongs to.
func eventMultisig(ev any) (solana.PublicKey, bool) {
	switch ev := ev.(type) {
	case *governor.MultisigInitialized:
		return ev.Multisig, true
	case *governor.UpgradeProposed:
		return ev.Multisig, true
	case *governor.UpgradeApproved:
		return ev.Multisig, true
	case *governor.UpgradeExecuted:
		return ev.Multisig, true
	case *governor.UpgradeCancelled:
		return ev.Multisig, true
	case *governor.AccountsMigrated:
		return ev.Multisig, true
	case *governor.SystemPaused:
		return ev.Multisig, true
	case *governor.SystemResumed:
		return ev.Multisig, true
	case *governor.UpgradeCancelVoted:
		return ev.Multisig, true
	case *governor.PauseExtendVoted:
		return ev.Multisig, true
	case *governor.ResumeVoted:
		return ev.Multisig, true
	case *governor.ConfigProposed:
		return ev.Multisig, true
	case *governor.ConfigActionExecuted:
		return ev.Multisig, true
	case *governor.ConfigExecuted:
		return ev.Multisig, true
	}
	return solana.PublicKey{}, false
}

func keyStrings(keys []solana.PublicKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.String())
	}
	return out
}

// configProposed indexes a config proposal created outside the API.
func (ix *Indexer) configProposed(ctx context.Context, ev *governor.ConfigProposed) error {
	ms, err := ix.Chain.GetMultisig(ctx, ev.Multisig)
	if err != nil {
		return fmt.Errorf("read multisig %s: %w", ev.Multisig, err)
	}
	actions, err := json.Marshal(governor.ConfigActionsJSON(ev.Actions))
	if err != nil {
		return fmt.Errorf("encode config actions: %w", err)
	}
	_, err = ix.Store.UpsertProposal(ctx, store.Proposal{
		Address: ev.Proposal.String(), Multisig: ev.Multisig.String(), Index: ev.Index,
		TargetProgram: solana.SystemProgramID.String(), Buffer: solana.SystemProgramID.String(),
		BufferHash: hex.EncodeToString(make([]byte, 32)), Proposer: ev.Proposer.String(),
		Status: store.ProposalActive, Threshold: int(ms.Threshold), Kind: store.KindConfig, ConfigActions: actions,
	}, origin)
	return err
}

// configExecuted records the executed config proposal and the multisig's configuration from
// now on, and returns the open proposals it made stale: their workflows are told to look.
func (ix *Indexer) configExecuted(ctx context.Context, ev *governor.ConfigExecuted, sig string, slot uint64) ([]string, error) {
	at := time.Unix(ev.ExecutedAt, 0).UTC()
	if _, err := ix.Store.SetProposalStatus(ctx, ev.Proposal.String(), store.ProposalExecuted,
		store.StatusChange{Signature: sig, Slot: slot, At: at}, origin); err != nil &&
		!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalidTransition) {
		return nil, err
	}
	grace := ev.GraceSeconds
	if _, err := ix.Store.RecordMultisigConfig(ctx, store.MultisigConfig{
		Multisig: ev.Multisig.String(), Signature: sig, Slot: slot, Proposal: ev.Proposal.String(), EffectiveAt: at,
		Members: keyStrings(ev.Members), Threshold: int(ev.Threshold), TimelockSeconds: ev.TimelockSeconds,
		ProposalLifetimeSeconds: ev.ProposalLifetimeSeconds, GraceSeconds: &grace, Guardian: ev.Guardian.String(),
		StaleProposalIndex: ev.StaleProposalIndex,
	}); err != nil {
		return nil, err
	}
	return ix.openProposals(ctx, ev.Multisig, ev.StaleProposalIndex)
}

// openProposals are the indexed active and approved proposals of multisig with an index up to
// upTo: the workflows a change of the multisig concerns.
func (ix *Indexer) openProposals(ctx context.Context, multisig solana.PublicKey, upTo uint64) ([]string, error) {
	var out []string
	for _, status := range []store.ProposalStatus{store.ProposalActive, store.ProposalApproved} {
		page, err := ix.Store.ListProposals(ctx, store.ProposalFilter{Multisig: multisig.String(), Status: status, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, p := range page.Proposals {
			if p.Index <= upTo {
				out = append(out, p.Address)
			}
		}
	}
	return out, nil
}

// proposed indexes a proposal created outside the API (a proposal made through the API is
// already there; the upsert then changes nothing).
func (ix *Indexer) proposed(ctx context.Context, ev *governor.UpgradeProposed) error {
	ms, err := ix.Chain.GetMultisig(ctx, ev.Multisig)
	if err != nil {
		return fmt.Errorf("read multisig %s: %w", ev.Multisig, err)
	}
	row := store.Proposal{
		Address: ev.Proposal.String(), Multisig: ev.Multisig.String(), Index: ev.Index,
		TargetProgram: ev.TargetProgram.String(), Buffer: ev.Buffer.String(),
		BufferHash: hex.EncodeToString(ev.BufferHash[:]), Proposer: ev.Proposer.String(),
		Status: store.ProposalActive, Threshold: int(ms.Threshold),
	}
	if ev.MigrationTargetVersion != nil {
		v := int(*ev.MigrationTargetVersion)
		row.MigrationTargetVersion = &v
	}
	_, err = ix.Store.UpsertProposal(ctx, row, origin)
	return err
}

func (ix *Indexer) approved(ctx context.Context, ev *governor.UpgradeApproved, sig string, slot uint64, at time.Time) error {
	if _, err := ix.Store.RecordApproval(ctx, store.Approval{
		Proposal: ev.Proposal.String(), Member: ev.Member.String(), Signature: sig, Slot: slot,
		ApprovedAt: at, Approvals: int(ev.Approvals),
	}, store.Origin{Actor: ev.Member.String(), Source: store.SourceIndexer}); err != nil {
		return err
	}
	if ev.Eta == nil {
		return nil
	}
	_, err := ix.Store.SetProposalStatus(ctx, ev.Proposal.String(), store.ProposalApproved, store.StatusChange{
		Signature: sig, Slot: slot, At: at, ETA: time.Unix(*ev.Eta, 0).UTC(), Approvals: int(ev.Approvals),
	}, origin)
	return err
}

// Mismatch is one difference between the chain and the index.
type Mismatch struct {
	Proposal string
	Field    string
	Chain    string
	Index    string
}

// Reconcile compares every proposal of multisig on chain with its index row: the audit trail
// and the chain agree when it returns no mismatch.
func (ix *Indexer) Reconcile(ctx context.Context, multisig solana.PublicKey) ([]Mismatch, error) {
	onChain, err := ix.Chain.ListProposals(ctx, multisig)
	if err != nil {
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	var out []Mismatch
	for _, pa := range onChain {
		addr := pa.Address.String()
		row, err := ix.Store.GetProposal(ctx, addr)
		if errors.Is(err, store.ErrNotFound) {
			out = append(out, Mismatch{Proposal: addr, Field: "row", Chain: "present", Index: "missing"})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reconcile %s: %w", addr, err)
		}
		chainStatus := map[governor.ProposalStatus]store.ProposalStatus{
			governor.ProposalActive: store.ProposalActive, governor.ProposalApproved: store.ProposalApproved,
			governor.ProposalExecuted: store.ProposalExecuted, governor.ProposalCancelled: store.ProposalCancelled,
		}[pa.Proposal.Status]
		// An Active proposal past its lifetime is "expired" in the index and Active on chain.
		if row.Status != chainStatus && !(row.Status == store.ProposalExpired && chainStatus == store.ProposalActive) {
			out = append(out, Mismatch{Proposal: addr, Field: "status", Chain: string(chainStatus), Index: string(row.Status)})
		}
		if row.Approvals != len(pa.Proposal.Approvals) {
			out = append(out, Mismatch{Proposal: addr, Field: "approvals",
				Chain: fmt.Sprint(len(pa.Proposal.Approvals)), Index: fmt.Sprint(row.Approvals)})
		}
		if h := hex.EncodeToString(pa.Proposal.BufferHash[:]); row.BufferHash != h {
			out = append(out, Mismatch{Proposal: addr, Field: "buffer_hash", Chain: h, Index: row.BufferHash})
		}
	}
	return out, nil
}

// snake turns an event's Rust name into the audit action's form: UpgradeApproved becomes
// upgrade_approved.
func snake(name string) string {
	var b []byte
	for i, r := range name {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b = append(b, '_')
			}
			r += 'a' - 'A'
		}
		b = append(b, byte(r))
	}
	return string(b)
}
