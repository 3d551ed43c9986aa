package store

import (
	"context"
	"fmt"
	"time"
)

// Cursor is how far the indexer has read one stream of one program.
type Cursor struct {
	Program       string
	Stream        string // e.g. "events"
	LastSignature string
	LastSlot      uint64
	UpdatedAt     time.Time
}

// GetCursor returns the stored position, or ErrNotFound when the indexer never saved one.
func (s *Store) GetCursor(ctx context.Context, program, stream string) (Cursor, error) {
	c := Cursor{Program: program, Stream: stream}
	var slot int64
	err := s.pool.QueryRow(ctx, `
		SELECT last_signature, last_slot, updated_at FROM indexer_cursor
		WHERE program = $1 AND stream = $2`, program, stream).Scan(&c.LastSignature, &slot, &c.UpdatedAt)
	if err != nil {
		return Cursor{}, fmt.Errorf("get cursor %s/%s: %w", program, stream, classify(err))
	}
	c.LastSlot = uint64(slot)
	return c, nil
}

// SaveCursor stores the position unless the stored one is at a later slot (two indexers, or a
// replay, never move it back). It reports whether it was stored.
func (s *Store) SaveCursor(ctx context.Context, c Cursor) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO indexer_cursor (program, stream, last_signature, last_slot) VALUES ($1, $2, $3, $4)
		ON CONFLICT (program, stream) DO UPDATE
			SET last_signature = excluded.last_signature, last_slot = excluded.last_slot, updated_at = now()
			WHERE indexer_cursor.last_slot <= excluded.last_slot`,
		c.Program, c.Stream, c.LastSignature, int64(c.LastSlot))
	if err != nil {
		return false, fmt.Errorf("save cursor %s/%s: %w", c.Program, c.Stream, classify(err))
	}
	return tag.RowsAffected() == 1, nil
}
