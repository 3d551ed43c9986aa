// Package store keeps the governance index and the audit trail in PostgreSQL; it owns every SQL
// statement of the project.
package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/upgrade-governor/upgrade-governor/migrations"
)

// Errors a caller can act on; every error the store returns wraps at most one of them, together
// with the database's own error when there is one.
var (
	// ErrNotFound: the row, or a row it refers to, does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict: the write contradicts stored data (a duplicate key, or a change to a field
	// that never changes, such as a proposal's buffer hash).
	ErrConflict = errors.New("conflicts with stored data")
	// ErrInvalid: a value breaks a rule of the schema (a bad address, an unknown status, ...).
	ErrInvalid = errors.New("invalid value")
	// ErrInvalidTransition: a status cannot move that way (an executed proposal cannot be
	// cancelled, a migrated account cannot fail).
	ErrInvalidTransition = errors.New("invalid status transition")
	// ErrAppendOnly: something tried to change or remove an audit row.
	ErrAppendOnly = errors.New("audit log is append-only")
	// ErrRevoked: the API token exists but was revoked.
	ErrRevoked = errors.New("token revoked")
)

var sentinels = []error{ErrNotFound, ErrConflict, ErrInvalid, ErrInvalidTransition, ErrAppendOnly, ErrRevoked}

// classify wraps a database error in the sentinel that says what went wrong.
func classify(err error) error {
	if err == nil {
		return nil
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return err
		}
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return err
	}
	var kind error
	switch pgErr.Code {
	case "23503": // foreign_key_violation: the referenced proposal or job is missing
		kind = ErrNotFound
	case "23505", "UG002": // unique_violation, immutable field changed (migrations' triggers)
		kind = ErrConflict
	case "23514", "23502", "22P02", "22001", "22003", "22023": // check, not null, bad text, too long, out of range
		kind = ErrInvalid
	case "UG001":
		kind = ErrInvalidTransition
	case "UG003":
		kind = ErrAppendOnly
	default:
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// Source says which component wrote an audit row.
type Source string

// Sources allowed by the audit_log table.
const (
	SourceAPI     Source = "api"
	SourceWorker  Source = "worker"
	SourceIndexer Source = "indexer"
	SourceCLI     Source = "cli"
)

// Origin says who caused a write and through which component; every audited write takes one.
type Origin struct {
	// Actor is a member's or guardian's public key, an API token's name, or a component name.
	Actor  string
	Source Source
}

// Store is the PostgreSQL index and audit trail. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// New connects to databaseURL and checks the connection.
func New(ctx context.Context, databaseURL string) (*Store, error) {
	s, err := open(databaseURL)
	if err != nil {
		return nil, err
	}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// defaultMaxConns is the pool's size unless the database URL says pool_max_conns.
const defaultMaxConns = 16

// open builds the pool without connecting; connections are made on first use.
func open(databaseURL string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// The parse error can quote the URL, password included.
		return nil, errors.New("store: database URL does not parse")
	}
	if !strings.Contains(databaseURL, "pool_max_conns") {
		// pgx's default is max(4, CPUs): the worker's migration chunks, its indexer and its
		// activities share the pool, and with 4 a migration's commits queued behind the
		// indexer's. The URL's pool_max_conns, when given, decides.
		cfg.MaxConns = defaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("store: create pool: %w", err)
	}
	return &Store{pool: pool}, nil
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("store: ping database: %w", err)
	}
	return nil
}

// Close releases every connection.
func (s *Store) Close() {
	s.pool.Close()
}

// Migrate applies the pending migrations of the embedded migrations.FS. Several replicas may
// call it at once: a PostgreSQL advisory lock lets one of them migrate while the others wait.
func (s *Store) Migrate(ctx context.Context) error {
	p, closeDB, err := s.migrations()
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// SchemaVersion returns the applied migration version and the newest one embedded in the binary.
func (s *Store) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, closeDB, err := s.migrations()
	if err != nil {
		return 0, 0, err
	}
	defer closeDB()
	current, latest, err = p.GetVersions(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("store: schema version: %w", err)
	}
	return current, latest, nil
}

func (s *Store) migrations() (*goose.Provider, func(), error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return nil, nil, fmt.Errorf("store: migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(s.pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS, goose.WithSessionLocker(locker))
	if err != nil {
		_ = db.Close()
		return nil, nil, fmt.Errorf("store: load migrations: %w", err)
	}
	return p, func() { _ = db.Close() }, nil
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// inTx runs fn in one transaction, committed when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// Nullable parameters: the zero value of a Go field means SQL NULL.

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// nullJSON is raw JSON for a jsonb column, NULL when empty.
func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// nullSlot treats slot 0 (genesis) as unknown: no governance event happens there.
func nullSlot(slot uint64) any {
	if slot == 0 {
		return nil
	}
	return int64(slot)
}

func clampLimit(limit, def, max int) int {
	if limit <= 0 {
		return def
	}
	if limit > max {
		return max
	}
	return limit
}
