package store_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func TestServedListIsAuditedAndServingTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	ms := pubkey()

	served, err := s.IsServed(ctx, ms)
	require.NoError(t, err)
	assert.False(t, served, "nothing is served until the operator says so")

	m, created, err := s.ServeMultisig(ctx, store.ServedMultisig{Address: ms, Label: "treasury"}, admin)
	require.NoError(t, err)
	assert.True(t, created)
	assert.Equal(t, admin.Actor, m.ServedBy)
	again, created, err := s.ServeMultisig(ctx, store.ServedMultisig{Address: ms, Label: "other"}, api)
	require.NoError(t, err)
	assert.False(t, created)
	assert.Equal(t, "treasury", again.Label, "a second serve keeps the first row")
	assert.Equal(t, admin.Actor, again.ServedBy)

	served, err = s.IsServed(ctx, ms)
	require.NoError(t, err)
	assert.True(t, served)
	list, err := s.ListServed(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, ms, list[0].Address)

	require.NoError(t, s.UnserveMultisig(ctx, ms, api))
	served, err = s.IsServed(ctx, ms)
	require.NoError(t, err)
	assert.False(t, served)
	require.ErrorIs(t, s.UnserveMultisig(ctx, ms, api), store.ErrNotFound)

	page, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionMultisigServed})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1, "serving twice is audited once")
	assert.Equal(t, ms, page.Entries[0].Details["multisig"])
	page, err = s.ListAudit(ctx, store.AuditFilter{Action: store.ActionMultisigUnserved})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	assert.Equal(t, api.Actor, page.Entries[0].Actor)
}

func TestServeRefusesABadAddressAndWritesNothing(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	_, _, err := s.ServeMultisig(ctx, store.ServedMultisig{Address: "not-a-key"}, admin)
	require.ErrorIs(t, err, store.ErrInvalid)
	page, err := s.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	assert.Empty(t, page.Entries)
}

func TestWorkerKeysAreRegisteredOnceAndListedByRole(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	payer, guardian := pubkey(), pubkey()
	require.NoError(t, s.RegisterWorkerKey(ctx, payer, store.KeyFeePayer, worker))
	require.NoError(t, s.RegisterWorkerKey(ctx, guardian, store.KeyGuardian, worker))
	require.NoError(t, s.RegisterWorkerKey(ctx, payer, store.KeyFeePayer, worker))

	keys, err := s.WorkerKeys(ctx)
	require.NoError(t, err)
	require.Len(t, keys, 2)
	assert.Equal(t, store.KeyFeePayer, keys[0].Role)
	assert.Equal(t, payer, keys[0].Address)
	assert.Equal(t, store.KeyGuardian, keys[1].Role)

	page, err := s.ListAudit(ctx, store.AuditFilter{Action: store.ActionWorkerKey})
	require.NoError(t, err)
	assert.Len(t, page.Entries, 2, "a restart of the same worker appends nothing")
}
