package migrations_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/migrations"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func provider(t *testing.T) (*goose.Provider, *sql.DB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool, err := pgxpool.New(ctx, pgtest.NewDatabase(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS)
	require.NoError(t, err)
	return p, db
}

func tables(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version' ORDER BY 1`)
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		require.NoError(t, rows.Scan(&name))
		out = append(out, name)
	}
	require.NoError(t, rows.Err())
	return out
}

func TestMigrationsAreNumberedFromOne(t *testing.T) {
	p, _ := provider(t)
	var versions []int64
	for _, src := range p.ListSources() {
		versions = append(versions, src.Version)
	}
	require.NotEmpty(t, versions)
	for i, v := range versions {
		assert.Equal(t, int64(i+1), v, "migrations are numbered 1, 2, 3, ... without gaps")
	}
}

// Every migration can be undone and redone: Down sections are kept honest.
func TestMigrationsGoUpDownAndUpAgain(t *testing.T) {
	p, db := provider(t)
	ctx := context.Background()

	_, err := p.Up(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"account_migrations", "api_tokens", "approval_history", "audit_log", "indexer_cursor",
		"migration_jobs", "multisig_configs", "notification_deliveries", "notification_events",
		"notification_outbox", "notification_subscriptions", "rollback_events", "served_multisigs",
		"upgrade_proposals", "worker_keys",
	}, tables(t, db))

	again, err := p.Up(ctx)
	require.NoError(t, err)
	assert.Empty(t, again, "a second Up applies nothing")

	_, err = p.DownTo(ctx, 0)
	require.NoError(t, err)
	assert.Empty(t, tables(t, db))
	var leftovers int
	require.NoError(t, db.QueryRow(`SELECT
		(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public')
		+ (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
		   WHERE n.nspname = 'public' AND t.typtype = 'd')`).Scan(&leftovers))
	assert.Zero(t, leftovers, "functions and domains are dropped too")

	_, err = p.Up(ctx)
	require.NoError(t, err)
	assert.Len(t, tables(t, db), 15)
}
