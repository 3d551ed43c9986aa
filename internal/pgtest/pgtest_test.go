package pgtest

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func TestMain(m *testing.M) { Main(m) }

func dbName(t *testing.T, url string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var name string
	require.NoError(t, conn.QueryRow(ctx, `SELECT current_database()`).Scan(&name))
	return name
}

func databaseExists(t *testing.T, name string) bool {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin(t))
	require.NoError(t, err)
	defer conn.Close(ctx)
	var exists bool
	require.NoError(t, conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists))
	return exists
}

func TestEachCallGetsItsOwnDatabaseDroppedAfterwards(t *testing.T) {
	var first, second string
	t.Run("inner", func(t *testing.T) {
		first = dbName(t, NewDatabase(t))
		second = dbName(t, NewDatabase(t))
		assert.NotEqual(t, first, second)
		assert.True(t, databaseExists(t, first))
	})
	assert.False(t, databaseExists(t, first), "dropped when the test ended")
	assert.False(t, databaseExists(t, second))
}

func TestNewStoreIsMigratedAndIsolated(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	a, b := NewStore(t), NewStore(t)
	current, latest, err := a.SchemaVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, latest, current)
	assert.Positive(t, current)

	_, _, err = a.CreateToken(ctx, "only-in-a", "operator", storeOrigin)
	require.NoError(t, err)
	tokensB, err := b.ListTokens(ctx)
	require.NoError(t, err)
	assert.Empty(t, tokensB)
}

var storeOrigin = store.Origin{Actor: "pgtest", Source: store.SourceCLI}
