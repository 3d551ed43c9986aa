package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// Audit actions the API appends. Where the API itself saw an on-chain effect confirmed (an
// approval through the workflow's update, a cancel, pause or resume it submitted) it uses the
// action the workflow's activities and the indexer use for that effect, so the
// (signature, action) key makes whichever comes second a no-op. Where the effect is still to
// come in a workflow, it records the request under its own action.
const (
	ActionProposalSubmitted  = "proposal.submitted"
	ActionStopRequested      = "proposal.stop_requested"
	ActionExecuteRequested   = "proposal.execute_requested"
	ActionMigrationRequested = "migration.requested"
	// ActionCancelSubmitted records a member's or the guardian's cancel sent through the API,
	// with the reason they gave: the indexer records the same cancel as proposal.cancelled
	// from the chain, and whichever came first would otherwise drop the other's reason.
	ActionCancelSubmitted = "proposal.cancel_submitted"
	ActionSystemPaused    = "system.paused"
	ActionSystemResumed   = "system.resumed"
	// ActionResumeVoted is a member's resume vote that did not reach the threshold yet.
	ActionResumeVoted = "system.resume_voted"
)

// audit appends the row of an accepted request; a row with the same signature and action
// already there (a retry, or the activity that wrote it first) is left alone.
func (s *Server) audit(c *gin.Context, e store.AuditEntry) error {
	e.Source = store.SourceAPI
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details["request_id"] = c.GetString(ctxRequestID)
	if _, err := s.store.AppendAudit(c.Request.Context(), e); err != nil {
		return fmt.Errorf("audit %s: %w", e.Action, err)
	}
	return nil
}

// MigrationPlanBody is the migration a proposal declares, as the MigrationWorkflow runs it.
type MigrationPlanBody struct {
	TargetVersion *int   `json:"target_version"`
	FromVersion   *int   `json:"from_version"`
	DataSize      *int64 `json:"data_size"`
	VersionOffset *int64 `json:"version_offset"`
}

// planMismatch checks a plan given in a request against the plan signed on chain, naming the
// first field that differs.
func planMismatch(field string, p, signed activities.MigrationPlan) error {
	for _, d := range []struct {
		name      string
		got, want uint64
	}{
		{"target_version", uint64(p.TargetVersion), uint64(signed.TargetVersion)},
		{"from_version", uint64(p.FromVersion), uint64(signed.FromVersion)},
		{"data_size", p.DataSize, signed.DataSize},
		{"version_offset", uint64(p.VersionOffset), uint64(signed.VersionOffset)},
	} {
		if d.got != d.want {
			return badRequest(CodeMigrationMismatch, field+"."+d.name, "the signed plan says %s %d, not %d", d.name, d.want, d.got)
		}
	}
	return nil
}

// maxAccountSize is the largest Solana account (10 MiB).
const maxAccountSize = 10 << 20

func (b *MigrationPlanBody) plan(field string) (activities.MigrationPlan, error) {
	if b.TargetVersion == nil {
		return activities.MigrationPlan{}, badRequest(CodeMissingField, field+".target_version", "target_version is required")
	}
	if b.FromVersion == nil {
		return activities.MigrationPlan{}, badRequest(CodeMissingField, field+".from_version", "from_version is required")
	}
	if *b.TargetVersion < 1 || *b.TargetVersion > 255 {
		return activities.MigrationPlan{}, invalidField(field+".target_version", "want 1 to 255")
	}
	if *b.FromVersion < 0 || *b.FromVersion > 255 || *b.FromVersion == *b.TargetVersion {
		return activities.MigrationPlan{}, invalidField(field+".from_version", "want 0 to 255, other than target_version")
	}
	p := activities.MigrationPlan{TargetVersion: uint8(*b.TargetVersion), FromVersion: uint8(*b.FromVersion)}
	if b.DataSize != nil {
		if *b.DataSize < 0 || *b.DataSize > maxAccountSize {
			return activities.MigrationPlan{}, invalidField(field+".data_size", "want 0 (any size) to %d bytes", maxAccountSize)
		}
		p.DataSize = uint64(*b.DataSize)
	}
	if b.VersionOffset != nil {
		if *b.VersionOffset < 0 || *b.VersionOffset > maxAccountSize-1 ||
			(p.DataSize > 0 && uint64(*b.VersionOffset) >= p.DataSize) {
			return activities.MigrationPlan{}, invalidField(field+".version_offset", "want an offset inside the account's data")
		}
		p.VersionOffset = uint32(*b.VersionOffset)
	}
	return p, nil
}

type createProposalBody struct {
	Transaction string             `json:"transaction"`
	Description *string            `json:"description"`
	Migration   *MigrationPlanBody `json:"migration"`
}

// CreateProposalResponse answers POST /proposals.
type CreateProposalResponse struct {
	Proposal   string `json:"proposal"`
	Multisig   string `json:"multisig"`
	Signature  string `json:"signature"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Created is false when the workflow already existed (a retried request).
	Created bool `json:"created"`
}

func (s *Server) createProposal(c *gin.Context) {
	ctx := c.Request.Context()
	var body createProposalBody
	if err := bindJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	tx, err := parseSignedTx(body.Transaction, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	if cfg, ok := tx.ix.(*governor.ProposeConfig); ok {
		s.createConfigProposal(c, body, tx, cfg)
		return
	}
	ix, err := expectInstruction[*governor.ProposeUpgrade](tx, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	description := ix.Args.Description
	if body.Description != nil && *body.Description != description {
		respond(c, invalidField("description", "differs from the description the transaction proposes (%q)", description))
		return
	}
	// The migration is the one the members signed: its parameters are in the propose
	// instruction (issue #16 s3); a plan in the body, when given, must say the same.
	plan := activities.PlanOf(ix.Args.Migration)
	if m := ix.Args.Migration; m != nil && !m.Consistent() {
		respond(c, badRequest(CodeMigrationMismatch, "transaction",
			"the signed migration plan is inconsistent (from_version %d, target_version %d, version_offset %d, data_size %d): the program refuses it",
			m.FromVersion, m.TargetVersion, m.VersionOffset, m.DataSize))
		return
	}
	if body.Migration != nil {
		if plan == nil {
			respond(c, badRequest(CodeMigrationMismatch, "migration", "the transaction declares no migration"))
			return
		}
		given, err := body.Migration.plan("migration")
		if err != nil {
			respond(c, err)
			return
		}
		if err := planMismatch("migration", given, *plan); err != nil {
			respond(c, err)
			return
		}
	}
	if authority, _ := governor.FindAuthorityAddress(ix.Multisig); !ix.Authority.Equals(authority) {
		respond(c, badRequest(CodeWrongMultisig, "transaction", "authority %s is not the multisig's authority PDA %s", ix.Authority, authority))
		return
	}
	if pd := loader.FindProgramDataAddress(ix.TargetProgram); !ix.ProgramData.Equals(pd) {
		respond(c, badRequest(CodeMalformedTx, "transaction", "program_data %s is not %s's ProgramData %s", ix.ProgramData, ix.TargetProgram, pd))
		return
	}

	ms, err := s.governedMultisig(ctx, ix.Multisig, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, ix.Proposer, false, "transaction"); err != nil {
		respond(c, err)
		return
	}
	hash := hex.EncodeToString(ix.Args.BufferHash[:])
	s.startProposal(c, proposalStart{
		tx: tx, multisig: ix.Multisig, proposal: ix.Proposal, proposer: ix.Proposer, ms: ms,
		checkNew: func(ctx context.Context) error { return s.verifyProposedBuffer(ctx, ix) },
		matchesChain: func(p *governor.Proposal) bool {
			return !p.IsConfig() && p.Proposer.Equals(ix.Proposer) && p.Buffer.Equals(ix.Buffer) &&
				p.BufferHash == ix.Args.BufferHash && p.TargetProgram.Equals(ix.TargetProgram)
		},
		summary: fmt.Sprintf("Upgrade %s to %s", ix.TargetProgram, hash),
		attrs:   []temporal.SearchAttributeUpdate{workflows.SAProgram.ValueSet(ix.TargetProgram.String())},
		input: workflows.ProposalInput{
			Proposal: ix.Proposal.String(), Multisig: ix.Multisig.String(), TargetProgram: ix.TargetProgram.String(),
			Buffer: ix.Buffer.String(), BufferHash: hash, Proposer: ix.Proposer.String(),
			Description: description, ProposeTx: tx.raw, Migration: plan,
		},
		details: map[string]any{"program": ix.TargetProgram.String(), "buffer": ix.Buffer.String(), "buffer_hash": hash},
	})
}

// proposalStart is what POST /proposals needs to start a proposal's workflow, whatever its
// kind.
type proposalStart struct {
	tx                           *signedTx
	multisig, proposal, proposer solana.PublicKey
	ms                           *governor.Multisig
	// checkNew runs when the proposal is the multisig's next: what the program will check when
	// the transaction lands, so a transaction that would fail there starts nothing.
	checkNew func(context.Context) error
	// matchesChain says a proposal already on chain at the address is this one (a retry).
	matchesChain func(*governor.Proposal) bool
	summary      string
	attrs        []temporal.SearchAttributeUpdate
	input        workflows.ProposalInput
	details      map[string]any
}

// startProposal starts the proposal's workflow (or finds it started: a retry answers 200),
// audits the submission and answers.
func (s *Server) startProposal(c *gin.Context, p proposalStart) {
	ctx := c.Request.Context()
	wid := workflows.ProposalWorkflowID(p.proposal.String())
	reuse := enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
	if next, _ := governor.FindProposalAddress(p.multisig, p.ms.ProposalIndex+1); !p.proposal.Equals(next) {
		// Not the next proposal: acceptable only as a retry of one already proposed or started.
		if err := s.checkAlreadyProposed(ctx, p, wid); err != nil {
			respond(c, err)
			return
		}
	} else {
		// The next proposal is not on chain. A run that proposed it and closed (its member's
		// transaction expired, or it was stopped) never landed it: it must not hold the
		// multisig's next index, so a new transaction for the same address starts anew.
		if err := p.checkNew(ctx); err != nil {
			respond(c, err)
			return
		}
		d, err := s.describe(ctx, wid)
		if err != nil {
			respond(c, err)
			return
		}
		if d != nil && !isRunning(d) {
			reuse = enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
		}
	}

	runID, created, err := s.start(ctx, client.StartWorkflowOptions{
		ID:                    wid,
		TaskQueue:             s.cfg.TaskQueue,
		WorkflowIDReusePolicy: reuse,
		StaticSummary:         p.summary,
		TypedSearchAttributes: temporal.NewSearchAttributes(append(p.attrs,
			workflows.SAMultisig.ValueSet(p.multisig.String()),
			workflows.SAStatus.ValueSet("pending"),
		)...),
	}, workflows.UpgradeProposalWorkflow, p.input)
	if err != nil {
		respond(c, err)
		return
	}
	if created {
		details := map[string]any{"workflow_id": wid, "run_id": runID, "multisig": p.multisig.String()}
		maps.Copy(details, p.details)
		err = s.audit(c, store.AuditEntry{
			Actor: p.proposer.String(), Action: ActionProposalSubmitted, Proposal: p.proposal.String(),
			Signature: p.tx.SignatureString(), Details: details,
		})
		if err != nil {
			respond(c, err)
			return
		}
	}
	status := http.StatusCreated
	if !created {
		status = http.StatusOK
	}
	c.JSON(status, CreateProposalResponse{
		Proposal: p.proposal.String(), Multisig: p.multisig.String(), Signature: p.tx.SignatureString(),
		WorkflowID: wid, RunID: runID, Created: created,
	})
}

// verifyProposedBuffer checks, before anything is written or started, what the program checks
// when the propose transaction lands: the buffer is a loader buffer owned by the multisig's
// authority PDA, holding an ELF whose hash is the proposed one. A transaction built by hand that
// would fail there is refused here, naming the buffer.
func (s *Server) verifyProposedBuffer(ctx context.Context, ix *governor.ProposeUpgrade) error {
	buf, err := s.chain.GetBuffer(ctx, ix.Buffer)
	if err != nil {
		return chainReadError(err, "transaction", "buffer %s", ix.Buffer)
	}
	if authority, _ := governor.FindAuthorityAddress(ix.Multisig); buf.Authority == nil || !buf.Authority.Equals(authority) {
		return newError(http.StatusUnprocessableEntity, CodeBufferMismatch, "transaction",
			"buffer %s's authority is %v, not the multisig's authority PDA %s (solana program set-buffer-authority)",
			ix.Buffer, buf.Authority, authority)
	}
	elf := loader.TrimTrailingZeros(buf.ELF)
	if len(elf) < 4 || string(elf[:4]) != "\x7fELF" {
		return newError(http.StatusUnprocessableEntity, CodeBufferMismatch, "transaction", "buffer %s holds no ELF", ix.Buffer)
	}
	if got := loader.ELFHash(elf); got != ix.Args.BufferHash {
		return newError(http.StatusUnprocessableEntity, CodeBufferMismatch, "transaction",
			"buffer %s holds an ELF with hash %x; the transaction proposes %x", ix.Buffer, got, ix.Args.BufferHash)
	}
	return nil
}

// checkAlreadyProposed accepts a propose transaction for a proposal that is not the
// multisig's next one only when it is already on chain as this transaction proposes it, or
// its workflow already exists: a retry. Anything else cannot land.
func (s *Server) checkAlreadyProposed(ctx context.Context, ps proposalStart, wid string) error {
	d, err := s.describe(ctx, wid)
	if err != nil {
		return err
	}
	if d != nil {
		return nil
	}
	p, err := s.chain.GetProposal(ctx, ps.proposal)
	if err != nil && !errors.Is(err, chain.ErrAccountNotFound) {
		return err
	}
	if err == nil && p.Multisig.Equals(ps.multisig) && ps.matchesChain(p) {
		return nil
	}
	return newError(http.StatusConflict, CodeStaleProposalIndex, "transaction",
		"proposal %s is not the multisig's next proposal; build the transaction again (POST /tx/propose or /tx/propose-config)", ps.proposal)
}

// chainReadError says which account a failed read was about.
func chainReadError(err error, field, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	switch {
	case errors.Is(err, chain.ErrAccountNotFound):
		return newError(http.StatusNotFound, CodeAccountNotFound, field, "%s does not exist on chain", what)
	case errors.Is(err, governor.ErrWrongAccount):
		return badRequest(CodeWrongAccount, field, "%s is not a governor account of that type", what)
	}
	return fmt.Errorf("read %s: %w", what, err)
}

// ProposalListResponse is one page of the index.
type ProposalListResponse struct {
	Proposals []ProposalView `json:"proposals"`
	Total     int            `json:"total"`
	Limit     int            `json:"limit"`
	Offset    int            `json:"offset"`
	// NextOffset is the offset of the next page; null on the last page.
	NextOffset *int `json:"next_offset"`
}

// StatusPending is the status shown for a proposal only its workflow knows yet.
const StatusPending = "pending"

func (s *Server) listProposals(c *gin.Context) {
	var f store.ProposalFilter
	if st := c.Query("status"); st != "" {
		if !slices.Contains(lifecycle.Indexed, lifecycle.Status(st)) {
			respond(c, invalidField("status", "want one of active, approved, executed, cancelled, expired"))
			return
		}
		f.Status = store.ProposalStatus(st)
	}
	var err error
	if f.TargetProgram, err = queryPubkey(c, "program"); err != nil {
		respond(c, err)
		return
	}
	if f.Multisig, err = queryPubkey(c, "multisig"); err != nil {
		respond(c, err)
		return
	}
	if f.Limit, err = queryInt(c, "limit", 50, 1, 500); err != nil {
		respond(c, err)
		return
	}
	if f.Offset, err = queryInt(c, "offset", 0, 0, 1<<30); err != nil {
		respond(c, err)
		return
	}
	key := fmt.Sprintf("list|%s|%s|%s|%d|%d", f.Status, f.TargetProgram, f.Multisig, f.Limit, f.Offset)
	s.cache.serve(c, "/proposals", key, s.limits.ReadTimeout, func(ctx context.Context) (any, time.Duration, error) {
		page, err := s.store.ListProposals(ctx, f)
		if err != nil {
			return nil, 0, err
		}
		out := ProposalListResponse{Proposals: []ProposalView{}, Total: page.Total, Limit: f.Limit, Offset: f.Offset}
		// A proposal made stale by a later config change: its multisig's latest configuration
		// in the index says up to which index.
		staleUpTo := map[string]uint64{}
		for _, p := range page.Proposals {
			v := proposalFromStore(p)
			if v.Status == string(lifecycle.Active) || v.Status == string(lifecycle.Approved) {
				upTo, seen := staleUpTo[p.Multisig]
				if !seen {
					cfgs, err := s.store.ListMultisigConfigs(ctx, p.Multisig, 1)
					if err != nil {
						return nil, 0, err
					}
					if len(cfgs) > 0 {
						upTo = cfgs[0].StaleProposalIndex
					}
					staleUpTo[p.Multisig] = upTo
				}
				if p.Index <= upTo {
					v.Stale, v.StaleReason = true, lifecycle.StaleReason
				}
			}
			out.Proposals = append(out.Proposals, v)
		}
		if next := f.Offset + len(page.Proposals); next < page.Total {
			out.NextOffset = &next
		}
		// The index alone answers a page: every change to it empties the cache.
		return out, s.limits.Cache.Settled, nil
	})
}

// ProposalDetailResponse is everything known about one proposal.
type ProposalDetailResponse struct {
	Proposal ProposalView `json:"proposal"`
	// Source says where Proposal was read: "chain" (the truth), "index" (the chain has no
	// such account) or "workflow" (neither has it yet: right after POST /proposals; the
	// proposal then shows only its address and status "pending").
	Source string `json:"source"`
	// Paused is the multisig's pause flag (chain source only).
	Paused          *bool          `json:"paused"`
	Indexed         *ProposalView  `json:"indexed"`
	ApprovalHistory []ApprovalView `json:"approval_history"`
	Workflow        *WorkflowView  `json:"workflow"`
}

func (s *Server) getProposal(c *gin.Context) {
	addr, err := pathPubkey(c)
	if err != nil {
		respond(c, err)
		return
	}
	s.cache.serve(c, "/proposals/:id", "detail|"+addr.String(), s.limits.ReadTimeout, func(ctx context.Context) (any, time.Duration, error) {
		out, err := s.proposalDetail(ctx, addr)
		if err != nil {
			return nil, 0, err
		}
		if settled(out) {
			return out, s.limits.Cache.Settled, nil
		}
		return out, s.limits.Cache.Live, nil
	})
}

// settled says a proposal's detail changes no more, but for its multisig's pause flag: the
// index has it executed, cancelled or expired and its workflow, if any, is closed.
func settled(d ProposalDetailResponse) bool {
	if d.Indexed == nil || (d.Workflow != nil && d.Workflow.Status == "running") {
		return false
	}
	return lifecycle.Settled(lifecycle.Status(d.Indexed.Status))
}

// proposalDetail reads a proposal from the index, the chain and its workflow, the three at once.
func (s *Server) proposalDetail(ctx context.Context, addr solana.PublicKey) (ProposalDetailResponse, error) {
	out := ProposalDetailResponse{ApprovalHistory: []ApprovalView{}}
	var (
		indexed   store.Proposal
		indexErr  error
		onChain   *governor.Proposal
		ms        *governor.Multisig
		now       int64
		chainErr  error
		approvals []store.Approval
		apprErr   error
		wfErr     error
		wg        sync.WaitGroup
	)
	wg.Add(4)
	go func() { defer wg.Done(); indexed, indexErr = s.store.GetProposal(ctx, addr.String()) }()
	go func() {
		defer wg.Done()
		if onChain, chainErr = s.chain.GetProposal(ctx, addr); chainErr == nil {
			if ms, chainErr = s.chain.GetMultisig(ctx, onChain.Multisig); chainErr != nil {
				chainErr = chainReadError(chainErr, "id", "multisig %s", onChain.Multisig)
			} else if now, chainErr = s.chain.ChainTime(ctx); chainErr != nil {
				chainErr = fmt.Errorf("read the chain's clock: %w", chainErr)
			}
		}
	}()
	go func() { defer wg.Done(); approvals, apprErr = s.store.ListApprovals(ctx, addr.String()) }()
	go func() {
		defer wg.Done()
		out.Workflow, wfErr = s.proposalWorkflow(ctx, workflows.ProposalWorkflowID(addr.String()))
	}()
	wg.Wait()

	switch {
	case indexErr == nil:
		v := proposalFromStore(indexed)
		out.Indexed = &v
	case !errors.Is(indexErr, store.ErrNotFound):
		return out, indexErr
	}
	switch {
	case chainErr == nil:
		paused := ms.IsPaused(now) // a lapsed pause is no pause
		out.Proposal, out.Source, out.Paused = proposalFromChain(addr, onChain, ms, now), "chain", &paused
	case errors.Is(chainErr, chain.ErrAccountNotFound) && onChain == nil && out.Indexed != nil:
		out.Proposal, out.Source = *out.Indexed, "index"
	case errors.Is(chainErr, chain.ErrAccountNotFound) && onChain == nil:
		// Neither on chain nor indexed yet: right after POST /proposals only its workflow knows it.
	case onChain != nil:
		return out, chainErr // the multisig's read failed; already described
	default:
		return out, chainReadError(chainErr, "id", "proposal %s", addr)
	}
	if apprErr != nil {
		return out, apprErr
	}
	for _, a := range approvals {
		out.ApprovalHistory = append(out.ApprovalHistory, ApprovalView{
			Member: a.Member, Signature: a.Signature, Slot: a.Slot, ApprovedAt: a.ApprovedAt.UTC(),
		})
	}
	if wfErr != nil {
		return out, wfErr
	}
	if out.Source == "" {
		if out.Workflow == nil {
			return out, newError(http.StatusNotFound, CodeProposalNotFound, "id", "proposal %s is not on chain, not indexed, and has no workflow", addr)
		}
		in, err := s.proposalInput(ctx, out.Workflow.ID)
		if err != nil {
			return out, err
		}
		out.Source, out.Proposal = "workflow", proposalFromInput(in)
	}
	// What may be done now, so clients (the members' page) render it instead of working it out.
	st := lifecycle.State{
		Status:          lifecycle.Status(out.Proposal.Status),
		Paused:          out.Paused != nil && *out.Paused,
		Now:             time.Unix(now, 0),
		HasMigration:    out.Proposal.MigrationTargetVersion != nil,
		WorkflowRunning: out.Workflow != nil && out.Workflow.Status == "running",
	}
	if out.Proposal.Eta != nil {
		st.Eta = *out.Proposal.Eta
	}
	st.Stale = out.Proposal.Stale
	if onChain != nil && onChain.IsConfig() {
		st.ReplacesGuardian = governor.ReplacesGuardian(onChain.Actions)
	}
	if onChain != nil && onChain.Status == governor.ProposalExecuted && onChain.Migration != nil {
		gp, err := s.chain.GetGovernedProgram(ctx, onChain.Multisig, onChain.TargetProgram)
		if err != nil {
			return out, chainReadError(err, "id", "governed program record of %s", onChain.TargetProgram)
		}
		if !gp.LastExecutedProposal.Equals(addr) {
			st.Superseded = true
			out.Proposal.MigrationSupersededBy = gp.LastExecutedProposal.String()
		}
	}
	out.Proposal.AllowedActions = lifecycle.Actions(st)
	return out, nil
}

type transactionBody struct {
	Transaction string `json:"transaction"`
}

// governedProposal reads the proposal a transaction names (it must be the path's) and its
// multisig (it must be the transaction's).
func (s *Server) governedProposal(ctx context.Context, path, inTx, multisig solana.PublicKey) (*governor.Proposal, *governor.Multisig, error) {
	if !inTx.Equals(path) {
		return nil, nil, badRequest(CodeWrongProposal, "transaction", "the transaction is for proposal %s, the path names %s", inTx, path)
	}
	p, err := s.chain.GetProposal(ctx, path)
	if errors.Is(err, chain.ErrAccountNotFound) {
		return nil, nil, newError(http.StatusNotFound, CodeProposalNotFound, "id", "proposal %s does not exist on chain", path)
	}
	if err != nil {
		return nil, nil, chainReadError(err, "id", "proposal %s", path)
	}
	if !p.Multisig.Equals(multisig) {
		return nil, nil, badRequest(CodeWrongMultisig, "transaction", "the transaction names multisig %s, the proposal belongs to %s", multisig, p.Multisig)
	}
	ms, err := s.governedMultisig(ctx, p.Multisig, "transaction")
	if err != nil {
		return nil, nil, err
	}
	return p, ms, nil
}

// ApproveResponse is the approve update's result.
type ApproveResponse struct {
	Proposal  string     `json:"proposal"`
	Member    string     `json:"member"`
	Signature string     `json:"signature"`
	Approvals int        `json:"approvals"`
	Threshold int        `json:"threshold"`
	Status    string     `json:"status"`
	Eta       *time.Time `json:"eta"`
}

func (s *Server) approveProposal(c *gin.Context) {
	ctx := c.Request.Context()
	addr, err := pathPubkey(c)
	if err != nil {
		respond(c, err)
		return
	}
	var body transactionBody
	if err := bindJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	tx, err := parseSignedTx(body.Transaction, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	ix, err := expectInstruction[*governor.ApproveUpgrade](tx, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	p, ms, err := s.governedProposal(ctx, addr, ix.Proposal, ix.Multisig)
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, ix.Member, false, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if err := staleProposal(p, ms, addr); err != nil {
		respond(c, err)
		return
	}
	if err := s.checkNotReplayed(ctx, tx, "transaction"); err != nil {
		respond(c, err)
		return
	}
	handle, err := s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		// The signature names the update, so a retried request joins the first one.
		UpdateID:     tx.SignatureString(),
		WorkflowID:   workflows.ProposalWorkflowID(addr.String()),
		UpdateName:   workflows.UpdateApprove,
		Args:         []any{workflows.ApproveRequest{Member: ix.Member.String(), Tx: tx.raw}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.ApproveResult
	if err == nil {
		err = handle.Get(ctx, &res)
	}
	if err != nil {
		// The update failed; the transaction may have landed all the same.
		if res, err = s.approveFailed(ctx, err, tx, addr, ix.Member); err != nil {
			respond(c, err)
			return
		}
	}
	if err := s.checkOwnApproval(ctx, tx, addr, ix.Member, res); err != nil {
		respond(c, err)
		return
	}
	err = s.audit(c, store.AuditEntry{
		Actor: ix.Member.String(), Action: store.ActionApprovalRecorded, Proposal: addr.String(),
		// The transaction's own signature: the activity reports none when the chain already
		// had the approval, and the replay check must still find this one.
		Signature: tx.SignatureString(),
		Details:   map[string]any{"approvals": res.Approvals, "threshold": res.Threshold, "status": res.Status},
	})
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, ApproveResponse{
		Proposal: addr.String(), Member: ix.Member.String(), Signature: tx.SignatureString(),
		Approvals: res.Approvals, Threshold: res.Threshold, Status: res.Status, Eta: utc(res.Eta),
	})
}

type cancelBody struct {
	Transaction string `json:"transaction"`
	Reason      string `json:"reason"`
}

// maxReasonLen bounds the free text that goes into the audit trail.
const maxReasonLen = 512

// CancelResponse answers POST /proposals/:id/cancel.
type CancelResponse struct {
	Proposal string `json:"proposal"`
	// Mode is "transaction" (a member's or the guardian's cancel, submitted as it is) or
	// "emergency_stop" (the workflow was cancelled; it cancels on chain with the guardian key).
	Mode       string `json:"mode"`
	Signature  string `json:"signature,omitempty"`
	WorkflowID string `json:"workflow_id"`
	// Status is "cancelled", "cancel_voted" (a member's vote; threshold votes cancel) or
	// "cancel_requested" (the emergency stop is under way).
	Status string `json:"status"`
	// Votes and Threshold count the members' cancel votes (transaction mode).
	Votes     int `json:"votes,omitempty"`
	Threshold int `json:"threshold,omitempty"`
}

func (s *Server) cancelProposal(c *gin.Context) {
	addr, err := pathPubkey(c)
	if err != nil {
		respond(c, err)
		return
	}
	var body cancelBody
	// The emergency stop needs no body at all.
	if _, err := bindOptionalJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	if len(body.Reason) > maxReasonLen {
		respond(c, invalidField("reason", "at most %d bytes", maxReasonLen))
		return
	}
	if body.Transaction == "" {
		s.emergencyStop(c, addr, body.Reason)
		return
	}
	ctx := c.Request.Context()
	tx, err := parseSignedTx(body.Transaction, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	ix, err := expectInstruction[*governor.CancelUpgrade](tx, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	p, ms, err := s.governedProposal(ctx, addr, ix.Proposal, ix.Multisig)
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, ix.Canceller, true, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if err := guardianCannotCancel(p, ix.Canceller, ms, addr); err != nil {
		respond(c, err)
		return
	}
	if err := s.checkNotReplayed(ctx, tx, "transaction"); err != nil {
		respond(c, err)
		return
	}
	if p.Status != governor.ProposalActive && p.Status != governor.ProposalApproved {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "", "proposal %s is %s; only an active or approved one can be cancelled", addr, chainStatus(p.Status)))
		return
	}
	byGuardian := ix.Canceller.Equals(ms.Guardian)
	if !byGuardian {
		// A member's cancel is a vote; threshold votes cancel (internal/lifecycle).
		if err := lifecycle.CanVoteCancel(p, ix.Canceller); err != nil {
			respond(c, newError(http.StatusConflict, CodeInvalidState, "transaction", "%v", err))
			return
		}
	}
	sig, err := s.chain.SendSigned(ctx, tx.tx)
	if err != nil {
		respond(c, fmt.Errorf("submit cancel of %s: %w", addr, err))
		return
	}
	after, err := s.chain.GetProposal(ctx, addr)
	if err != nil {
		respond(c, chainReadError(err, "id", "proposal %s", addr))
		return
	}
	status, votes := "cancelled", lifecycle.MemberVotes(ms.Members, after.CancelVotes)
	if after.Status != governor.ProposalCancelled {
		status = "cancel_voted"
	}
	wid := workflows.ProposalWorkflowID(addr.String())
	// The workflow re-reads the chain, sees the cancel and ends.
	if err := s.temporal.SignalWorkflow(ctx, wid, "", workflows.SignalApprovalObserved, nil); err != nil && !isNotFound(err) {
		logger(c).Warn("signal workflow after cancel", "workflow_id", wid, "error", err)
	}
	details := map[string]any{"multisig": ix.Multisig.String(), "by_guardian": byGuardian,
		"votes": votes, "threshold": int(ms.Threshold), "result": status}
	if body.Reason != "" {
		details["reason"] = body.Reason
	}
	if err := s.audit(c, store.AuditEntry{
		Actor: ix.Canceller.String(), Action: ActionCancelSubmitted, Proposal: addr.String(),
		Signature: sig.String(), Details: details,
	}); err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, CancelResponse{Proposal: addr.String(), Mode: "transaction", Signature: sig.String(), WorkflowID: wid,
		Status: status, Votes: votes, Threshold: int(ms.Threshold)})
}

// emergencyStop cancels the proposal's workflow on a guardian token: the workflow's
// compensation cancels the proposal on chain with the worker's guardian key.
func (s *Server) emergencyStop(c *gin.Context, addr solana.PublicKey, reason string) {
	ctx := c.Request.Context()
	tok, err := s.authenticate(ctx, c, guardianRoles)
	if err != nil {
		if e := toError(err); e.Code == CodeMissingToken {
			e.Message = "send a member-signed cancel transaction, or use a guardian bearer token for the emergency stop"
		}
		respond(c, err)
		return
	}
	// The stop cancels on chain with the guardian's key, which the program refuses for a
	// proposal replacing the guardian: say so instead of stopping the workflow for nothing.
	if p, err := s.chain.GetProposal(ctx, addr); err == nil && p.IsConfig() && governor.ReplacesGuardian(p.Actions) {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "id",
			"proposal %s replaces the guardian: the guardian's emergency stop cannot cancel it (members can, by threshold cancel votes)", addr))
		return
	} else if err != nil && !errors.Is(err, chain.ErrAccountNotFound) {
		respond(c, chainReadError(err, "id", "proposal %s", addr))
		return
	}
	wid := workflows.ProposalWorkflowID(addr.String())
	d, err := s.describe(ctx, wid)
	if err != nil {
		respond(c, err)
		return
	}
	if d == nil {
		respond(c, newError(http.StatusNotFound, CodeWorkflowNotFound, "id", "no workflow for proposal %s", addr))
		return
	}
	if !isRunning(d) {
		respond(c, newError(http.StatusConflict, CodeWorkflowClosed, "id", "the workflow of proposal %s is %s",
			addr, workflowStatus(d.GetWorkflowExecutionInfo().GetStatus())))
		return
	}
	err = s.temporal.CancelWorkflow(ctx, wid, "")
	var again *serviceerror.CancellationAlreadyRequested
	first := !errors.As(err, &again)
	if err != nil && first {
		respond(c, fmt.Errorf("cancel workflow %s: %w", wid, err))
		return
	}
	if first {
		details := map[string]any{"workflow_id": wid, "run_id": d.GetWorkflowExecutionInfo().GetExecution().GetRunId()}
		if reason != "" {
			details["reason"] = reason
		}
		if err := s.audit(c, store.AuditEntry{Actor: tok.Name, Action: ActionStopRequested, Proposal: addr.String(), Details: details}); err != nil {
			respond(c, err)
			return
		}
	}
	c.JSON(http.StatusAccepted, CancelResponse{Proposal: addr.String(), Mode: "emergency_stop", WorkflowID: wid, Status: "cancel_requested"})
}

func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// ExecuteResponse answers POST /proposals/:id/execute.
type ExecuteResponse struct {
	Proposal string `json:"proposal"`
	// Signalled is always true: a proposal that is over, or a workflow that closed, is
	// refused with 409 instead (kept for clients that read it).
	Signalled bool          `json:"signalled"`
	Workflow  *WorkflowView `json:"workflow"`
}

func (s *Server) executeProposal(c *gin.Context) {
	ctx := c.Request.Context()
	addr, err := pathPubkey(c)
	if err != nil {
		respond(c, err)
		return
	}
	var body transactionBody
	if _, err := bindOptionalJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	entry := store.AuditEntry{Action: ActionExecuteRequested, Proposal: addr.String()}
	var onChain *governor.Proposal
	if body.Transaction != "" {
		// A member asks with a signed execute transaction, which proves who asks; the
		// workflow executes with its own key after re-checking the buffer.
		tx, err := parseSignedTx(body.Transaction, "transaction")
		if err != nil {
			respond(c, err)
			return
		}
		// An upgrade's execute_upgrade or a config proposal's execute_config.
		var proposal, multisig, executor solana.PublicKey
		if ec, ok := tx.ix.(*governor.ExecuteConfig); ok {
			proposal, multisig, executor = ec.Proposal, ec.Multisig, ec.Executor
		} else {
			ix, err := expectInstruction[*governor.ExecuteUpgrade](tx, "transaction")
			if err != nil {
				respond(c, err)
				return
			}
			proposal, multisig, executor = ix.Proposal, ix.Multisig, ix.Executor
		}
		p, ms, err := s.governedProposal(ctx, addr, proposal, multisig)
		if err != nil {
			respond(c, err)
			return
		}
		onChain = p
		if err := requireMember(ms, executor, false, "transaction"); err != nil {
			respond(c, err)
			return
		}
		if err := staleProposal(p, ms, addr); err != nil {
			respond(c, err)
			return
		}
		if err := s.checkNotReplayed(ctx, tx, "transaction"); err != nil {
			respond(c, err)
			return
		}
		entry.Actor, entry.Signature = executor.String(), tx.SignatureString()
	} else {
		tok, err := s.authenticate(ctx, c, operatorRoles)
		if err != nil {
			respond(c, err)
			return
		}
		entry.Actor = tok.Name
		p, err := s.chain.GetProposal(ctx, addr)
		if err != nil && !errors.Is(err, chain.ErrAccountNotFound) {
			respond(c, chainReadError(err, "id", "proposal %s", addr))
			return
		}
		onChain = p
	}
	// A proposal that is over cannot be executed: say so instead of signalling nothing.
	if onChain != nil {
		switch onChain.Status {
		case governor.ProposalCancelled:
			respond(c, newError(http.StatusConflict, CodeInvalidState, "id", "proposal %s is cancelled: there is nothing to execute", addr))
			return
		case governor.ProposalExecuted:
			respond(c, newError(http.StatusConflict, CodeInvalidState, "id", "proposal %s is already executed", addr))
			return
		}
	}
	wid := workflows.ProposalWorkflowID(addr.String())
	d, err := s.describe(ctx, wid)
	if err != nil {
		respond(c, err)
		return
	}
	if d == nil {
		respond(c, newError(http.StatusNotFound, CodeWorkflowNotFound, "id", "no workflow for proposal %s", addr))
		return
	}
	if !isRunning(d) {
		respond(c, newError(http.StatusConflict, CodeWorkflowClosed, "id", "the workflow of proposal %s is %s: nothing waits to execute it",
			addr, workflowStatus(d.GetWorkflowExecutionInfo().GetStatus())))
		return
	}
	err = s.temporal.SignalWorkflow(ctx, wid, "", workflows.SignalExecute, nil)
	if isNotFound(err) {
		respond(c, newError(http.StatusConflict, CodeWorkflowClosed, "id", "the workflow of proposal %s closed: nothing waits to execute it", addr))
		return
	}
	if err != nil {
		respond(c, fmt.Errorf("signal %s: %w", wid, err))
		return
	}
	entry.Details = map[string]any{"workflow_id": wid}
	if err := s.audit(c, entry); err != nil {
		respond(c, err)
		return
	}
	wf, err := s.proposalWorkflow(ctx, wid)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, ExecuteResponse{Proposal: addr.String(), Signalled: true, Workflow: wf})
}
