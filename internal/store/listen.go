package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// IndexChannel is the channel PostgreSQL notifies at the commit of every transaction that
// changed upgrade_proposals or approval_history (migration 00005).
const IndexChannel = "ug_index_changed"

// IndexWatch receives what WatchIndex sees. Both are called from WatchIndex's goroutine.
type IndexWatch struct {
	// Changed is called for each notification, and once each time listening (re)starts: a
	// change may have been missed while it was not listening.
	Changed func()
	// Listening is called with true once LISTEN is in place, and with false (and the error) as
	// soon as the connection is lost; while not listening, changes are not reported.
	Listening func(on bool, err error)
}

// WatchIndex listens for index changes on a connection of its own (outside the pool) until ctx
// ends, reconnecting after a loss with a growing pause (at most maxPause). It returns ctx's error.
func (s *Store) WatchIndex(ctx context.Context, w IndexWatch, maxPause time.Duration) error {
	pause := 100 * time.Millisecond
	for {
		err := s.watchOnce(ctx, w)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		w.Listening(false, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(pause*2, maxPause)
		if err == nil {
			pause = 100 * time.Millisecond
		}
	}
}

func (s *Store) watchOnce(ctx context.Context, w IndexWatch) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("store: connect to listen for index changes: %w", classify(err))
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(cctx) // the connection is being dropped either way
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+IndexChannel); err != nil {
		return fmt.Errorf("store: listen on %s: %w", IndexChannel, classify(err))
	}
	w.Listening(true, nil)
	w.Changed()
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return ctx.Err()
			}
			return fmt.Errorf("store: wait for index changes: %w", classify(err))
		}
		w.Changed()
	}
}
