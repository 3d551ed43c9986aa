package store

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// Raw SQL for tests that prove the schema itself refuses bad writes, bypassing the methods.

func (s *Store) ExecRaw(ctx context.Context, sql string, args ...any) error {
	_, err := s.pool.Exec(ctx, sql, args...)
	return err
}

func (s *Store) QueryRowRaw(ctx context.Context, sql string, args ...any) pgx.Row {
	return s.pool.QueryRow(ctx, sql, args...)
}
