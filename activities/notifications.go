package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Error types of notification deliveries.
const (
	// ErrTypeSubscriptionPaused: the subscription was paused; its deliveries wait.
	ErrTypeSubscriptionPaused = "SubscriptionPaused"
	// ErrTypeWebhookRefused: the webhook policy refuses the URL's address; retrying will not
	// help, the delivery fails at once.
	ErrTypeWebhookRefused = "WebhookRefused"
	// ErrTypeWebhookFailed: the receiver did not accept the delivery (no answer, or not 2xx).
	ErrTypeWebhookFailed = "WebhookFailed"
)

// WebhookRetry is the backoff between attempts at one delivery (a subscription's max_attempts
// bounds their number).
type WebhookRetry struct {
	Initial, Max time.Duration
}

// DefaultWebhookRetry: 5 s doubling up to 10 min; with 25 attempts a delivery is tried for
// about three hours, so a receiver down for an hour gets everything when it returns.
var DefaultWebhookRetry = WebhookRetry{Initial: 5 * time.Second, Max: 10 * time.Minute}

// NotificationQueue is what a subscription's delivery workflow sends next, and how.
type NotificationQueue struct {
	Status      string
	MaxAttempts int
	Deliveries  []int64
	Retry       WebhookRetry
	// SendTimeout bounds one attempt (the sender's own timeout plus a margin).
	SendTimeout time.Duration
}

// NextNotificationsInput asks for a subscription's next pending deliveries.
type NextNotificationsInput struct {
	Subscription int64
	Limit        int
}

// NextNotifications reads the subscription's status and its next pending deliveries in event
// order. A subscription that no longer exists reads as deleted.
func (a *Activities) NextNotifications(ctx context.Context, in NextNotificationsInput) (NotificationQueue, error) {
	q, err := a.Store.NextDeliveries(ctx, in.Subscription, in.Limit)
	if errors.Is(err, store.ErrNotFound) {
		return NotificationQueue{Status: store.SubscriptionDeleted}, nil
	}
	if err != nil {
		return NotificationQueue{}, err
	}
	retry := a.WebhookRetry
	if retry.Initial <= 0 {
		retry = DefaultWebhookRetry
	}
	timeout := notify.DefaultLimits.Timeout
	if a.Webhooks != nil {
		timeout = a.Webhooks.Limits.Timeout
	}
	return NotificationQueue{Status: q.Status, MaxAttempts: q.MaxAttempts, Deliveries: q.Deliveries,
		Retry: retry, SendTimeout: timeout + 5*time.Second}, nil
}

// DeliverResult says how a delivery ended.
type DeliverResult struct {
	// Status is delivered, or dropped (the subscription was deleted), or what another attempt
	// already made it.
	Status     string
	HTTPStatus int
}

// DeliverNotification posts one delivery once; the workflow's retry policy tries again. A
// delivery already delivered is not sent again (an attempt whose answer was lost, because the
// worker stopped after the receiver took it, is sent again: the idempotency key lets the
// receiver drop it).
func (a *Activities) DeliverNotification(ctx context.Context, delivery int64) (DeliverResult, error) {
	job, err := a.Store.GetDeliveryJob(ctx, delivery)
	if err != nil {
		return DeliverResult{}, err
	}
	if job.Status != store.DeliveryPending {
		return DeliverResult{Status: job.Status}, nil
	}
	switch job.Subscription.Status {
	case store.SubscriptionDeleted:
		if _, err := a.Store.FinishDelivery(ctx, delivery, store.DeliveryDropped, 0, "subscription deleted", worker); err != nil {
			return DeliverResult{}, err
		}
		return DeliverResult{Status: store.DeliveryDropped}, nil
	case store.SubscriptionPaused:
		return DeliverResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("subscription %d is paused", job.Subscription.ID), ErrTypeSubscriptionPaused, nil)
	}
	status, sendErr := a.Webhooks.Send(ctx, job)
	errText := ""
	if sendErr != nil {
		errText = sendErr.Error()
	}
	if err := a.Store.RecordDeliveryAttempt(ctx, delivery, status, errText); err != nil {
		return DeliverResult{}, err
	}
	if sendErr != nil {
		var se *notify.SendError
		if errors.As(sendErr, &se) && se.Refused {
			return DeliverResult{}, temporal.NewNonRetryableApplicationError(errText, ErrTypeWebhookRefused, nil)
		}
		return DeliverResult{}, temporal.NewApplicationError(errText, ErrTypeWebhookFailed)
	}
	if _, err := a.Store.FinishDelivery(ctx, delivery, store.DeliveryDelivered, status, "", worker); err != nil {
		return DeliverResult{}, err
	}
	a.Log.Info("notification delivered", "subscription", job.Subscription.ID, "delivery", delivery,
		"event", job.Event.Type, "attempt", job.Attempts+1)
	return DeliverResult{Status: store.DeliveryDelivered, HTTPStatus: status}, nil
}

// FailNotificationInput marks a delivery failed after its attempts.
type FailNotificationInput struct {
	Delivery int64
	Error    string
}

// FailNotification marks a delivery failed (visible in the API and the audit trail); the
// workflow goes on with the next one.
func (a *Activities) FailNotification(ctx context.Context, in FailNotificationInput) error {
	_, err := a.Store.FinishDelivery(ctx, in.Delivery, store.DeliveryFailed, 0, in.Error, worker)
	return err
}
