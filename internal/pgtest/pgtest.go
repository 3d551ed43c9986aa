// Package pgtest gives each test a fresh, migrated database on a real PostgreSQL server: the
// one at $PG_TEST_URL, or a private cluster started once per test binary.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/upgrade-governor/upgrade-governor/internal/pgcluster"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// AdminURLEnv names an existing server's superuser URL (postgres://...); when set, no private
// cluster is started and databases are created there.
const AdminURLEnv = "PG_TEST_URL"

var (
	mu         sync.Mutex
	mainCalled bool
	adminURL   string
	startErr   error
	started    bool
	stopFn     func() error
	clusterDir string
)

// Main runs the package's tests and then stops the private cluster, if one was started. Call it
// from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	mu.Lock()
	mainCalled = true
	mu.Unlock()
	code := m.Run()
	if err := shutdown(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

func shutdown() error {
	mu.Lock()
	defer mu.Unlock()
	var err error
	if stopFn != nil {
		err = stopFn()
		stopFn = nil
	}
	if clusterDir != "" {
		_ = os.RemoveAll(clusterDir)
		clusterDir = ""
	}
	return err
}

// admin returns the superuser URL, starting the private cluster on first use.
func admin(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(AdminURLEnv); u != "" {
		return u
	}
	mu.Lock()
	defer mu.Unlock()
	if !mainCalled {
		t.Fatal("pgtest: the package's TestMain must call pgtest.Main(m), which stops the private PostgreSQL cluster")
	}
	if !started {
		started = true
		start := time.Now()
		clusterDir, startErr = os.MkdirTemp("", "pgtest-")
		if startErr == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			adminURL, stopFn, startErr = pgcluster.Start(ctx, clusterDir)
			cancel()
		}
		if startErr == nil {
			t.Logf("pgtest: private PostgreSQL cluster in %s ready in %s", clusterDir, time.Since(start).Round(time.Millisecond))
		}
	}
	if startErr != nil {
		t.Fatalf("pgtest: start a private PostgreSQL cluster (or set %s): %v", AdminURLEnv, startErr)
	}
	return adminURL
}

// NewDatabase creates an empty database for this test and returns its URL; the database is
// dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	base := admin(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "ug_test_" + hex.EncodeToString(b[:])

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("pgtest: connect to the admin database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		t.Fatalf("pgtest: %s must be a postgres:// URL", AdminURLEnv)
	}
	u.Path = "/" + name
	return u.String()
}

// NewStore returns a store on a fresh, migrated database of its own; the store is closed and
// the database dropped when the test ends.
func NewStore(t testing.TB) *store.Store {
	t.Helper()
	dbURL := NewDatabase(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := store.New(ctx, dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(s.Close) // runs before the drop registered by NewDatabase
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return s
}
