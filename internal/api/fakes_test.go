package api_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
)

// fakeChain stands in for the RPC node in the tests that do not need the real chain: it
// holds multisigs and proposals and applies governor instructions with the program's main
// rules, so the API's checks and the real workflows can be exercised in milliseconds. The
// tests on the local chain (localnet_test.go) run the same routes against the real program.
type fakeChain struct {
	mu        sync.Mutex
	multisigs map[solana.PublicKey]*governor.Multisig
	proposals map[solana.PublicKey]*governor.Proposal
	buffers   map[solana.PublicKey]*loader.Buffer
	known     map[solana.Signature]bool
	// expired lists the blockhashes BlockhashValid refuses; any other is valid.
	expired   map[solana.Hash]bool
	sent      []solana.Signature
	healthErr error
	now       func() time.Time
	// balances are the lamports Balance reports; a missing key has none.
	balances map[solana.PublicKey]uint64
	// governed are the GovernedProgram records, by multisig and program.
	governed map[[2]solana.PublicKey]*governor.GovernedProgram
}

func newFakeChain() *fakeChain {
	return &fakeChain{
		multisigs: map[solana.PublicKey]*governor.Multisig{},
		proposals: map[solana.PublicKey]*governor.Proposal{},
		buffers:   map[solana.PublicKey]*loader.Buffer{},
		governed:  map[[2]solana.PublicKey]*governor.GovernedProgram{},
		known:     map[solana.Signature]bool{},
		expired:   map[solana.Hash]bool{},
		now:       time.Now,
		balances:  map[solana.PublicKey]uint64{},
	}
}

func (f *fakeChain) ChainTime(context.Context) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now().Unix(), nil
}

func (f *fakeChain) Balance(_ context.Context, k solana.PublicKey) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.balances[k], nil
}

func (f *fakeChain) GetMultisig(_ context.Context, k solana.PublicKey) (*governor.Multisig, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.multisigs[k]
	if !ok {
		return nil, fmt.Errorf("get multisig: get account %s: %w", k, chain.ErrAccountNotFound)
	}
	c := *m
	c.Members = slices.Clone(m.Members)
	return &c, nil
}

func (f *fakeChain) GetProposal(_ context.Context, k solana.PublicKey) (*governor.Proposal, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.proposals[k]
	if !ok {
		return nil, fmt.Errorf("get proposal: get account %s: %w", k, chain.ErrAccountNotFound)
	}
	c := *p
	c.Approvals = slices.Clone(p.Approvals)
	return &c, nil
}

// GetGovernedProgram reports the program's latest executed proposal, as execute_upgrade
// records it (setStatus to executed stands for an execute).
func (f *fakeChain) GetGovernedProgram(_ context.Context, multisig, program solana.PublicKey) (*governor.GovernedProgram, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.governed[[2]solana.PublicKey{multisig, program}]
	if !ok {
		addr, _ := governor.FindGovernedProgramAddress(multisig, program)
		return nil, fmt.Errorf("get governed program: get account %s: %w", addr, chain.ErrAccountNotFound)
	}
	c := *g
	return &c, nil
}

func (f *fakeChain) GetBuffer(_ context.Context, k solana.PublicKey) (*loader.Buffer, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.buffers[k]
	if !ok {
		return nil, fmt.Errorf("get buffer: get account %s: %w", k, chain.ErrAccountNotFound)
	}
	return b, nil
}

func (f *fakeChain) LatestBlockhash(context.Context) (solana.Hash, error) {
	var h solana.Hash
	_, _ = rand.Read(h[:])
	return h, nil
}

func (f *fakeChain) SignatureKnown(_ context.Context, sig solana.Signature) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.known[sig], nil
}

func (f *fakeChain) BlockhashValid(_ context.Context, hash solana.Hash) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.expired[hash], nil
}

func (f *fakeChain) Health(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.healthErr
}

func (f *fakeChain) sentCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// SendSigned applies the transaction's governor instructions like the program would.
func (f *fakeChain) SendSigned(_ context.Context, tx *solana.Transaction) (solana.Signature, error) {
	if err := tx.VerifySignatures(); err != nil {
		return solana.Signature{}, fmt.Errorf("send signed: %w", err)
	}
	ixs, err := governor.DecodeTransaction(tx)
	if err != nil {
		return solana.Signature{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	sig := tx.Signatures[0]
	if f.known[sig] {
		return sig, &chain.TransactionError{Instruction: -1, Kind: "AlreadyProcessed"}
	}
	for _, ix := range ixs {
		if err := f.apply(ix.Instruction); err != nil {
			return sig, err
		}
	}
	f.known[sig] = true
	f.sent = append(f.sent, sig)
	return sig, nil
}

func programErr(e *governor.Error) error {
	return &chain.ProgramError{Program: governor.ProgramID, Code: e.Code, Name: e.Name, Msg: e.Msg}
}

func (f *fakeChain) apply(ix governor.Instruction) error {
	now := f.now().Unix()
	switch ix := ix.(type) {
	case *governor.ProposeUpgrade:
		m := f.multisigs[ix.Multisig]
		if m == nil || !m.IsMember(ix.Proposer) {
			return programErr(governor.ErrNotAMember)
		}
		m.ProposalIndex++
		if want, _ := governor.FindProposalAddress(ix.Multisig, m.ProposalIndex); !want.Equals(ix.Proposal) {
			m.ProposalIndex--
			return &chain.TransactionError{Instruction: 0, Kind: "ConstraintSeeds"}
		}
		f.proposals[ix.Proposal] = &governor.Proposal{
			Multisig: ix.Multisig, Index: m.ProposalIndex, Proposer: ix.Proposer, TargetProgram: ix.TargetProgram,
			ProgramData: ix.ProgramData, Buffer: ix.Buffer, BufferHash: ix.Args.BufferHash,
			Description: ix.Args.Description, Migration: ix.Args.Migration, Status: governor.ProposalActive,
			CreatedAt: now, ExpiresAt: now + m.ProposalLifetimeSeconds,
		}
	case *governor.ApproveUpgrade:
		p, m := f.proposals[ix.Proposal], f.multisigs[ix.Multisig]
		switch {
		case p == nil || m == nil:
			return &chain.TransactionError{Instruction: 0, Kind: "AccountNotInitialized"}
		case !m.IsMember(ix.Member):
			return programErr(governor.ErrNotAMember)
		case p.Status != governor.ProposalActive:
			return programErr(governor.ErrProposalNotActive)
		case slices.Contains(p.Approvals, ix.Member):
			return programErr(governor.ErrAlreadyApproved)
		}
		p.Approvals = append(p.Approvals, ix.Member)
		if len(p.Approvals) >= int(m.Threshold) {
			p.Status, p.ApprovedAt, p.Eta = governor.ProposalApproved, now, now+m.TimelockSeconds
		}
	case *governor.CancelUpgrade:
		p, m := f.proposals[ix.Proposal], f.multisigs[ix.Multisig]
		switch {
		case p == nil || m == nil:
			return &chain.TransactionError{Instruction: 0, Kind: "AccountNotInitialized"}
		case !m.IsMember(ix.Canceller) && !m.Guardian.Equals(ix.Canceller):
			return programErr(governor.ErrNotMemberOrGuardian)
		case p.Status == governor.ProposalExecuted:
			return programErr(governor.ErrAlreadyExecuted)
		case p.Status == governor.ProposalCancelled:
			return programErr(governor.ErrAlreadyCancelled)
		}
		if !m.Guardian.Equals(ix.Canceller) {
			// A member's cancel is a vote; threshold votes cancel.
			if slices.Contains(p.CancelVotes, ix.Canceller) {
				return programErr(governor.ErrAlreadyVoted)
			}
			p.CancelVotes = append(p.CancelVotes, ix.Canceller)
			if lifecycle.MemberVotes(m.Members, p.CancelVotes) < int(m.Threshold) {
				return nil
			}
		}
		p.Status, p.CancelledAt, p.CancelledBy = governor.ProposalCancelled, now, ix.Canceller
	case *governor.PauseSystem:
		m := f.multisigs[ix.Multisig]
		if m == nil || (!m.IsMember(ix.Pauser) && !m.Guardian.Equals(ix.Pauser)) {
			return programErr(governor.ErrNotMemberOrGuardian)
		}
		if m.IsPaused(now) {
			if !m.IsMember(ix.Pauser) {
				return programErr(governor.ErrSystemPaused)
			}
			if slices.Contains(m.PauseVotes, ix.Pauser) {
				return programErr(governor.ErrAlreadyVoted)
			}
			m.PauseVotes = append(m.PauseVotes, ix.Pauser)
			if lifecycle.MemberVotes(m.Members, m.PauseVotes) >= int(m.Threshold) {
				m.PauseExpiresAt = math.MaxInt64
			}
			return nil
		}
		if lifecycle.CanPause(m, ix.Pauser, now) != nil {
			return programErr(governor.ErrPauseCoolingDown)
		}
		m.Paused, m.PausedAt, m.PausedBy, m.PauseExpiresAt = true, now, ix.Pauser, now+m.MaxPauseSeconds
		m.PauseVotes, m.ResumeVotes = nil, nil
		if m.IsMember(ix.Pauser) {
			m.PauseVotes = []solana.PublicKey{ix.Pauser}
		}
	case *governor.ResumeSystem:
		m := f.multisigs[ix.Multisig]
		switch {
		case m == nil || !m.IsPaused(now):
			return programErr(governor.ErrSystemNotPaused)
		case !m.IsMember(ix.Member):
			return programErr(governor.ErrNotAMember)
		case slices.Contains(m.ResumeVotes, ix.Member):
			return programErr(governor.ErrAlreadyVoted)
		}
		m.ResumeVotes = append(m.ResumeVotes, ix.Member)
		if lifecycle.MemberVotes(m.Members, m.ResumeVotes) >= int(m.Threshold) {
			if m.PauseExpiresAt != math.MaxInt64 && m.PauseCooldownSeconds > 0 {
				m.PauseCooldowns = append(m.PauseCooldowns, governor.PauseCooldown{Key: m.PausedBy, Until: now + m.PauseCooldownSeconds})
			}
			m.Paused, m.PauseExpiresAt, m.PauseVotes, m.ResumeVotes = false, 0, nil, nil
		}
	default:
		return fmt.Errorf("fake chain: %s is not modelled", ix.Name())
	}
	return nil
}

// executeNow marks a proposal executed, as the worker's execute would.
func (f *fakeChain) setStatus(k solana.PublicKey, st governor.ProposalStatus) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.proposals[k].Status = st
	if st == governor.ProposalExecuted {
		p := f.proposals[k]
		p.ExecutedAt = f.now().Unix()
		key := [2]solana.PublicKey{p.Multisig, p.TargetProgram}
		g, ok := f.governed[key]
		if !ok {
			g = &governor.GovernedProgram{Multisig: p.Multisig, Program: p.TargetProgram}
			f.governed[key] = g
		}
		g.LastExecutedProposal = k
		g.Deployments++
	}
}

// snapshot is what GetProposalState would read.
func (f *fakeChain) snapshot(ref activities.ProposalRef) activities.ChainProposal {
	f.mu.Lock()
	defer f.mu.Unlock()
	addr := solana.MustPublicKeyFromBase58(ref.Proposal)
	m := f.multisigs[solana.MustPublicKeyFromBase58(ref.Multisig)]
	cp := activities.ChainProposal{Address: ref.Proposal, Multisig: ref.Multisig, ChainTime: f.now().UTC()}
	if m != nil {
		cp.Threshold, cp.Paused, cp.Guardian = int(m.Threshold), m.Paused, m.Guardian.String()
	}
	p := f.proposals[addr]
	if p == nil {
		return cp
	}
	cp.Exists, cp.Index, cp.Proposer = true, p.Index, p.Proposer.String()
	cp.TargetProgram, cp.Buffer, cp.BufferHash = p.TargetProgram.String(), p.Buffer.String(), hex.EncodeToString(p.BufferHash[:])
	cp.Status = map[governor.ProposalStatus]string{
		governor.ProposalActive: "active", governor.ProposalApproved: "approved",
		governor.ProposalExecuted: "executed", governor.ProposalCancelled: "cancelled",
	}[p.Status]
	for _, a := range p.Approvals {
		cp.Approvals = append(cp.Approvals, a.String())
	}
	if p.Eta != 0 {
		cp.Eta = time.Unix(p.Eta, 0).UTC()
	}
	cp.ExpiresAt = time.Unix(p.ExpiresAt, 0).UTC()
	cp.HasMigration = p.Migration != nil
	return cp
}

// fakeActivities are the workflows' activities over the fake chain. Their method names are
// the real activities' names, which is what the workflows schedule.
type fakeActivities struct {
	chain *fakeChain
}

func (a *fakeActivities) VerifyBuffer(context.Context, activities.VerifyBufferInput) (activities.VerifyBufferResult, error) {
	return activities.VerifyBufferResult{ElfLen: 1}, nil
}

func (a *fakeActivities) submit(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
	tx, err := solana.TransactionFromBytes(in.Tx)
	if err != nil {
		return activities.SubmitResult{}, err
	}
	sig, err := a.chain.SendSigned(ctx, tx)
	if err != nil {
		return activities.SubmitResult{}, err
	}
	return activities.SubmitResult{Signature: sig.String(), Proposal: a.chain.snapshot(in.ProposalRef)}, nil
}

func (a *fakeActivities) SubmitProposal(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
	if cp := a.chain.snapshot(in.ProposalRef); cp.Exists {
		return activities.SubmitResult{Proposal: cp}, nil
	}
	return a.submit(ctx, in)
}

func (a *fakeActivities) SubmitApproval(ctx context.Context, in activities.SubmitInput) (activities.SubmitResult, error) {
	return a.submit(ctx, in)
}

func (a *fakeActivities) GetProposalState(_ context.Context, ref activities.ProposalRef) (activities.ChainProposal, error) {
	return a.chain.snapshot(ref), nil
}

func (a *fakeActivities) ExecuteUpgrade(_ context.Context, ref activities.ProposalRef) (activities.ExecuteResult, error) {
	a.chain.setStatus(solana.MustPublicKeyFromBase58(ref.Proposal), governor.ProposalExecuted)
	return activities.ExecuteResult{Signature: randomSignature().String()}, nil
}

func (a *fakeActivities) CancelOnChain(_ context.Context, in activities.CancelInput) (activities.CancelResult, error) {
	a.chain.setStatus(solana.MustPublicKeyFromBase58(in.Proposal), governor.ProposalCancelled)
	return activities.CancelResult{Signature: randomSignature().String()}, nil
}

func (a *fakeActivities) MarkExpired(context.Context, activities.ProposalRef) error { return nil }

func (a *fakeActivities) ListAffectedAccounts(context.Context, activities.ListAccountsInput) (int, error) {
	return 0, nil
}

func (a *fakeActivities) ChunkBounds(context.Context, activities.ChunkBoundsInput) ([]string, error) {
	return nil, nil
}

func (a *fakeActivities) MigrateChunk(context.Context, activities.MigrateChunkInput) (activities.ChunkResult, error) {
	return activities.ChunkResult{}, nil
}

func (a *fakeActivities) FinishJob(context.Context, activities.FinishJobInput) error { return nil }

func randomSignature() solana.Signature {
	var s solana.Signature
	_, _ = rand.Read(s[:])
	return s
}

// Simulate is not modelled: config proposals, whose rules the API learns by simulation, are
// tested against the real program on the local chain (config_localnet_test.go).
func (f *fakeChain) Simulate(context.Context, *solana.Transaction) error {
	return errors.New("fakeChain does not simulate transactions: test this route on the local chain")
}

// Budgeted adds no compute budget: the fake runs nothing to measure. The routes' budgets are
// checked on the local chain (TestBuiltTransactionsCarryAComputeBudgetOnLocalnet).
func (f *fakeChain) Budgeted(_ context.Context, ixs []solana.Instruction, _ solana.PublicKey) []solana.Instruction {
	return ixs
}
