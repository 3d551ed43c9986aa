package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	worker  = store.Origin{Actor: "worker", Source: store.SourceWorker}
	indexer = store.Origin{Actor: "indexer", Source: store.SourceIndexer}
	api     = store.Origin{Actor: "ops-token", Source: store.SourceAPI}
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func pubkey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return solana.PublicKeyFromBytes(b[:]).String()
}

func signature() string {
	var b [64]byte
	_, _ = rand.Read(b[:])
	return solana.SignatureFromBytes(b[:]).String()
}

const bufferHash = "7f3c9a0d5b1e4f2a8c6d0e9b3a5f7c1d2e4b6a8c0d9f1e3b5a7c9d2f4e6a8b0c"

// newProposal stores an active proposal (threshold 2) and returns it as stored.
func newProposal(t *testing.T, s *store.Store, edit ...func(*store.Proposal)) store.Proposal {
	t.Helper()
	p := store.Proposal{
		Address: pubkey(), Multisig: pubkey(), Index: 1, TargetProgram: pubkey(), Buffer: pubkey(),
		BufferHash: bufferHash, Proposer: pubkey(), Description: "v2: add fee field",
		Threshold: 2, ProposeSignature: signature(),
	}
	for _, e := range edit {
		e(&p)
	}
	created, err := s.UpsertProposal(ctxT(t), p, worker)
	require.NoError(t, err)
	require.True(t, created)
	got, err := s.GetProposal(ctxT(t), p.Address)
	require.NoError(t, err)
	return got
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func auditActions(t *testing.T, s *store.Store, f store.AuditFilter) []string {
	t.Helper()
	page, err := s.ListAudit(ctxT(t), f)
	require.NoError(t, err)
	var out []string
	for _, e := range page.Entries {
		out = append(out, e.Action)
	}
	return out
}

func TestMigrateTwiceAppliesNothingTheSecondTime(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t) // migrated once
	ctx := ctxT(t)
	current, latest, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, latest, current)
	assert.EqualValues(t, migrationCount(t), latest)

	require.NoError(t, s.Migrate(ctx))
	again, _, err := s.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, current, again)
	var applied int
	require.NoError(t, s.QueryRowRaw(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied))
	assert.Equal(t, migrationCount(t), applied, "each migration recorded once")
}

func TestReplicasMigratingAtOnceAllSucceed(t *testing.T) {
	t.Parallel()
	url := pgtest.NewDatabase(t)
	ctx := ctxT(t)
	var stores []*store.Store
	for range 3 {
		s, err := store.New(ctx, url)
		require.NoError(t, err)
		t.Cleanup(s.Close)
		stores = append(stores, s)
	}
	current, latest, err := stores[0].SchemaVersion(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, 0, current)
	assert.EqualValues(t, migrationCount(t), latest)

	var wg sync.WaitGroup
	errs := make([]error, len(stores))
	for i, s := range stores {
		wg.Go(func() { errs[i] = s.Migrate(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	current, _, err = stores[0].SchemaVersion(ctx)
	require.NoError(t, err)
	assert.EqualValues(t, migrationCount(t), current)
}

func TestNewWithUnreachableDatabaseFails(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := store.New(ctx, "postgres://nobody:hunter2@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
	_, err = store.New(ctx, "postgres://nobody:hunter2@[::1:bad/none")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestCursorNeverMovesBack(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	program := pubkey()

	_, err := s.GetCursor(ctx, program, "events")
	require.ErrorIs(t, err, store.ErrNotFound)

	first := store.Cursor{Program: program, Stream: "events", LastSignature: signature(), LastSlot: 100}
	saved, err := s.SaveCursor(ctx, first)
	require.NoError(t, err)
	assert.True(t, saved)

	saved, err = s.SaveCursor(ctx, store.Cursor{Program: program, Stream: "events", LastSignature: signature(), LastSlot: 90})
	require.NoError(t, err)
	assert.False(t, saved, "an older slot is not stored")
	got, err := s.GetCursor(ctx, program, "events")
	require.NoError(t, err)
	assert.Equal(t, first.LastSignature, got.LastSignature)
	assert.EqualValues(t, 100, got.LastSlot)

	later := store.Cursor{Program: program, Stream: "events", LastSignature: signature(), LastSlot: 120}
	saved, err = s.SaveCursor(ctx, later)
	require.NoError(t, err)
	assert.True(t, saved)
	got, err = s.GetCursor(ctx, program, "events")
	require.NoError(t, err)
	assert.Equal(t, later.LastSignature, got.LastSignature)

	// Streams are independent, and a stream name is an identifier.
	_, err = s.GetCursor(ctx, program, "transactions")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = s.SaveCursor(ctx, store.Cursor{Program: program, Stream: "Bad Stream", LastSignature: signature(), LastSlot: 1})
	require.ErrorIs(t, err, store.ErrInvalid)
}

func TestRollbackIsRecordedOncePerWorkflowStage(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)
	guardian := store.Origin{Actor: pubkey(), Source: store.SourceWorker}
	r := store.RollbackEvent{
		Proposal: p.Address, Stage: store.StageTimelock, Reason: "buffer hash changed",
		CancelSignature: signature(), WorkflowID: "upgrade-" + p.Address,
	}
	created, err := s.RecordRollback(ctx, r, guardian)
	require.NoError(t, err)
	assert.True(t, created)
	created, err = s.RecordRollback(ctx, r, guardian)
	require.NoError(t, err)
	assert.False(t, created, "a retried compensation records nothing new")

	got, err := s.ListRollbacks(ctx, p.Address)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, guardian.Actor, got[0].Actor)
	assert.Equal(t, r.CancelSignature, got[0].CancelSignature)
	assert.Equal(t, store.StageTimelock, got[0].Stage)

	page, err := s.ListAudit(ctx, store.AuditFilter{Proposal: p.Address, Action: store.ActionRollbackRecorded})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	assert.Equal(t, r.CancelSignature, page.Entries[0].Signature)
}

func TestRollbackRulesAreEnforced(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	ctx := ctxT(t)
	p := newProposal(t, s)

	// After execution there is nothing to cancel on chain.
	_, err := s.RecordRollback(ctx, store.RollbackEvent{
		Proposal: p.Address, Stage: store.StageMigration, Reason: "stop", CancelSignature: signature(),
	}, worker)
	require.ErrorIs(t, err, store.ErrInvalid)

	_, err = s.RecordRollback(ctx, store.RollbackEvent{Proposal: p.Address, Stage: "lunch", Reason: "stop"}, worker)
	require.ErrorIs(t, err, store.ErrInvalid)

	_, err = s.RecordRollback(ctx, store.RollbackEvent{Proposal: pubkey(), Stage: store.StageVerify, Reason: "stop"}, worker)
	require.ErrorIs(t, err, store.ErrNotFound, "the proposal must exist")

	_, err = s.RecordRollback(ctx, store.RollbackEvent{
		Proposal: p.Address, Stage: store.StageMigration, Reason: "stop", MigrationJobID: "no-such-job",
	}, worker)
	require.ErrorIs(t, err, store.ErrNotFound, "the job must exist")

	// A failed write leaves no audit row behind.
	assert.Equal(t, []string{store.ActionProposalCreated}, auditActions(t, s, store.AuditFilter{Proposal: p.Address}))
}

func TestErrorsNameWhatFailed(t *testing.T) {
	t.Parallel()
	s := pgtest.NewStore(t)
	addr := pubkey()
	_, err := s.GetProposal(ctxT(t), addr)
	require.ErrorIs(t, err, store.ErrNotFound)
	assert.True(t, strings.HasPrefix(err.Error(), "get proposal "+addr+": "), err.Error())
}

// migrationCount is the number of numbered SQL files: the schema version after Migrate.
func migrationCount(t *testing.T) int {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	require.NoError(t, err)
	return len(files)
}
