package activities

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Activities holds the clients every activity uses; the worker registers one value of it.
type Activities struct {
	Chain *chain.Client
	Store *store.Store
	// Guardian signs and pays only the emergency stop's cancels: a drained fee payer cannot
	// disable it, and it is never spent on anyone's proposal.
	Guardian *chain.Keypair
	// FeePayer pays for everything else the worker sends (ExtendProgram's rent, execute,
	// migrations), and only for the multisigs the deployment serves. Members' keys never reach
	// the server side.
	FeePayer *chain.Keypair
	// MaxExtendRent bounds the rent FeePayer adds to one proposal's ProgramData (lamports).
	MaxExtendRent uint64
	Log           *slog.Logger
	// Webhooks posts notifications (internal/notify: signed, through the SSRF guard), retried
	// by the delivery workflow with WebhookRetry's backoff.
	Webhooks     *notify.Sender
	WebhookRetry WebhookRetry
}

// requireServed refuses to spend the fee payer on a multisig the operator does not serve (it
// may have been removed from the list after its workflow started).
func (a *Activities) requireServed(ctx context.Context, multisig string) error {
	served, err := a.Store.IsServed(ctx, multisig)
	if err != nil {
		return fmt.Errorf("check served list: %w", err)
	}
	if !served {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("multisig %s is not served by this deployment: the worker pays nothing for it", multisig),
			ErrTypeNotServed, nil)
	}
	return nil
}

var worker = store.Origin{Actor: "worker", Source: store.SourceWorker}

// heartbeatEvery is how often a sending activity tells Temporal it is alive while it waits for
// a confirmation, so a worker killed mid-send is noticed within the heartbeat timeout instead
// of the whole start-to-close timeout.
const heartbeatEvery = 5 * time.Second

// keepAlive heartbeats until the returned stop is called.
func keepAlive(ctx context.Context) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(heartbeatEvery)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

func pubkey(field, s string) (solana.PublicKey, error) {
	k, err := solana.PublicKeyFromBase58(s)
	if err != nil {
		return k, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s %q is not a public key", field, s), ErrTypeInvalidTransaction, err)
	}
	return k, nil
}

// classify marks errors the workflow must not retry: a rule of the program (deterministic)
// and a member-signed transaction whose blockhash expired (only the member can sign again).
func classify(what string, err error) error {
	if err == nil {
		return nil
	}
	var pe *chain.ProgramError
	if errors.As(err, &pe) {
		typ := ErrTypeProgram
		if pe.Name == "SystemPaused" {
			typ = ErrTypePaused
		}
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", what, err), typ, err)
	}
	if errors.Is(err, chain.ErrBlockhashExpired) {
		return temporal.NewNonRetryableApplicationError(
			what+": the member-signed transaction expired before it landed; sign a new one",
			ErrTypeInvalidTransaction, err)
	}
	var te *chain.TransactionError
	if errors.As(err, &te) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: %v", what, err), ErrTypeProgram, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// VerifyBuffer checks that the buffer's authority is the multisig's PDA and its ELF hash is the
// proposed one.
func (a *Activities) VerifyBuffer(ctx context.Context, in VerifyBufferInput) (VerifyBufferResult, error) {
	multisig, err := pubkey("multisig", in.Multisig)
	if err != nil {
		return VerifyBufferResult{}, err
	}
	buffer, err := pubkey("buffer", in.Buffer)
	if err != nil {
		return VerifyBufferResult{}, err
	}
	program, err := pubkey("target program", in.TargetProgram)
	if err != nil {
		return VerifyBufferResult{}, err
	}
	b, err := a.Chain.GetBuffer(ctx, buffer)
	if errors.Is(err, chain.ErrAccountNotFound) {
		return VerifyBufferResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("buffer %s does not exist", buffer), ErrTypeBufferMismatch, err)
	}
	if err != nil {
		return VerifyBufferResult{}, fmt.Errorf("read buffer %s: %w", buffer, err)
	}
	authority, _ := governor.FindAuthorityAddress(multisig)
	if b.Authority == nil || !b.Authority.Equals(authority) {
		return VerifyBufferResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("buffer %s authority is %v, not the multisig's authority PDA %s", buffer, b.Authority, authority),
			ErrTypeBufferMismatch, nil)
	}
	hash := b.Hash()
	if got := hex.EncodeToString(hash[:]); got != in.BufferHash {
		return VerifyBufferResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("buffer %s holds an ELF with hash %s, proposal says %s", buffer, got, in.BufferHash),
			ErrTypeBufferMismatch, nil)
	}
	pd, err := a.Chain.GetProgramData(ctx, program)
	if err != nil {
		return VerifyBufferResult{}, fmt.Errorf("read program data of %s: %w", program, err)
	}
	return VerifyBufferResult{
		ElfLen:              len(loader.TrimTrailingZeros(b.ELF)),
		ProgramDataCapacity: len(pd.ELF),
	}, nil
}

// GetProposalState reads the proposal, its multisig and the chain's clock.
func (a *Activities) GetProposalState(ctx context.Context, ref ProposalRef) (ChainProposal, error) {
	return a.chainProposal(ctx, ref)
}

func (a *Activities) chainProposal(ctx context.Context, ref ProposalRef) (ChainProposal, error) {
	cp, _, err := a.readProposal(ctx, ref)
	return cp, err
}

// readProposal reads the proposal, its multisig and the chain's clock once, and returns the
// decoded proposal too (nil when it does not exist) for callers that build instructions from it.
func (a *Activities) readProposal(ctx context.Context, ref ProposalRef) (ChainProposal, *governor.Proposal, error) {
	addr, err := pubkey("proposal", ref.Proposal)
	if err != nil {
		return ChainProposal{}, nil, err
	}
	msAddr, err := pubkey("multisig", ref.Multisig)
	if err != nil {
		return ChainProposal{}, nil, err
	}
	now, err := a.Chain.ChainTime(ctx)
	if err != nil {
		return ChainProposal{}, nil, fmt.Errorf("read chain clock: %w", err)
	}
	ms, err := a.Chain.GetMultisig(ctx, msAddr)
	if err != nil {
		return ChainProposal{}, nil, fmt.Errorf("read multisig %s: %w", msAddr, err)
	}
	cp := ChainProposal{
		Address: ref.Proposal, Multisig: ref.Multisig, Threshold: int(ms.Threshold),
		Guardian: ms.Guardian.String(), Paused: ms.IsPaused(now), ChainTime: time.Unix(now, 0).UTC(),
	}
	if cp.Paused && ms.PauseExpiresAt != math.MaxInt64 {
		cp.PauseLapsesAt = time.Unix(ms.PauseExpiresAt, 0).UTC()
	}
	for _, m := range ms.Members {
		cp.Members = append(cp.Members, m.String())
	}
	p, err := a.Chain.GetProposal(ctx, addr)
	if errors.Is(err, chain.ErrAccountNotFound) {
		return cp, nil, nil
	}
	if err != nil {
		return ChainProposal{}, nil, fmt.Errorf("read proposal %s: %w", addr, err)
	}
	cp.Exists = true
	cp.Index = p.Index
	cp.Proposer = p.Proposer.String()
	cp.TargetProgram = p.TargetProgram.String()
	cp.Buffer = p.Buffer.String()
	cp.BufferHash = hex.EncodeToString(p.BufferHash[:])
	cp.Status = statusName(p.Status)
	cp.HasMigration = p.Migration != nil
	cp.Kind = store.KindUpgrade
	if p.IsConfig() {
		cp.Kind = store.KindConfig
		cp.ReplacesGuardian = governor.ReplacesGuardian(p.Actions)
	}
	// Only an open proposal is stale: an executed or cancelled one is over anyway (the config
	// change that made the others stale is itself below the index).
	cp.Stale = ms.IsStale(p.Index) && (p.Status == governor.ProposalActive || p.Status == governor.ProposalApproved)
	for _, m := range p.Approvals {
		cp.Approvals = append(cp.Approvals, m.String())
	}
	if p.Eta != 0 {
		cp.Eta = time.Unix(p.Eta, 0).UTC()
	}
	cp.ExpiresAt = time.Unix(p.ExpiresAt, 0).UTC()
	if p.ExecuteBy != 0 {
		cp.ExecuteBy = time.Unix(p.ExecuteBy, 0).UTC()
	}
	return cp, p, nil
}

func statusName(s governor.ProposalStatus) string {
	switch s {
	case governor.ProposalActive:
		return "active"
	case governor.ProposalApproved:
		return "approved"
	case governor.ProposalExecuted:
		return "executed"
	case governor.ProposalCancelled:
		return "cancelled"
	}
	return s.String()
}

func decodeTx(raw []byte) (*solana.Transaction, error) {
	tx, err := solana.TransactionFromBytes(raw)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("transaction does not decode", ErrTypeInvalidTransaction, err)
	}
	return tx, nil
}

// SubmitProposal sends the member-signed propose transaction unless the proposal exists, and
// indexes the proposal.
func (a *Activities) SubmitProposal(ctx context.Context, in SubmitInput) (SubmitResult, error) {
	defer keepAlive(ctx)()
	cp, p, err := a.readProposal(ctx, in.ProposalRef)
	if err != nil {
		return SubmitResult{}, err
	}
	var sig string
	if !cp.Exists {
		if len(in.Tx) == 0 {
			return SubmitResult{}, temporal.NewNonRetryableApplicationError(
				"proposal is not on chain and no propose transaction was given", ErrTypeInvalidTransaction, nil)
		}
		tx, err := decodeTx(in.Tx)
		if err != nil {
			return SubmitResult{}, err
		}
		s, err := a.Chain.SendSigned(ctx, tx)
		if err != nil {
			return SubmitResult{}, classify("submit propose transaction", err)
		}
		sig = s.String()
		if cp, p, err = a.readProposal(ctx, in.ProposalRef); err != nil {
			return SubmitResult{}, err
		}
		if !cp.Exists {
			return SubmitResult{}, fmt.Errorf("propose transaction %s confirmed but proposal %s is not readable yet", sig, in.Proposal)
		}
	}
	row := store.Proposal{
		Address: in.Proposal, Multisig: in.Multisig, Index: cp.Index, TargetProgram: cp.TargetProgram,
		Buffer: cp.Buffer, BufferHash: cp.BufferHash, Proposer: cp.Proposer, Description: in.Description,
		Status: store.ProposalStatus(cp.Status), Approvals: len(cp.Approvals), Threshold: cp.Threshold,
		MigrationTargetVersion: in.MigrationTargetVersion, WorkflowID: in.WorkflowID, ProposeSignature: sig,
		Kind: cp.Kind,
	}
	if p.IsConfig() {
		if row.ConfigActions, err = json.Marshal(governor.ConfigActionsJSON(p.Actions)); err != nil {
			return SubmitResult{}, fmt.Errorf("encode config actions of %s: %w", in.Proposal, err)
		}
	}
	if !cp.Eta.IsZero() {
		eta := cp.Eta
		row.ETA = &eta
		row.ApprovedAt = &cp.ChainTime
	}
	actor := in.Member
	if actor == "" {
		actor = cp.Proposer
	}
	if _, err := a.Store.UpsertProposal(ctx, row, store.Origin{Actor: actor, Source: store.SourceWorker}); err != nil {
		return SubmitResult{}, fmt.Errorf("index proposal %s: %w", in.Proposal, err)
	}
	return SubmitResult{Signature: sig, Proposal: cp}, nil
}

// SubmitApproval sends a member-signed approve transaction unless the member already approved,
// and records the approval.
func (a *Activities) SubmitApproval(ctx context.Context, in SubmitInput) (SubmitResult, error) {
	defer keepAlive(ctx)()
	cp, err := a.chainProposal(ctx, in.ProposalRef)
	if err != nil {
		return SubmitResult{}, err
	}
	if !cp.Exists {
		return SubmitResult{}, temporal.NewNonRetryableApplicationError(
			"proposal "+in.Proposal+" is not on chain", ErrTypeInvalidTransaction, nil)
	}
	for _, m := range cp.Approvals {
		if m == in.Member {
			// Sent before a crash or straight to RPC: the indexer records its signature.
			return SubmitResult{Proposal: cp}, nil
		}
	}
	tx, err := decodeTx(in.Tx)
	if err != nil {
		return SubmitResult{}, err
	}
	s, err := a.Chain.SendSigned(ctx, tx)
	if err != nil {
		return SubmitResult{}, classify("submit approve transaction of "+in.Member, err)
	}
	if cp, err = a.chainProposal(ctx, in.ProposalRef); err != nil {
		return SubmitResult{}, err
	}
	origin := store.Origin{Actor: in.Member, Source: store.SourceWorker}
	if _, err := a.Store.RecordApproval(ctx, store.Approval{
		Proposal: in.Proposal, Member: in.Member, Signature: s.String(),
		ApprovedAt: cp.ChainTime, Approvals: len(cp.Approvals),
	}, origin); err != nil {
		return SubmitResult{}, fmt.Errorf("record approval of %s: %w", in.Member, err)
	}
	if cp.Status == "approved" {
		if _, err := a.Store.SetProposalStatus(ctx, in.Proposal, store.ProposalApproved, store.StatusChange{
			Signature: s.String(), At: cp.ChainTime, ETA: cp.Eta, Approvals: len(cp.Approvals),
		}, origin); err != nil {
			return SubmitResult{}, fmt.Errorf("index approval of %s: %w", in.Proposal, err)
		}
	}
	return SubmitResult{Signature: s.String(), Proposal: cp}, nil
}

// ExecuteUpgrade executes an approved, due proposal unless it is already executed. When the new
// ELF is larger than ProgramData, it extends ProgramData first (the loader's ExtendProgram,
// which the loader does not allow by CPI), paid by the fee payer up to MaxExtendRent.
func (a *Activities) ExecuteUpgrade(ctx context.Context, ref ProposalRef) (ExecuteResult, error) {
	defer keepAlive(ctx)()
	cp, p, err := a.readProposal(ctx, ref)
	if err != nil {
		return ExecuteResult{}, err
	}
	if done, res, err := a.executable(ctx, ref, cp, p); done || err != nil {
		return res, err
	}
	b, err := a.Chain.GetBuffer(ctx, p.Buffer)
	if err != nil {
		return ExecuteResult{}, fmt.Errorf("read buffer %s: %w", p.Buffer, err)
	}
	// The loader's Upgrade needs room for the buffer's whole data, padding included.
	ext, err := a.Chain.PlanExtension(ctx, a.FeePayer.PublicKey(), p.TargetProgram, len(b.ELF))
	if err != nil {
		return ExecuteResult{}, fmt.Errorf("plan program data extension: %w", err)
	}
	if ext != nil {
		if ext.RentLamports > a.MaxExtendRent {
			return ExecuteResult{}, a.refuseExtension(ctx, ref, p.TargetProgram, ext)
		}
		if err := a.Chain.SendExtension(ctx, a.FeePayer, p.TargetProgram, ext); err != nil {
			return ExecuteResult{}, classify("extend program data", err)
		}
		a.Log.Info("extended program data", "proposal", ref.Proposal, "program", p.TargetProgram,
			"bytes", ext.Instruction.AdditionalBytes, "rent_lamports", ext.RentLamports)
	}
	sig, err := a.sendExecute(ctx, ref, cp, governor.NewExecuteUpgradeInstructionFor(p, a.FeePayer.PublicKey()),
		"program", p.TargetProgram)
	if err != nil {
		return ExecuteResult{}, err
	}
	return ExecuteResult{Signature: sig, Extended: ext != nil}, nil
}

// executable says whether execution is over (done: already executed, with its signature when
// indexed) or must wait (a paused multisig, a multisig no longer served), before either execute
// activity sends anything.
func (a *Activities) executable(ctx context.Context, ref ProposalRef, cp ChainProposal, p *governor.Proposal) (done bool, res ExecuteResult, err error) {
	if cp.Status == "executed" {
		row, err := a.Store.GetProposal(ctx, ref.Proposal)
		if err == nil && row.ExecuteSignature != "" {
			return true, ExecuteResult{Signature: row.ExecuteSignature}, nil
		}
		return true, ExecuteResult{}, nil
	}
	if cp.Paused {
		return false, ExecuteResult{}, temporal.NewNonRetryableApplicationError("system is paused", ErrTypePaused, nil)
	}
	if p == nil {
		return false, ExecuteResult{}, fmt.Errorf("read proposal %s: %w", ref.Proposal, chain.ErrAccountNotFound)
	}
	if cp.Stale {
		return false, ExecuteResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("proposal %s is stale: a config change of the members or threshold executed after it was created", ref.Proposal),
			ErrTypeProgram, governor.ErrProposalStale)
	}
	return false, ExecuteResult{}, a.requireServed(ctx, ref.Multisig)
}

// sendExecute sends the proposal's execute instruction with the fee payer and indexes the
// execution. When another executor won the race (the chain has it executed) there is nothing
// left to do: no signature, no error.
func (a *Activities) sendExecute(ctx context.Context, ref ProposalRef, cp ChainProposal, ix governor.Instruction, logArgs ...any) (string, error) {
	sig, err := a.Chain.Send(ctx, []solana.Instruction{ix}, a.FeePayer)
	if err != nil {
		if after, rerr := a.chainProposal(ctx, ref); rerr == nil && after.Status == "executed" {
			return "", nil
		}
		return "", classify(strings.ReplaceAll(ix.Name(), "_", " "), err)
	}
	a.Log.Info("sent execute", append([]any{"proposal", ref.Proposal, "instruction", ix.Name(), "signature", sig}, logArgs...)...)
	now, _ := a.Chain.ChainTime(ctx)
	if _, err := a.Store.SetProposalStatus(ctx, ref.Proposal, store.ProposalExecuted, store.StatusChange{
		Signature: sig.String(), At: time.Unix(now, 0).UTC(), Approvals: len(cp.Approvals),
	}, store.Origin{Actor: a.FeePayer.PublicKey().String(), Source: store.SourceWorker}); err != nil {
		return "", fmt.Errorf("index execution of %s: %w", ref.Proposal, err)
	}
	return sig.String(), nil
}

// ExecuteConfig executes an approved, due config proposal unless it is already executed: the
// program applies its actions to the multisig (and hands off program authorities) at once.
func (a *Activities) ExecuteConfig(ctx context.Context, ref ProposalRef) (ExecuteResult, error) {
	defer keepAlive(ctx)()
	cp, p, err := a.readProposal(ctx, ref)
	if err != nil {
		return ExecuteResult{}, err
	}
	if done, res, err := a.executable(ctx, ref, cp, p); done || err != nil {
		return res, err
	}
	if !p.IsConfig() {
		return ExecuteResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("proposal %s upgrades a program; it is not a config proposal", ref.Proposal), ErrTypeProgram, nil)
	}
	sig, err := a.sendExecute(ctx, ref, cp, governor.NewExecuteConfigInstructionFor(p, a.FeePayer.PublicKey()),
		"actions", len(p.Actions))
	if err != nil {
		return ExecuteResult{}, err
	}
	return ExecuteResult{Signature: sig}, nil
}

// ActionExtendRefused records that the worker would not pay a ProgramData extension above its
// ceiling; the members extend the program themselves (ExtendProgram is permissionless).
const ActionExtendRefused = "proposal.extend_refused"

// refuseExtension audits an extension above the rent ceiling (once per size asked) and returns
// the error that tells the workflow to wait for the members to extend.
func (a *Activities) refuseExtension(ctx context.Context, ref ProposalRef, program solana.PublicKey, ext *chain.Extension) error {
	add := ext.Instruction.AdditionalBytes
	msg := fmt.Sprintf("ProgramData of %s must grow by %d bytes (rent %d lamports), above this worker's ceiling of %d lamports per proposal: "+
		"extend it yourself (`solana program extend %s %d`), then ask for execution again",
		program, add, ext.RentLamports, a.MaxExtendRent, program, add)
	page, err := a.Store.ListAudit(ctx, store.AuditFilter{Proposal: ref.Proposal, Action: ActionExtendRefused, Limit: 1})
	if err != nil {
		return fmt.Errorf("read earlier refusals: %w", err)
	}
	if len(page.Entries) == 0 || fmt.Sprint(page.Entries[0].Details["additional_bytes"]) != fmt.Sprint(add) {
		if _, err := a.Store.AppendAudit(ctx, store.AuditEntry{
			Actor: a.FeePayer.PublicKey().String(), Action: ActionExtendRefused, Proposal: ref.Proposal,
			Source: store.SourceWorker, Details: map[string]any{
				"program": program.String(), "additional_bytes": add, "rent_lamports": ext.RentLamports,
				"ceiling_lamports": a.MaxExtendRent,
			},
		}); err != nil {
			return fmt.Errorf("audit refused extension: %w", err)
		}
	}
	a.Log.Warn("extension above the rent ceiling refused", "proposal", ref.Proposal, "program", program,
		"bytes", add, "rent_lamports", ext.RentLamports, "ceiling_lamports", a.MaxExtendRent)
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeExtendRentCeiling, nil)
}

// stageOf maps a workflow step to the rollback stage the audit schema names.
func stageOf(step string) store.RollbackStage {
	switch step {
	case "verifying-buffer":
		return store.StageVerify
	case "proposing":
		return store.StagePropose
	case "collecting-approvals":
		return store.StageApprovals
	case "timelock", "paused":
		return store.StageTimelock
	case "executing":
		return store.StageExecute
	case "migrating":
		return store.StageMigration
	}
	return store.StageApprovals
}

// CancelOnChain is the emergency stop's compensation: the guardian cancels the proposal on
// chain (unless it already executed or was cancelled) and a rollback_events row records it.
func (a *Activities) CancelOnChain(ctx context.Context, in CancelInput) (CancelResult, error) {
	defer keepAlive(ctx)()
	addr, err := pubkey("proposal", in.Proposal)
	if err != nil {
		return CancelResult{}, err
	}
	ms, err := pubkey("multisig", in.Multisig)
	if err != nil {
		return CancelResult{}, err
	}
	cp, err := a.chainProposal(ctx, in.ProposalRef)
	if err != nil {
		return CancelResult{}, err
	}
	origin := store.Origin{Actor: a.Guardian.PublicKey().String(), Source: store.SourceWorker}
	stage := stageOf(in.Stage)
	res := CancelResult{}
	switch {
	case !cp.Exists:
		res.AlreadyFinished = "never-proposed"
	case cp.Status == "executed" || cp.Status == "cancelled":
		res.AlreadyFinished = cp.Status
	case cp.ReplacesGuardian:
		res.Refused = "the proposal replaces the guardian: the guardian cannot cancel it (members can, by threshold cancel votes)"
		a.Log.Warn("emergency stop of a guardian replacement: not cancelled on chain", "proposal", in.Proposal)
	default:
		ix := governor.NewCancelUpgradeInstruction(ms, addr, a.Guardian.PublicKey())
		sig, err := a.Chain.Send(ctx, []solana.Instruction{ix}, a.Guardian)
		if err != nil {
			return CancelResult{}, classify("guardian cancel", err)
		}
		res.Signature = sig.String()
		a.Log.Info("sent guardian cancel", "proposal", in.Proposal, "signature", res.Signature)
		if _, err := a.Store.SetProposalStatus(ctx, in.Proposal, store.ProposalCancelled, store.StatusChange{
			Signature: res.Signature, At: cp.ChainTime, Reason: in.Reason,
		}, origin); err != nil {
			return CancelResult{}, fmt.Errorf("index cancel of %s: %w", in.Proposal, err)
		}
	}
	// A stop during migration is recorded by the migration workflow itself (FinishJob), with
	// the account it stopped at.
	if res.Signature != "" {
		if _, err := a.Store.RecordRollback(ctx, store.RollbackEvent{
			Proposal: in.Proposal, Stage: stage, Reason: in.Reason, CancelSignature: res.Signature,
			WorkflowID: in.WorkflowID,
		}, origin); err != nil {
			return CancelResult{}, fmt.Errorf("record rollback of %s: %w", in.Proposal, err)
		}
	}
	return res, nil
}

// MarkApprovalExpired records an approved proposal that was not executed by eta + grace; the
// program refuses to execute it now.
func (a *Activities) MarkApprovalExpired(ctx context.Context, ref ProposalRef) error {
	if _, err := a.Store.SetProposalStatus(ctx, ref.Proposal, store.ProposalExpired, store.StatusChange{
		Reason: "approved, but not executed within its grace period after the eta",
	}, worker); err != nil {
		return fmt.Errorf("mark approval of %s expired: %w", ref.Proposal, err)
	}
	return nil
}

// MarkExpired records a proposal whose lifetime ended before it was approved.
func (a *Activities) MarkExpired(ctx context.Context, ref ProposalRef) error {
	if _, err := a.Store.SetProposalStatus(ctx, ref.Proposal, store.ProposalExpired, store.StatusChange{
		Reason: "lifetime ended before the threshold was reached",
	}, worker); err != nil {
		return fmt.Errorf("mark %s expired: %w", ref.Proposal, err)
	}
	return nil
}
