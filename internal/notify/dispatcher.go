package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Kicker starts (or wakes) a subscription's delivery workflow. The worker passes a Temporal
// signal-with-start.
type Kicker func(ctx context.Context, subscription int64) error

// Dispatcher turns the audit trail's notified rows (queued in the outbox by the store, in the
// transaction that wrote them: the indexer's chain events and the worker's and API's own
// transitions alike) into events and deliveries, adds the eta reminders that fall due, and
// wakes the delivery workflows of the subscriptions that got something.
type Dispatcher struct {
	Store   *store.Store
	Builder *Builder
	Kick    Kicker
	Log     *slog.Logger
	// Now is the clock of eta reminders; nil means time.Now.
	Now func() time.Time

	// unwoken are subscriptions whose wake-up failed (Temporal unreachable): tried again at
	// the next tick.
	unwoken map[int64]bool
}

// outboxBatch bounds one pass over the outbox.
const outboxBatch = 200

// Run dispatches every interval until ctx ends. At start it wakes every subscription with
// pending deliveries, so a worker that stopped mid-queue carries on.
func (d *Dispatcher) Run(ctx context.Context, interval time.Duration) {
	started := false
	for {
		if !started {
			if err := d.kickPending(ctx); err != nil && ctx.Err() == nil {
				d.Log.Warn("notifier: wake pending subscriptions; retrying", "error", err)
			} else {
				started = true
			}
		}
		if _, err := d.Tick(ctx); err != nil && ctx.Err() == nil {
			d.Log.Warn("notifier: dispatch failed; retrying", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}

func (d *Dispatcher) kickPending(ctx context.Context) error {
	subs, err := d.Store.SubscriptionsWithPending(ctx)
	if err != nil {
		return err
	}
	for _, id := range subs {
		if err := d.Kick(ctx, id); err != nil {
			return fmt.Errorf("wake subscription %d: %w", id, err)
		}
	}
	return nil
}

// Tick dispatches what is waiting and returns how many events it recorded. Replicas take
// turns (the store's notifier lock); the one that finds it taken does nothing.
func (d *Dispatcher) Tick(ctx context.Context) (int, error) {
	n := 0
	woken := map[int64]bool{}
	_, err := d.Store.NotifyLeader(ctx, func() error {
		for {
			rows, err := d.Store.PendingOutbox(ctx, outboxBatch)
			if err != nil {
				return err
			}
			for _, e := range rows {
				evs, err := d.Builder.Events(ctx, e)
				if errors.Is(err, ErrUnusableRow) {
					// One bad row must not hold every later notification.
					d.Log.Error("notifier: skipping an audit row", "audit_id", e.ID, "action", e.Action, "error", err)
					evs, err = nil, nil
				}
				if err != nil {
					return fmt.Errorf("events of audit row %d (%s): %w", e.ID, e.Action, err)
				}
				subs, err := d.Store.RecordEvents(ctx, e.ID, evs)
				if err != nil {
					return err
				}
				n += len(evs)
				for _, s := range subs {
					woken[s] = true
				}
			}
			if len(rows) < outboxBatch {
				break
			}
		}
		now := time.Now()
		if d.Now != nil {
			now = d.Now()
		}
		due, err := d.Store.DueEtaReminders(ctx, now)
		if err != nil {
			return err
		}
		for _, r := range due {
			ev, err := d.Builder.Reminder(r, now)
			if err != nil {
				return err
			}
			subs, err := d.Store.RecordEvents(ctx, 0, []store.NotificationEvent{ev})
			if err != nil {
				return err
			}
			n++
			for _, s := range subs {
				woken[s] = true
			}
		}
		return nil
	})
	// Wake what got deliveries even when a later row failed: those are committed.
	for id := range d.unwoken {
		woken[id] = true
	}
	d.unwoken = map[int64]bool{}
	for id := range woken {
		if kerr := d.Kick(ctx, id); kerr != nil {
			d.unwoken[id] = true
			if err == nil {
				err = fmt.Errorf("wake subscription %d: %w", id, kerr)
			}
		}
	}
	return n, err
}
