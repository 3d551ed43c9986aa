package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5"
)

// NotifiedActions are the audit actions the notifier turns into events (internal/notify maps
// each one; its test checks the two lists agree). Their rows are queued in notification_outbox.
var NotifiedActions = map[string]bool{
	ActionProposalCreated:     true,
	ActionApprovalRecorded:    true,
	"proposal.approved":       true,
	"proposal.executed":       true,
	"proposal.cancelled":      true,
	"proposal.expired":        true,
	"migration.started":       true,
	"migration.resumed":       true,
	ActionAccountsMigrated:    true,
	"migration.completed":     true,
	"migration.failed":        true,
	"migration.cancelled":     true,
	ActionChainSystemPaused:   true,
	ActionChainSystemResumed:  true,
	ActionChainConfigExecuted: true,
}

// Audit actions of notifications; the chain.* ones are the indexer's.
const (
	ActionChainSystemPaused       = "chain.system_paused"
	ActionChainSystemResumed      = "chain.system_resumed"
	ActionChainConfigExecuted     = "chain.config_executed"
	ActionNotificationSubCreated  = "notification.subscription_created"
	ActionNotificationSubPaused   = "notification.subscription_paused"
	ActionNotificationSubResumed  = "notification.subscription_resumed"
	ActionNotificationSubDeleted  = "notification.subscription_deleted"
	ActionNotificationDelivered   = "notification.delivered"
	ActionNotificationFailed      = "notification.failed"
	ActionNotificationRedelivered = "notification.redelivery_requested"
)

// Subscription statuses.
const (
	SubscriptionActive  = "active"
	SubscriptionPaused  = "paused"
	SubscriptionDeleted = "deleted"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	// DeliveryDropped: the subscription was deleted before the delivery was sent.
	DeliveryDropped = "dropped"
)

// Subscription is a webhook: where a multisig's or a program's events are posted. Its secret
// never leaves the store except through DeliveryJob, to sign.
type Subscription struct {
	ID   int64
	Name string
	URL  string
	// Exactly one of Multisig and Program is set.
	Multisig string
	Program  string
	// Events are the event types sent; empty means all.
	Events []string
	// Format is json, slack or discord.
	Format string
	// EtaReminderHours: proposal.eta_reminder this many hours before eta; 0 means none.
	EtaReminderHours int
	MaxAttempts      int
	Status           string
	CreatedBy        string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	// Deliveries by status (pending, delivered, failed, dropped), set by the reads.
	Deliveries map[string]int
}

// RedactedURL is the subscription's URL without what may be a credential (a Slack or Discord
// webhook's path is its key): scheme, host and port only.
func (s Subscription) RedactedURL() string { return RedactURL(s.URL) }

// RedactURL keeps the scheme, host and port of raw.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "(invalid URL)"
	}
	out := u.Scheme + "://" + u.Host
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		out += "/…"
	}
	return out
}

const subscriptionColumns = `id, name, url, coalesce(multisig, ''), coalesce(program, ''), events, format,
	coalesce(eta_reminder_hours, 0), max_attempts, status, created_by, created_at, updated_at`

func scanSubscription(row pgx.Row) (Subscription, error) {
	var s Subscription
	err := row.Scan(&s.ID, &s.Name, &s.URL, &s.Multisig, &s.Program, &s.Events, &s.Format,
		&s.EtaReminderHours, &s.MaxAttempts, &s.Status, &s.CreatedBy, &s.CreatedAt, &s.UpdatedAt)
	return s, err
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// CreateSubscription stores a new subscription with its signing secret and appends
// notification.subscription_created (without the secret, and with the URL redacted).
func (s *Store) CreateSubscription(ctx context.Context, sub Subscription, secret string, o Origin) (Subscription, error) {
	if sub.Events == nil {
		sub.Events = []string{}
	}
	var out Subscription
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanSubscription(tx.QueryRow(ctx, `
			INSERT INTO notification_subscriptions (name, url, multisig, program, events, format,
				eta_reminder_hours, max_attempts, secret, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			RETURNING `+subscriptionColumns,
			sub.Name, sub.URL, nullString(sub.Multisig), nullString(sub.Program), sub.Events, sub.Format,
			nullInt(sub.EtaReminderHours), sub.MaxAttempts, secret, o.Actor))
		if err != nil {
			return err
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionNotificationSubCreated,
			Details: map[string]any{"subscription": out.ID, "name": out.Name, "url": out.RedactedURL(),
				"multisig": out.Multisig, "program": out.Program, "events": out.Events, "format": out.Format,
				"eta_reminder_hours": out.EtaReminderHours, "max_attempts": out.MaxAttempts},
		})
		return err
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("create subscription %q: %w", sub.Name, classify(err))
	}
	out.Deliveries = map[string]int{}
	return out, nil
}

// withDeliveryCounts fills Deliveries of each subscription.
func (s *Store) withDeliveryCounts(ctx context.Context, subs []Subscription) error {
	if len(subs) == 0 {
		return nil
	}
	ids := make([]int64, len(subs))
	at := map[int64]int{}
	for i := range subs {
		ids[i] = subs[i].ID
		at[subs[i].ID] = i
		subs[i].Deliveries = map[string]int{}
	}
	rows, err := s.pool.Query(ctx, `SELECT subscription_id, status, count(*) FROM notification_deliveries
		WHERE subscription_id = ANY($1) GROUP BY 1, 2`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var status string
		var n int
		if err := rows.Scan(&id, &status, &n); err != nil {
			return err
		}
		subs[at[id]].Deliveries[status] = n
	}
	return rows.Err()
}

// GetSubscription returns a subscription (a deleted one too), or ErrNotFound.
func (s *Store) GetSubscription(ctx context.Context, id int64) (Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx,
		`SELECT `+subscriptionColumns+` FROM notification_subscriptions WHERE id = $1`, id))
	if err == nil {
		list := []Subscription{sub}
		err = s.withDeliveryCounts(ctx, list)
		sub = list[0]
	}
	if err != nil {
		return Subscription{}, fmt.Errorf("get subscription %d: %w", id, classify(err))
	}
	return sub, nil
}

// ListSubscriptions returns the subscriptions that are not deleted, oldest first.
func (s *Store) ListSubscriptions(ctx context.Context) ([]Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM notification_subscriptions
		WHERE status <> 'deleted' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Subscription, error) { return scanSubscription(row) })
	if err == nil {
		err = s.withDeliveryCounts(ctx, out)
	}
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", classify(err))
	}
	return out, nil
}

// SetSubscriptionStatus pauses, resumes or deletes a subscription and appends the matching
// notification.subscription_* row. Deleting drops its pending deliveries and is final
// (ErrInvalidTransition afterwards); setting the status it has changes nothing.
func (s *Store) SetSubscriptionStatus(ctx context.Context, id int64, status string, o Origin) (Subscription, error) {
	action := map[string]string{
		SubscriptionActive: ActionNotificationSubResumed, SubscriptionPaused: ActionNotificationSubPaused,
		SubscriptionDeleted: ActionNotificationSubDeleted,
	}[status]
	if action == "" {
		return Subscription{}, fmt.Errorf("set subscription %d status %q: %w", id, status, ErrInvalid)
	}
	var out Subscription
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var from string
		if err := tx.QueryRow(ctx, `SELECT status FROM notification_subscriptions WHERE id = $1 FOR UPDATE`, id).Scan(&from); err != nil {
			return err
		}
		if from == SubscriptionDeleted && status != SubscriptionDeleted {
			return fmt.Errorf("subscription %d is deleted: %w", id, ErrInvalidTransition)
		}
		var err error
		out, err = scanSubscription(tx.QueryRow(ctx, `UPDATE notification_subscriptions
			SET status = $2, updated_at = CASE WHEN status = $2 THEN updated_at ELSE now() END
			WHERE id = $1 RETURNING `+subscriptionColumns, id, status))
		if err != nil || from == status {
			return err
		}
		if status == SubscriptionDeleted {
			if _, err := tx.Exec(ctx, `UPDATE notification_deliveries SET status = 'dropped', updated_at = now()
				WHERE subscription_id = $1 AND status = 'pending'`, id); err != nil {
				return err
			}
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: action,
			Details: map[string]any{"subscription": id, "name": out.Name, "from": from, "to": status},
		})
		return err
	})
	if err != nil {
		return Subscription{}, fmt.Errorf("set subscription %d status %s: %w", id, status, classify(err))
	}
	list := []Subscription{out}
	if err := s.withDeliveryCounts(ctx, list); err != nil {
		return Subscription{}, fmt.Errorf("set subscription %d status %s: %w", id, status, classify(err))
	}
	return list[0], nil
}

// RedeliverFailed puts a subscription's failed deliveries back in its queue (their attempts
// start again) and appends notification.redelivery_requested; it returns how many.
func (s *Store) RedeliverFailed(ctx context.Context, id int64, o Origin) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notification_deliveries SET status = 'pending', attempts = 0, updated_at = now()
			WHERE subscription_id = $1 AND status = 'failed'`, id)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		if n == 0 {
			return nil
		}
		_, err = appendAudit(ctx, tx, AuditEntry{
			Actor: o.Actor, Source: o.Source, Action: ActionNotificationRedelivered,
			Details: map[string]any{"subscription": id, "deliveries": n},
		})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("redeliver failed deliveries of subscription %d: %w", id, classify(err))
	}
	return n, nil
}

// NotificationEvent is one thing that happened, once, as subscribers are told of it.
type NotificationEvent struct {
	ID int64
	// Key names the change ("proposal.approval:<proposal>:<member>"); an event recorded twice
	// is one event.
	Key      string
	Type     string
	Multisig string
	// Program is empty for an event of the whole multisig (pause, resume, config change).
	Program  string
	Proposal string
	AuditID  int64
	// OccurredAt is when it happened (the chain's clock when known).
	OccurredAt time.Time
	Payload    json.RawMessage
	// EtaReminderHours limits the deliveries of a proposal.eta_reminder to the subscriptions
	// that asked for this many hours.
	EtaReminderHours int
}

// NotifyLeader runs fn while holding the notifier's lock (a PostgreSQL advisory lock held by
// a transaction), so replicas turn the outbox into events one at a time and in order. It
// reports false without running fn when another replica holds it.
func (s *Store) NotifyLeader(ctx context.Context, fn func() error) (bool, error) {
	ran := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var got bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(hashtext('upgrade-governor.notifier'))`).Scan(&got); err != nil {
			return err
		}
		if !got {
			return nil
		}
		ran = true
		return fn()
	})
	if err != nil {
		return ran, fmt.Errorf("notifier lock: %w", classify(err))
	}
	return ran, nil
}

// PendingOutbox returns up to limit audit rows waiting for the notifier, oldest first.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]AuditEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT a.id, a.at, a.actor, a.action, coalesce(a.proposal, ''),
		coalesce(a.signature, ''), coalesce(a.slot, 0), a.source, a.details, a.at_clock, a.recorded_at
		FROM notification_outbox o JOIN audit_log a ON a.id = o.audit_id ORDER BY o.audit_id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		var slot int64
		err := row.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Proposal, &e.Signature, &slot,
			&e.Source, &e.Details, &e.AtClock, &e.RecordedAt)
		e.Slot = uint64(slot)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending outbox: %w", classify(err))
	}
	return out, nil
}

// RecordEvents stores the events an audit row gave rise to, queues a delivery for every
// subscription that matches each new one, and takes the row off the outbox, in one
// transaction. It returns the subscriptions that got a delivery.
func (s *Store) RecordEvents(ctx context.Context, auditID int64, events []NotificationEvent) ([]int64, error) {
	var subs []int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		subs, err = recordEvents(ctx, tx, events)
		if err != nil {
			return err
		}
		if auditID > 0 {
			_, err = tx.Exec(ctx, `DELETE FROM notification_outbox WHERE audit_id = $1`, auditID)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("record notification events of audit row %d: %w", auditID, classify(err))
	}
	return subs, nil
}

func recordEvents(ctx context.Context, tx pgx.Tx, events []NotificationEvent) ([]int64, error) {
	seen := map[int64]bool{}
	var subs []int64
	for _, ev := range events {
		var id int64
		err := tx.QueryRow(ctx, `
			INSERT INTO notification_events (event_key, type, multisig, program, proposal, audit_id, occurred_at, payload)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (event_key) DO NOTHING RETURNING id`,
			ev.Key, ev.Type, ev.Multisig, nullString(ev.Program), nullString(ev.Proposal),
			nullInt64(ev.AuditID), ev.OccurredAt, string(ev.Payload)).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // already recorded: its deliveries were queued then
		}
		if err != nil {
			return nil, err
		}
		// A program's subscribers hear of their program's proposals, and of the multisig-wide
		// events of every multisig that proposed an upgrade of it.
		rows, err := tx.Query(ctx, `
			INSERT INTO notification_deliveries (subscription_id, event_id)
			SELECT s.id, $1 FROM notification_subscriptions s
			WHERE s.status <> 'deleted'
			  AND (cardinality(s.events) = 0 OR $2::text = ANY (s.events))
			  AND ($5::int IS NULL OR s.eta_reminder_hours = $5::int)
			  AND (s.multisig = $3::text
			       OR ($4::text IS NOT NULL AND s.program = $4::text)
			       OR ($4::text IS NULL AND s.program IN (
			           SELECT target_program FROM upgrade_proposals WHERE multisig = $3::text AND kind = 'upgrade')))
			ORDER BY s.id
			ON CONFLICT DO NOTHING
			RETURNING subscription_id`, id, ev.Type, ev.Multisig, nullString(ev.Program), nullInt(ev.EtaReminderHours))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var sub int64
			if err := rows.Scan(&sub); err != nil {
				rows.Close()
				return nil, err
			}
			if !seen[sub] {
				seen[sub] = true
				subs = append(subs, sub)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return subs, nil
}

func nullInt64(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// EventRecorded reports whether an event with key exists.
func (s *Store) EventRecorded(ctx context.Context, key string) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notification_events WHERE event_key = $1)`, key).Scan(&ok); err != nil {
		return false, fmt.Errorf("event %s recorded: %w", key, classify(err))
	}
	return ok, nil
}

// DueReminder is an approved proposal whose eta is Hours away or less, for which some
// subscription wants a reminder that was not sent yet.
type DueReminder struct {
	Proposal Proposal
	Hours    int
}

// EtaReminderKey names the reminder of proposal, hours before its eta.
func EtaReminderKey(proposal string, hours int) string {
	return fmt.Sprintf("proposal.eta_reminder:%s:%dh", proposal, hours)
}

// DueEtaReminders returns the reminders due at now: approved proposals of served multisigs
// with eta after now and at most a subscription's eta_reminder_hours away.
func (s *Store) DueEtaReminders(ctx context.Context, now time.Time) ([]DueReminder, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT DISTINCT p.address, s.eta_reminder_hours
		FROM upgrade_proposals p
		JOIN served_multisigs m ON m.address = p.multisig
		JOIN notification_subscriptions s ON s.status <> 'deleted' AND s.eta_reminder_hours IS NOT NULL
			AND (s.multisig = p.multisig OR s.program = p.target_program)
		WHERE p.status = 'approved' AND p.eta > $1
		  AND p.eta - make_interval(hours => s.eta_reminder_hours) <= $1
		  AND NOT EXISTS (SELECT 1 FROM notification_events e
			WHERE e.event_key = 'proposal.eta_reminder:' || p.address || ':' || s.eta_reminder_hours || 'h')
		ORDER BY 1, 2`, now)
	if err != nil {
		return nil, fmt.Errorf("due eta reminders: %w", classify(err))
	}
	type due struct {
		addr  string
		hours int
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (due, error) {
		var d due
		err := row.Scan(&d.addr, &d.hours)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("due eta reminders: %w", classify(err))
	}
	out := make([]DueReminder, 0, len(list))
	for _, d := range list {
		p, err := s.GetProposal(ctx, d.addr)
		if err != nil {
			return nil, err
		}
		out = append(out, DueReminder{Proposal: p, Hours: d.hours})
	}
	return out, nil
}

// DeliveryQueue is what a subscription's delivery workflow does next.
type DeliveryQueue struct {
	Status      string
	MaxAttempts int
	// Deliveries are the IDs of its pending deliveries, in event order.
	Deliveries []int64
}

// NextDeliveries returns the subscription's status and up to limit pending deliveries, oldest
// event first.
func (s *Store) NextDeliveries(ctx context.Context, subscription int64, limit int) (DeliveryQueue, error) {
	var q DeliveryQueue
	err := s.pool.QueryRow(ctx, `SELECT status, max_attempts FROM notification_subscriptions WHERE id = $1`,
		subscription).Scan(&q.Status, &q.MaxAttempts)
	if err != nil {
		return q, fmt.Errorf("next deliveries of subscription %d: %w", subscription, classify(err))
	}
	rows, err := s.pool.Query(ctx, `SELECT id FROM notification_deliveries
		WHERE subscription_id = $1 AND status = 'pending' ORDER BY event_id LIMIT $2`, subscription, limit)
	if err != nil {
		return q, fmt.Errorf("next deliveries of subscription %d: %w", subscription, classify(err))
	}
	q.Deliveries, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return q, fmt.Errorf("next deliveries of subscription %d: %w", subscription, classify(err))
	}
	return q, nil
}

// SubscriptionsWithPending lists the subscriptions that are active and have pending
// deliveries (their workflows are started again when the worker starts).
func (s *Store) SubscriptionsWithPending(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT s.id FROM notification_subscriptions s WHERE s.status = 'active'
		AND EXISTS (SELECT 1 FROM notification_deliveries d WHERE d.subscription_id = s.id AND d.status = 'pending')
		ORDER BY s.id`)
	if err != nil {
		return nil, fmt.Errorf("subscriptions with pending deliveries: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("subscriptions with pending deliveries: %w", classify(err))
	}
	return out, nil
}

// DeliveryJob is what sending one delivery needs: the event, and where and how to send it.
type DeliveryJob struct {
	DeliveryID   int64
	Status       string
	Attempts     int
	Subscription Subscription
	// Secret signs the body; never log it.
	Secret string
	Event  NotificationEvent
}

// GetDeliveryJob reads a delivery with its event and its subscription's URL and secret.
func (s *Store) GetDeliveryJob(ctx context.Context, id int64) (DeliveryJob, error) {
	var j DeliveryJob
	var sub Subscription
	var program, proposal string
	var auditID *int64
	var payload []byte
	err := s.pool.QueryRow(ctx, `
		SELECT d.id, d.status, d.attempts, s.secret,
			s.id, s.name, s.url, coalesce(s.multisig, ''), coalesce(s.program, ''), s.events, s.format,
			coalesce(s.eta_reminder_hours, 0), s.max_attempts, s.status, s.created_by, s.created_at, s.updated_at,
			e.id, e.event_key, e.type, e.multisig, coalesce(e.program, ''), coalesce(e.proposal, ''), e.audit_id,
			e.occurred_at, e.payload
		FROM notification_deliveries d
		JOIN notification_subscriptions s ON s.id = d.subscription_id
		JOIN notification_events e ON e.id = d.event_id
		WHERE d.id = $1`, id).Scan(&j.DeliveryID, &j.Status, &j.Attempts, &j.Secret,
		&sub.ID, &sub.Name, &sub.URL, &sub.Multisig, &sub.Program, &sub.Events, &sub.Format,
		&sub.EtaReminderHours, &sub.MaxAttempts, &sub.Status, &sub.CreatedBy, &sub.CreatedAt, &sub.UpdatedAt,
		&j.Event.ID, &j.Event.Key, &j.Event.Type, &j.Event.Multisig, &program, &proposal, &auditID,
		&j.Event.OccurredAt, &payload)
	if err != nil {
		return DeliveryJob{}, fmt.Errorf("get delivery %d: %w", id, classify(err))
	}
	j.Subscription = sub
	j.Event.Program, j.Event.Proposal, j.Event.Payload = program, proposal, payload
	if auditID != nil {
		j.Event.AuditID = *auditID
	}
	return j, nil
}

// RecordDeliveryAttempt counts one attempt at a pending delivery and what the receiver said
// (status 0: no answer); errText is kept short by the caller.
func (s *Store) RecordDeliveryAttempt(ctx context.Context, id int64, status int, errText string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notification_deliveries SET attempts = attempts + 1,
		last_status = $2, last_error = $3, updated_at = now() WHERE id = $1 AND status = 'pending'`,
		id, nullInt(status), nullString(errText))
	if err != nil {
		return fmt.Errorf("record attempt of delivery %d: %w", id, classify(err))
	}
	return nil
}

// FinishDelivery marks a pending delivery delivered, failed or dropped and appends
// notification.delivered or notification.failed. A delivery that is no longer pending is left
// as it is (reports false).
func (s *Store) FinishDelivery(ctx context.Context, id int64, status string, lastStatus int, errText string, o Origin) (bool, error) {
	changed := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var sub, attempts int64
		var key, typ, proposal string
		err := tx.QueryRow(ctx, `
			UPDATE notification_deliveries d SET status = $2, updated_at = now(),
				last_status = coalesce($3, last_status), last_error = CASE WHEN $2 = 'delivered' THEN NULL ELSE coalesce($4, last_error) END,
				delivered_at = CASE WHEN $2 = 'delivered' THEN now() END
			FROM notification_events e
			WHERE d.id = $1 AND d.status = 'pending' AND e.id = d.event_id
			RETURNING d.subscription_id, d.attempts, e.event_key, e.type, coalesce(e.proposal, '')`,
			id, status, nullInt(lastStatus), nullString(errText)).Scan(&sub, &attempts, &key, &typ, &proposal)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		changed = true
		action := map[string]string{DeliveryDelivered: ActionNotificationDelivered, DeliveryFailed: ActionNotificationFailed}[status]
		if action == "" {
			return nil
		}
		details := map[string]any{"subscription": sub, "delivery": id, "event": key, "type": typ, "attempts": attempts}
		if lastStatus != 0 {
			details["status"] = lastStatus
		}
		if errText != "" {
			details["error"] = errText
		}
		_, err = appendAudit(ctx, tx, AuditEntry{Actor: o.Actor, Source: o.Source, Action: action, Proposal: proposal, Details: details})
		return err
	})
	if err != nil {
		return false, fmt.Errorf("finish delivery %d as %s: %w", id, status, classify(err))
	}
	return changed, nil
}

// Delivery is one row of a subscription's delivery log.
type Delivery struct {
	ID           int64
	Subscription int64
	EventKey     string
	EventType    string
	Proposal     string
	OccurredAt   time.Time
	Status       string
	Attempts     int
	LastStatus   int
	LastError    string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	DeliveredAt  *time.Time
}

// DeliveryFilter selects a subscription's deliveries; zero fields do not filter.
type DeliveryFilter struct {
	Subscription int64
	Status       string
	Before       int64 // keyset cursor: deliveries with a smaller ID
	Limit        int   // default 100, at most 1000
}

// ListDeliveries returns a subscription's deliveries, newest first, and the Before of the next
// page (0 on the last).
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter) ([]Delivery, int64, error) {
	limit := clampLimit(f.Limit, 100, 1000)
	rows, err := s.pool.Query(ctx, `
		SELECT d.id, d.subscription_id, e.event_key, e.type, coalesce(e.proposal, ''), e.occurred_at, d.status,
			d.attempts, coalesce(d.last_status, 0), coalesce(d.last_error, ''), d.created_at, d.updated_at, d.delivered_at
		FROM notification_deliveries d JOIN notification_events e ON e.id = d.event_id
		WHERE d.subscription_id = $1 AND ($2 = '' OR d.status = $2) AND ($3 = 0 OR d.id < $3)
		ORDER BY d.id DESC LIMIT $4`, f.Subscription, f.Status, f.Before, limit+1)
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		err := row.Scan(&d.ID, &d.Subscription, &d.EventKey, &d.EventType, &d.Proposal, &d.OccurredAt, &d.Status,
			&d.Attempts, &d.LastStatus, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &d.DeliveredAt)
		return d, err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", classify(err))
	}
	var next int64
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].ID
	}
	return out, next, nil
}

// FeedFilter selects the proposals of a public feed: a multisig's or a program's, of served
// multisigs only.
type FeedFilter struct {
	Multisig string
	Program  string
	// Since: proposals still pending, or created or closed after it.
	Since time.Time
	Limit int
}

// FeedProposals returns the pending and recent upgrade proposals of a served multisig or of a
// program (through served multisigs), newest first.
func (s *Store) FeedProposals(ctx context.Context, f FeedFilter) ([]Proposal, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+proposalColumns+` FROM upgrade_proposals p
		WHERE EXISTS (SELECT 1 FROM served_multisigs m WHERE m.address = p.multisig)
		  AND ($1 = '' OR p.multisig = $1) AND ($2 = '' OR (p.target_program = $2 AND p.kind = 'upgrade'))
		  AND (p.status IN ('active', 'approved') OR p.updated_at >= $3 OR p.created_at >= $3)
		ORDER BY p.created_at DESC, p.address LIMIT $4`, f.Multisig, f.Program, f.Since, clampLimit(f.Limit, 50, 200))
	if err != nil {
		return nil, fmt.Errorf("feed proposals: %w", classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Proposal, error) { return scanProposal(row) })
	if err != nil {
		return nil, fmt.Errorf("feed proposals: %w", classify(err))
	}
	return out, nil
}

// ProgramServed reports whether a served multisig has proposed an upgrade of program.
func (s *Store) ProgramServed(ctx context.Context, program string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM upgrade_proposals p
		JOIN served_multisigs m ON m.address = p.multisig WHERE p.target_program = $1 AND p.kind = 'upgrade')`, program).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("program %s served: %w", program, classify(err))
	}
	return ok, nil
}

// StaleCandidates returns the open proposals of multisig with an index up to upTo, except
// the config proposal that made them stale.
func (s *Store) StaleCandidates(ctx context.Context, multisig string, upTo uint64, except string) ([]Proposal, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+proposalColumns+` FROM upgrade_proposals
		WHERE multisig = $1 AND proposal_index <= $2 AND address <> $3 AND status IN ('active', 'approved')
		ORDER BY proposal_index`, multisig, int64(upTo), except)
	if err != nil {
		return nil, fmt.Errorf("stale candidates of %s: %w", multisig, classify(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Proposal, error) { return scanProposal(row) })
	if err != nil {
		return nil, fmt.Errorf("stale candidates of %s: %w", multisig, classify(err))
	}
	return out, nil
}
