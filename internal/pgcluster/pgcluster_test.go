package pgcluster_test

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/pgcluster"
)

func TestStartServesAndStopStops(t *testing.T) {
	dir, err := os.MkdirTemp("", "pgcluster-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	url, stop, err := pgcluster.Start(ctx, dir)
	require.NoError(t, err)
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})

	conn, err := pgx.Connect(ctx, url)
	require.NoError(t, err)
	var who, listen string
	var major int
	require.NoError(t, conn.QueryRow(ctx, `SELECT current_user, current_setting('listen_addresses'),
		current_setting('server_version_num')::int / 10000`).Scan(&who, &listen, &major))
	assert.Equal(t, "postgres", who)
	assert.Equal(t, "127.0.0.1", listen)
	assert.GreaterOrEqual(t, major, 13, "DROP DATABASE ... WITH (FORCE) needs 13")
	require.NoError(t, conn.Close(ctx))

	// The unix socket is in dir, not in /var/run/postgresql.
	sockets, _ := filepath.Glob(filepath.Join(dir, ".s.PGSQL.[0-9]*[0-9]"))
	require.Len(t, sockets, 1)
	st, err := os.Stat(sockets[0])
	require.NoError(t, err)
	assert.Equal(t, os.ModeSocket, st.Mode().Type())

	if os.Geteuid() == 0 {
		// As root, the server must run as the postgres user, on a data dir that user owns.
		pg, err := user.Lookup("postgres")
		require.NoError(t, err)
		st, err := os.Stat(filepath.Join(dir, "data"))
		require.NoError(t, err)
		assert.Equal(t, pg.Uid, strconv.Itoa(int(st.Sys().(*syscall.Stat_t).Uid)))
		pid, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
		require.NoError(t, err)
		proc, err := os.Stat("/proc/" + firstLine(string(pid)))
		require.NoError(t, err)
		assert.Equal(t, pg.Uid, strconv.Itoa(int(proc.Sys().(*syscall.Stat_t).Uid)), "postmaster runs as postgres")
	}

	require.NoError(t, stop())
	stopped = true
	require.NoError(t, stop(), "stop is idempotent")
	short, cancelShort := context.WithTimeout(ctx, 2*time.Second)
	defer cancelShort()
	_, err = pgx.Connect(short, url)
	assert.Error(t, err, "nothing listens after stop")
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}

func TestBinDirFindsInitdb(t *testing.T) {
	dir, err := pgcluster.BinDir()
	require.NoError(t, err)
	for _, tool := range []string{"initdb", "postgres"} {
		_, err := os.Stat(filepath.Join(dir, tool))
		assert.NoError(t, err, tool)
	}
}
