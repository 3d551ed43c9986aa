package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// SignalNotificationsPending wakes a subscription's delivery workflow: deliveries were queued,
// or the subscription was resumed.
const SignalNotificationsPending = "notifications-pending"

// NotificationWorkflowID names a subscription's delivery workflow: one per subscription, so
// its deliveries go out one at a time, in the order of their events.
func NotificationWorkflowID(subscription int64) string {
	return fmt.Sprintf("notifications-%d", subscription)
}

// NotificationsInput starts a DeliverNotificationsWorkflow.
type NotificationsInput struct {
	Subscription int64
}

const (
	// notificationsBatch is how many pending deliveries one read returns.
	notificationsBatch = 50
	// notificationsIdle is how long an idle workflow waits for a signal before it looks at the
	// store anyway (a signal lost while Temporal was unreachable costs at most this).
	notificationsIdle = 10 * time.Minute
	// notificationsRounds bounds a run's history: it continues as new after this many reads.
	notificationsRounds = 100
)

// KickNotifications starts a subscription's delivery workflow, or wakes the running one.
func KickNotifications(ctx context.Context, c client.Client, taskQueue string, subscription int64) error {
	_, err := c.SignalWithStartWorkflow(ctx, NotificationWorkflowID(subscription), SignalNotificationsPending, nil,
		client.StartWorkflowOptions{
			ID: NotificationWorkflowID(subscription), TaskQueue: taskQueue,
			StaticSummary: fmt.Sprintf("Deliver the notifications of webhook subscription %d", subscription),
		}, DeliverNotificationsWorkflow, NotificationsInput{Subscription: subscription})
	return err
}

// DeliverNotificationsWorkflow delivers one subscription's notifications, oldest event first,
// each by an activity retried with backoff up to the subscription's max_attempts; a delivery
// that exhausts them is marked failed and the next one goes. A paused subscription waits; a
// deleted one ends the workflow. The queue lives in PostgreSQL, so a restarted worker, a
// restarted receiver or a continued-as-new run loses nothing.
func DeliverNotificationsWorkflow(ctx workflow.Context, in NotificationsInput) error {
	var a *activities.Activities
	logger := workflow.GetLogger(ctx)
	wake := workflow.GetSignalChannel(ctx, SignalNotificationsPending)
	drain := func() {
		for wake.ReceiveAsync(nil) {
		}
	}
	readCtx := workflow.WithActivityOptions(ctx, readOpts)
	for round := 0; round < notificationsRounds; round++ {
		drain()
		var q activities.NotificationQueue
		if err := workflow.ExecuteActivity(readCtx, a.NextNotifications, activities.NextNotificationsInput{
			Subscription: in.Subscription, Limit: notificationsBatch,
		}).Get(ctx, &q); err != nil {
			return fmt.Errorf("read deliveries of subscription %d: %w", in.Subscription, err)
		}
		if q.Status == store.SubscriptionDeleted {
			return nil
		}
		workflow.SetCurrentDetails(ctx, fmt.Sprintf("**Subscription:** %d  \n**Status:** %s  \n**Pending (this batch):** %d",
			in.Subscription, q.Status, len(q.Deliveries)))
		if q.Status == store.SubscriptionPaused || len(q.Deliveries) == 0 {
			waitForWake(ctx, wake)
			continue
		}
		// One delivery at a time: a receiver sees a proposal's events in order.
		sendCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: q.SendTimeout,
			RetryPolicy: &temporal.RetryPolicy{
				InitialInterval: q.Retry.Initial, BackoffCoefficient: 2, MaximumInterval: q.Retry.Max,
				MaximumAttempts:        int32(q.MaxAttempts),
				NonRetryableErrorTypes: []string{activities.ErrTypeSubscriptionPaused, activities.ErrTypeWebhookRefused},
			},
		})
	deliveries:
		for _, id := range q.Deliveries {
			err := workflow.ExecuteActivity(sendCtx, a.DeliverNotification, id).Get(ctx, nil)
			if err == nil {
				continue
			}
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeSubscriptionPaused {
				break deliveries
			}
			msg := err.Error()
			if errors.As(err, &appErr) {
				msg = appErr.Message()
			}
			logger.Warn("notification failed after its attempts", "subscription", in.Subscription, "delivery", id, "error", msg)
			if ferr := workflow.ExecuteActivity(readCtx, a.FailNotification, activities.FailNotificationInput{
				Delivery: id, Error: msg,
			}).Get(ctx, nil); ferr != nil {
				return fmt.Errorf("mark delivery %d failed: %w", id, ferr)
			}
		}
	}
	drain()
	return workflow.NewContinueAsNewError(ctx, DeliverNotificationsWorkflow, in)
}

// waitForWake waits for a wake-up signal, or notificationsIdle.
func waitForWake(ctx workflow.Context, wake workflow.ReceiveChannel) {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, notificationsIdle)
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(wake, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil) })
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.Select(ctx)
}
