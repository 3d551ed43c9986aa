package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	_, err := s.AppendAudit(ctx, store.AuditEntry{Actor: "guardian", Action: "system.paused", Source: store.SourceCLI})
	require.NoError(t, err)

	for name, sql := range map[string]string{
		"update":   `UPDATE audit_log SET actor = 'someone else'`,
		"delete":   `DELETE FROM audit_log`,
		"truncate": `TRUNCATE audit_log`,
	} {
		err := s.ExecRaw(ctx, sql)
		assert.Equal(t, "UG003", pgCode(err), "%s must raise: %v", name, err)
	}
	page, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	assert.Equal(t, "guardian", page.Entries[0].Actor)
}

func TestAppendAuditIsIdempotentPerSignatureAndAction(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	sig := signature()
	e := store.AuditEntry{Actor: pubkey(), Action: "system.paused", Signature: sig, Slot: 5, Source: store.SourceIndexer,
		Details: map[string]any{"paused": true}}

	added, err := s.AppendAudit(ctx, e)
	require.NoError(t, err)
	assert.True(t, added)
	e.Source = store.SourceAPI // the same event seen through another component
	added, err = s.AppendAudit(ctx, e)
	require.NoError(t, err)
	assert.False(t, added, "re-indexing an event appends nothing")

	e.Action = "system.resumed"
	added, err = s.AppendAudit(ctx, e)
	require.NoError(t, err)
	assert.True(t, added, "another action of the same transaction is its own row")

	offChain := store.AuditEntry{Actor: "ops", Action: "token.listed", Source: store.SourceCLI}
	for range 2 {
		added, err = s.AppendAudit(ctx, offChain)
		require.NoError(t, err)
		assert.True(t, added, "entries without a signature are never merged")
	}

	page, err := s.ListAudit(ctx, store.AuditFilter{Action: "system.paused"})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	assert.Equal(t, store.SourceIndexer, page.Entries[0].Source)
	assert.Equal(t, true, page.Entries[0].Details["paused"])
	assert.EqualValues(t, 5, page.Entries[0].Slot)
}

func TestAppendAuditRejectsBadEntries(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	for name, e := range map[string]store.AuditEntry{
		"no actor":      {Action: "system.paused", Source: store.SourceCLI},
		"bad action":    {Actor: "ops", Action: "Paused!", Source: store.SourceCLI},
		"bad source":    {Actor: "ops", Action: "system.paused", Source: "email"},
		"bad signature": {Actor: "ops", Action: "system.paused", Source: store.SourceCLI, Signature: "0x1234"},
		"bad proposal":  {Actor: "ops", Action: "system.paused", Source: store.SourceCLI, Proposal: "P-1"},
	} {
		_, err := s.AppendAudit(ctx, e)
		assert.ErrorIs(t, err, store.ErrInvalid, name)
	}
}

func TestListAuditFiltersAndPages(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	propA, propB := pubkey(), pubkey()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	recent := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range 12 {
		e := store.AuditEntry{Actor: "alice", Action: "approval.recorded", Proposal: propA, Source: store.SourceIndexer, At: recent}
		if i%2 == 1 {
			e.Actor, e.Proposal = "bob", propB
		}
		if i%3 == 0 {
			e.Action, e.At = "proposal.created", old
		}
		_, err := s.AppendAudit(ctx, e)
		require.NoError(t, err)
	}

	// Pages of 5, newest first, until Next says there is no more.
	var ids []int64
	var before int64
	pages := 0
	for {
		page, err := s.ListAudit(ctx, store.AuditFilter{Before: before, Limit: 5})
		require.NoError(t, err)
		pages++
		for _, e := range page.Entries {
			ids = append(ids, e.ID)
		}
		if page.Next == 0 {
			break
		}
		before = page.Next
	}
	assert.Equal(t, 3, pages)
	require.Len(t, ids, 12)
	for i := 1; i < len(ids); i++ {
		assert.Greater(t, ids[i-1], ids[i], "newest first, no repeats")
	}

	count := func(f store.AuditFilter) int {
		page, err := s.ListAudit(ctx, f)
		require.NoError(t, err)
		return len(page.Entries)
	}
	assert.Equal(t, 6, count(store.AuditFilter{Proposal: propA}))
	assert.Equal(t, 6, count(store.AuditFilter{Actor: "bob"}))
	assert.Equal(t, 4, count(store.AuditFilter{Action: "proposal.created"}))
	assert.Equal(t, 8, count(store.AuditFilter{Since: recent}))
	assert.Equal(t, 2, count(store.AuditFilter{Actor: "alice", Action: "proposal.created"}))     // i = 0, 6
	assert.Equal(t, 4, count(store.AuditFilter{Proposal: propB, Since: recent.Add(-time.Hour)})) // i = 1, 5, 7, 11

	exact, err := s.ListAudit(ctx, store.AuditFilter{Proposal: propA, Limit: 6})
	require.NoError(t, err)
	assert.Len(t, exact.Entries, 6)
	assert.Zero(t, exact.Next, "a page that ends the results has no next")
}

// A row says which clock its `at` is (the chain's, moved by time travel on a test chain, or the
// server's) and when it was recorded, which orders the trail.
func TestAuditRowsSayWhichClockAndWhenRecorded(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	chainTime := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Microsecond) // after a time travel
	_, err := s.AppendAudit(ctx, store.AuditEntry{At: chainTime, Actor: "indexer", Action: "chain.upgrade_executed", Source: store.SourceIndexer})
	require.NoError(t, err)
	_, err = s.AppendAudit(ctx, store.AuditEntry{Actor: "ops", Action: "proposal.execute_requested", Source: store.SourceAPI})
	require.NoError(t, err)
	page, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2)
	server, chain := page.Entries[0], page.Entries[1] // newest recorded first
	assert.Equal(t, "server", server.AtClock)
	assert.Equal(t, "chain", chain.AtClock)
	assert.True(t, chain.At.Equal(chainTime))
	assert.False(t, server.RecordedAt.Before(chain.RecordedAt), "recorded order, whatever the chain's clock says")
	assert.True(t, chain.At.After(server.At), "the chain's clock ran ahead")
}
