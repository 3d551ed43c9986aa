package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func TestUpsertProposalStoresEveryField(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	v := 2
	created := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	want := store.Proposal{
		Address: pubkey(), Multisig: pubkey(), Index: 7, TargetProgram: pubkey(), Buffer: pubkey(),
		BufferHash: bufferHash, Proposer: pubkey(), Description: "migrate to v2",
		Status: store.ProposalActive, Approvals: 1, Threshold: 3, MigrationTargetVersion: &v,
		WorkflowID: "upgrade-x", ProposeSignature: signature(), CreatedAt: created, Kind: store.KindUpgrade,
	}
	ok, err := s.UpsertProposal(ctx, want, worker)
	require.NoError(t, err)
	assert.True(t, ok)

	got, err := s.GetProposal(ctx, want.Address)
	require.NoError(t, err)
	assert.True(t, got.CreatedAt.Equal(created))
	assert.False(t, got.UpdatedAt.IsZero())
	want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
	assert.Equal(t, want, got)

	page, err := s.ListAudit(ctx, store.AuditFilter{Proposal: want.Address})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	e := page.Entries[0]
	assert.Equal(t, store.ActionProposalCreated, e.Action)
	assert.Equal(t, want.ProposeSignature, e.Signature)
	assert.Equal(t, "worker", e.Actor)
	assert.Equal(t, store.SourceWorker, e.Source)
	assert.Equal(t, want.Buffer, e.Details["buffer"])
}

func TestUpsertProposalReplayChangesNothing(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)

	created, err := s.UpsertProposal(ctx, p, indexer)
	require.NoError(t, err)
	assert.False(t, created)
	got, err := s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.Equal(t, p.Status, got.Status)
	assert.Equal(t, []string{store.ActionProposalCreated}, auditActions(t, s, store.AuditFilter{Proposal: p.Address}))
}

func TestUpsertProposalNeverMovesBack(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)
	stale := p // the snapshot an indexer read before the approvals

	eta := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Microsecond)
	approved := p
	approved.Status, approved.Approvals, approved.ETA = store.ProposalApproved, 2, &eta
	_, err := s.UpsertProposal(ctx, approved, indexer)
	require.NoError(t, err)

	_, err = s.UpsertProposal(ctx, stale, indexer)
	require.NoError(t, err)
	got, err := s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.Equal(t, store.ProposalApproved, got.Status)
	assert.Equal(t, 2, got.Approvals)
	require.NotNil(t, got.ETA)
	assert.True(t, got.ETA.Equal(eta))
	assert.NotNil(t, got.ApprovedAt)
	assert.Equal(t, []string{"proposal.approved", store.ActionProposalCreated},
		auditActions(t, s, store.AuditFilter{Proposal: p.Address}))
}

func TestUpsertProposalRefusesIdentityChange(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)

	swapped := p
	swapped.BufferHash = "00000000000000000000000000000000000000000000000000000000000000ff"
	_, err := s.UpsertProposal(ctx, swapped, indexer)
	require.ErrorIs(t, err, store.ErrConflict)

	swapped = p
	swapped.Buffer = pubkey()
	_, err = s.UpsertProposal(ctx, swapped, indexer)
	require.ErrorIs(t, err, store.ErrConflict)

	got, err := s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.Equal(t, p.Buffer, got.Buffer)
	assert.Equal(t, p.BufferHash, got.BufferHash)
}

func TestUpsertProposalRejectsBadValues(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	base := store.Proposal{
		Address: pubkey(), Multisig: pubkey(), TargetProgram: pubkey(), Buffer: pubkey(),
		BufferHash: bufferHash, Proposer: pubkey(), Threshold: 1,
	}
	cases := map[string]func(*store.Proposal){
		"address not base58": func(p *store.Proposal) { p.Address = "0OIl-not-a-key" },
		"hash not hex":       func(p *store.Proposal) { p.BufferHash = "XYZ" },
		"hash upper-case": func(p *store.Proposal) {
			p.BufferHash = "7F3C9A0D5B1E4F2A8C6D0E9B3A5F7C1D2E4B6A8C0D9F1E3B5A7C9D2F4E6A8B0C"
		},
		"unknown status":        func(p *store.Proposal) { p.Status = "pending" },
		"zero threshold":        func(p *store.Proposal) { p.Threshold = 0 },
		"approved without eta":  func(p *store.Proposal) { p.Status, p.Approvals = store.ProposalApproved, 1 },
		"approved below quorum": func(p *store.Proposal) { p.Status, p.ETA = store.ProposalApproved, &time.Time{} },
		"executed unsigned": func(p *store.Proposal) {
			eta := time.Now()
			p.Status, p.Approvals, p.ETA = store.ProposalExecuted, 1, &eta
		},
		"signature not base58": func(p *store.Proposal) { p.ProposeSignature = "sig" },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			p := base
			p.Address = pubkey()
			edit(&p)
			_, err := s.UpsertProposal(ctx, p, worker)
			require.ErrorIs(t, err, store.ErrInvalid)
		})
	}
	page, err := s.ListProposals(ctx, store.ProposalFilter{})
	require.NoError(t, err)
	assert.Zero(t, page.Total, "no bad row got in")
}

func TestGetUnknownProposalIsNotFound(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	_, err := s.GetProposal(ctxT(t), pubkey())
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestListProposalsFiltersAndPaginates(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	progA, progB := pubkey(), pubkey()
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var addrs []string // oldest first
	for i := range 7 {
		prog := progA
		if i%3 == 2 {
			prog = progB
		}
		p := newProposal(t, s, func(p *store.Proposal) {
			p.TargetProgram = prog
			p.Index = uint64(i)
			p.CreatedAt = start.Add(time.Duration(i) * time.Hour)
		})
		addrs = append(addrs, p.Address)
	}
	eta := time.Now().Add(time.Hour)
	_, err := s.SetProposalStatus(ctx, addrs[0], store.ProposalCancelled, store.StatusChange{Reason: "typo"}, api)
	require.NoError(t, err)
	_, err = s.SetProposalStatus(ctx, addrs[1], store.ProposalApproved, store.StatusChange{ETA: eta, Approvals: 2}, indexer)
	require.NoError(t, err)

	all, err := s.ListProposals(ctx, store.ProposalFilter{Limit: 3})
	require.NoError(t, err)
	assert.Equal(t, 7, all.Total)
	require.Len(t, all.Proposals, 3)
	assert.Equal(t, []string{addrs[6], addrs[5], addrs[4]}, addresses(all.Proposals), "newest first")

	var seen []string
	for offset := 0; offset < 9; offset += 3 {
		page, err := s.ListProposals(ctx, store.ProposalFilter{Limit: 3, Offset: offset})
		require.NoError(t, err)
		assert.Equal(t, 7, page.Total)
		seen = append(seen, addresses(page.Proposals)...)
	}
	assert.Equal(t, []string{addrs[6], addrs[5], addrs[4], addrs[3], addrs[2], addrs[1], addrs[0]}, seen)

	past, err := s.ListProposals(ctx, store.ProposalFilter{Offset: 100})
	require.NoError(t, err)
	assert.Empty(t, past.Proposals)
	assert.Equal(t, 7, past.Total, "the total does not depend on the page")

	b, err := s.ListProposals(ctx, store.ProposalFilter{TargetProgram: progB})
	require.NoError(t, err)
	assert.Equal(t, 2, b.Total)
	assert.Equal(t, []string{addrs[5], addrs[2]}, addresses(b.Proposals))

	active, err := s.ListProposals(ctx, store.ProposalFilter{Status: store.ProposalActive, TargetProgram: progA})
	require.NoError(t, err)
	assert.Equal(t, 3, active.Total) // 3, 4, 6
	assert.Equal(t, []string{addrs[6], addrs[4], addrs[3]}, addresses(active.Proposals))

	approved, err := s.ListProposals(ctx, store.ProposalFilter{Status: store.ProposalApproved})
	require.NoError(t, err)
	assert.Equal(t, []string{addrs[1]}, addresses(approved.Proposals))
}

func addresses(ps []store.Proposal) []string {
	out := []string{}
	for _, p := range ps {
		out = append(out, p.Address)
	}
	return out
}

func TestSetProposalStatusFollowsTheProgramsRules(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)

	// Approval needs the quorum and an ETA.
	_, err := s.SetProposalStatus(ctx, p.Address, store.ProposalApproved, store.StatusChange{Approvals: 1, ETA: time.Now()}, indexer)
	require.ErrorIs(t, err, store.ErrInvalid)
	_, err = s.SetProposalStatus(ctx, p.Address, store.ProposalApproved, store.StatusChange{Approvals: 2}, indexer)
	require.ErrorIs(t, err, store.ErrInvalid)

	eta := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Microsecond)
	changed, err := s.SetProposalStatus(ctx, p.Address, store.ProposalApproved,
		store.StatusChange{Approvals: 2, ETA: eta, Signature: signature(), Slot: 41}, indexer)
	require.NoError(t, err)
	assert.True(t, changed)
	changed, err = s.SetProposalStatus(ctx, p.Address, store.ProposalApproved, store.StatusChange{Approvals: 2, ETA: eta}, worker)
	require.NoError(t, err)
	assert.False(t, changed, "setting the same status again is a no-op")

	// Execution needs its transaction.
	_, err = s.SetProposalStatus(ctx, p.Address, store.ProposalExecuted, store.StatusChange{}, worker)
	require.ErrorIs(t, err, store.ErrInvalid)
	execSig := signature()
	at := eta.Add(time.Minute)
	changed, err = s.SetProposalStatus(ctx, p.Address, store.ProposalExecuted,
		store.StatusChange{Signature: execSig, Slot: 99, At: at}, worker)
	require.NoError(t, err)
	assert.True(t, changed)

	got, err := s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.Equal(t, store.ProposalExecuted, got.Status)
	assert.Equal(t, execSig, got.ExecuteSignature)
	require.NotNil(t, got.ExecutedAt)
	assert.True(t, got.ExecutedAt.Equal(at))
	require.NotNil(t, got.ETA)
	assert.True(t, got.ETA.Equal(eta))

	// Executed is final.
	for _, to := range []store.ProposalStatus{store.ProposalCancelled, store.ProposalActive, store.ProposalExpired} {
		_, err = s.SetProposalStatus(ctx, p.Address, to, store.StatusChange{}, api)
		require.ErrorIs(t, err, store.ErrInvalidTransition, string(to))
	}

	page, err := s.ListAudit(ctx, store.AuditFilter{Proposal: p.Address})
	require.NoError(t, err)
	require.Len(t, page.Entries, 3)
	exec := page.Entries[0]
	assert.Equal(t, "proposal.executed", exec.Action)
	assert.Equal(t, execSig, exec.Signature)
	assert.EqualValues(t, 99, exec.Slot)
	assert.True(t, exec.At.Equal(at))
	assert.Equal(t, "approved", exec.Details["from"])
	assert.Equal(t, "proposal.approved", page.Entries[1].Action)
	assert.EqualValues(t, 41, page.Entries[1].Slot)
}

func TestCancelledProposalCannotBeApproved(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)
	changed, err := s.SetProposalStatus(ctx, p.Address, store.ProposalCancelled,
		store.StatusChange{Signature: signature(), Reason: "wrong buffer"}, store.Origin{Actor: pubkey(), Source: store.SourceAPI})
	require.NoError(t, err)
	assert.True(t, changed)
	got, err := s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.NotNil(t, got.ClosedAt)

	_, err = s.SetProposalStatus(ctx, p.Address, store.ProposalApproved, store.StatusChange{Approvals: 2, ETA: time.Now()}, indexer)
	require.ErrorIs(t, err, store.ErrInvalidTransition)
	_, err = s.SetProposalStatus(ctx, pubkey(), store.ProposalCancelled, store.StatusChange{}, api)
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestRecordApprovalOncePerMember(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)
	alice, bob := pubkey(), pubkey()

	added, err := s.RecordApproval(ctx, store.Approval{Proposal: p.Address, Member: alice, Signature: signature(), Slot: 10}, indexer)
	require.NoError(t, err)
	assert.True(t, added)
	// The same member again, from another transaction, is a replay: nothing changes.
	added, err = s.RecordApproval(ctx, store.Approval{Proposal: p.Address, Member: alice, Signature: signature(), Slot: 11}, api)
	require.NoError(t, err)
	assert.False(t, added)

	got, err := s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.Equal(t, 1, got.Approvals)

	bobSig := signature()
	added, err = s.RecordApproval(ctx, store.Approval{Proposal: p.Address, Member: bob, Signature: bobSig, Slot: 12, Approvals: 2}, indexer)
	require.NoError(t, err)
	assert.True(t, added)
	got, err = s.GetProposal(ctx, p.Address)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Approvals)

	approvals, err := s.ListApprovals(ctx, p.Address)
	require.NoError(t, err)
	require.Len(t, approvals, 2)
	assert.Equal(t, alice, approvals[0].Member)
	assert.Equal(t, bob, approvals[1].Member)
	assert.Equal(t, bobSig, approvals[1].Signature)
	assert.EqualValues(t, 12, approvals[1].Slot)

	page, err := s.ListAudit(ctx, store.AuditFilter{Proposal: p.Address, Action: store.ActionApprovalRecorded})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2)
	assert.Equal(t, bob, page.Entries[0].Actor, "the member is the actor")
	assert.Equal(t, bobSig, page.Entries[0].Signature)
	assert.EqualValues(t, 2, page.Entries[0].Details["approvals"])
}

func TestDuplicateApprovalViolatesTheUniqueConstraint(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)
	member := pubkey()
	insert := `INSERT INTO approval_history (proposal, member, signature, slot) VALUES ($1, $2, $3, 1)`
	require.NoError(t, s.ExecRaw(ctx, insert, p.Address, member, signature()))
	err := s.ExecRaw(ctx, insert, p.Address, member, signature())
	assert.Equal(t, "23505", pgCode(err), "unique (proposal, member): %v", err)
}

func TestApprovalOfUnknownProposalViolatesTheForeignKey(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	_, err := s.RecordApproval(ctx, store.Approval{Proposal: pubkey(), Member: pubkey(), Signature: signature(), Slot: 1}, indexer)
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.Equal(t, "23503", pgCode(err))

	page, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	assert.Empty(t, page.Entries, "the audit row went with the failed transaction")
}

func TestSchemaRefusesWhatTheProgramWouldRefuse(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)

	err := s.ExecRaw(ctx, `UPDATE upgrade_proposals SET status = 'bogus' WHERE address = $1`, p.Address)
	assert.Equal(t, "23514", pgCode(err), "status check: %v", err)

	err = s.ExecRaw(ctx, `UPDATE upgrade_proposals SET approvals = 0 WHERE address = $1`, p.Address)
	require.NoError(t, err) // 0 -> 0 is no drop
	err = s.ExecRaw(ctx, `UPDATE upgrade_proposals SET approvals = 1 WHERE address = $1`, p.Address)
	require.NoError(t, err)
	err = s.ExecRaw(ctx, `UPDATE upgrade_proposals SET approvals = 0 WHERE address = $1`, p.Address)
	assert.Equal(t, "UG001", pgCode(err), "approvals never drop: %v", err)

	err = s.ExecRaw(ctx, `UPDATE upgrade_proposals SET proposer = $2 WHERE address = $1`, p.Address, pubkey())
	assert.Equal(t, "UG002", pgCode(err), "identity is immutable: %v", err)

	err = s.ExecRaw(ctx, `UPDATE upgrade_proposals SET multisig = $1 WHERE address = $2`, "not a key", p.Address)
	assert.Equal(t, "23514", pgCode(err), "domain check: %v", err)

	// (multisig, index) is one proposal.
	_, err = s.UpsertProposal(ctx, store.Proposal{
		Address: pubkey(), Multisig: p.Multisig, Index: p.Index, TargetProgram: pubkey(), Buffer: pubkey(),
		BufferHash: bufferHash, Proposer: pubkey(), Threshold: 2,
	}, indexer)
	require.ErrorIs(t, err, store.ErrConflict)
}
