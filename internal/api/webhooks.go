package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// WebhookView is a webhook subscription as the operator routes show it. The URL is redacted
// to its scheme and host (a Slack or Discord webhook's path is its key) and the secret is
// never shown after creation.
type WebhookView struct {
	ID               int64     `json:"id"`
	Name             string    `json:"name"`
	URL              string    `json:"url"`
	Multisig         string    `json:"multisig,omitempty"`
	Program          string    `json:"program,omitempty"`
	Events           []string  `json:"events"`
	Format           string    `json:"format"`
	EtaReminderHours int       `json:"eta_reminder_hours"`
	MaxAttempts      int       `json:"max_attempts"`
	Status           string    `json:"status"`
	CreatedBy        string    `json:"created_by"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
	// Deliveries counts its deliveries by status (pending, delivered, failed, dropped).
	Deliveries map[string]int `json:"deliveries"`
}

func webhookView(s store.Subscription) WebhookView {
	d := s.Deliveries
	if d == nil {
		d = map[string]int{}
	}
	ev := s.Events
	if ev == nil {
		ev = []string{}
	}
	return WebhookView{
		ID: s.ID, Name: s.Name, URL: s.RedactedURL(), Multisig: s.Multisig, Program: s.Program, Events: ev,
		Format: s.Format, EtaReminderHours: s.EtaReminderHours, MaxAttempts: s.MaxAttempts, Status: s.Status,
		CreatedBy: s.CreatedBy, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, Deliveries: d,
	}
}

// CreateWebhookResponse answers POST /webhooks: the only answer that carries the secret.
type CreateWebhookResponse struct {
	Webhook WebhookView `json:"webhook"`
	// Secret is the HMAC-SHA256 key of the deliveries' signatures, shown this once.
	Secret string `json:"secret"`
	// SignatureHeader names the header that carries the signature.
	SignatureHeader string `json:"signature_header"`
}

// WebhooksResponse answers GET /webhooks.
type WebhooksResponse struct {
	Webhooks []WebhookView `json:"webhooks"`
}

// webhookPolicy is what the operator lets webhook URLs reach (UG_WEBHOOK_ALLOW_*).
func (s *Server) webhookPolicy() notify.Policy {
	return notify.Policy{AllowHTTP: s.cfg.AllowWebhookHTTP(), AllowPrivate: s.cfg.AllowWebhookPrivate()}
}

func (s *Server) createWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	tok, err := s.authenticate(ctx, c, operatorRoles)
	if err != nil {
		respond(c, err)
		return
	}
	var req notify.SubscriptionRequest
	if err := bindJSON(c, &req); err != nil {
		respond(c, err)
		return
	}
	if ferr := s.webhookPolicy().Check(ctx, &req, nil); ferr != nil {
		code := CodeInvalidField
		if ferr.Missing {
			code = CodeMissingField
		}
		respond(c, badRequest(code, ferr.Field, "%s", ferr.Msg))
		return
	}
	if req.Multisig != "" {
		if err := s.requireServed(ctx, solana.MustPublicKeyFromBase58(req.Multisig), "multisig"); err != nil {
			respond(c, err)
			return
		}
	}
	secret, err := notify.NewSecret()
	if err != nil {
		respond(c, err)
		return
	}
	sub, err := s.store.CreateSubscription(ctx, req.Subscription(), secret, store.Origin{Actor: tok.Name, Source: store.SourceAPI})
	if err != nil {
		respond(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, CreateWebhookResponse{Webhook: webhookView(sub), Secret: secret, SignatureHeader: notify.HeaderSignature})
}

func (s *Server) listWebhooks(c *gin.Context) {
	ctx := c.Request.Context()
	if _, err := s.authenticate(ctx, c, operatorRoles); err != nil {
		respond(c, err)
		return
	}
	list, err := s.store.ListSubscriptions(ctx)
	if err != nil {
		respond(c, err)
		return
	}
	out := WebhooksResponse{Webhooks: []WebhookView{}}
	for _, sub := range list {
		out.Webhooks = append(out.Webhooks, webhookView(sub))
	}
	c.JSON(http.StatusOK, out)
}

// webhookParam authenticates the operator and reads the :id subscription.
func (s *Server) webhookParam(c *gin.Context) (store.APIToken, store.Subscription, error) {
	ctx := c.Request.Context()
	tok, err := s.authenticate(ctx, c, operatorRoles)
	if err != nil {
		return tok, store.Subscription{}, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return tok, store.Subscription{}, invalidField("id", "the path's id must be a webhook's number, got %q", c.Param("id"))
	}
	sub, err := s.store.GetSubscription(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sub.Status == store.SubscriptionDeleted) {
		return tok, store.Subscription{}, newError(http.StatusNotFound, CodeNotFound, "id", "no webhook %d", id)
	}
	return tok, sub, err
}

func (s *Server) getWebhook(c *gin.Context) {
	_, sub, err := s.webhookParam(c)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, webhookView(sub))
}

type updateWebhookBody struct {
	Status string `json:"status"`
}

// updateWebhook pauses or resumes a subscription. A paused one keeps its deliveries queued and
// sends them, in order, when resumed.
func (s *Server) updateWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	tok, sub, err := s.webhookParam(c)
	if err != nil {
		respond(c, err)
		return
	}
	var body updateWebhookBody
	if err := bindJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	if body.Status == "" {
		respond(c, badRequest(CodeMissingField, "status", "want active or paused"))
		return
	}
	if !slices.Contains([]string{store.SubscriptionActive, store.SubscriptionPaused}, body.Status) {
		respond(c, invalidField("status", "want active or paused, got %q (DELETE removes a webhook)", body.Status))
		return
	}
	sub, err = s.store.SetSubscriptionStatus(ctx, sub.ID, body.Status, store.Origin{Actor: tok.Name, Source: store.SourceAPI})
	if err != nil {
		respond(c, err)
		return
	}
	if sub.Status == store.SubscriptionActive {
		s.wakeWebhook(ctx, c, sub.ID)
	}
	c.JSON(http.StatusOK, webhookView(sub))
}

// wakeWebhook starts or wakes a subscription's delivery workflow. It is best effort: the
// worker wakes every subscription with pending deliveries when it starts, and an idle
// workflow looks again every few minutes.
func (s *Server) wakeWebhook(ctx context.Context, c *gin.Context, id int64) {
	if err := workflows.KickNotifications(ctx, s.temporal, s.cfg.TaskQueue, id); err != nil {
		logger(c).Warn("wake the webhook's delivery workflow", "webhook", id, "error", err)
	}
}

func (s *Server) deleteWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	tok, sub, err := s.webhookParam(c)
	if err != nil {
		respond(c, err)
		return
	}
	if _, err := s.store.SetSubscriptionStatus(ctx, sub.ID, store.SubscriptionDeleted, store.Origin{Actor: tok.Name, Source: store.SourceAPI}); err != nil {
		respond(c, err)
		return
	}
	// Its workflow reads "deleted" and ends.
	s.wakeWebhook(ctx, c, sub.ID)
	c.Status(http.StatusNoContent)
}

// DeliveryView is one delivery of a webhook.
type DeliveryView struct {
	ID          int64      `json:"id"`
	Event       string     `json:"event"`
	Type        string     `json:"type"`
	Proposal    string     `json:"proposal,omitempty"`
	OccurredAt  time.Time  `json:"occurred_at"`
	Status      string     `json:"status"`
	Attempts    int        `json:"attempts"`
	LastStatus  int        `json:"last_status,omitempty"`
	LastError   string     `json:"last_error,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	// IdempotencyKey is what the delivery carries in Idempotency-Key and the payload's id.
	IdempotencyKey string `json:"idempotency_key"`
}

// DeliveriesResponse answers GET /webhooks/{id}/deliveries, newest first.
type DeliveriesResponse struct {
	Deliveries []DeliveryView `json:"deliveries"`
	// Next is the before= of the following page; absent on the last.
	Next *int64 `json:"next,omitempty"`
}

func (s *Server) listDeliveries(c *gin.Context) {
	ctx := c.Request.Context()
	_, sub, err := s.webhookParam(c)
	if err != nil {
		respond(c, err)
		return
	}
	status := c.Query("status")
	if status != "" && !slices.Contains([]string{store.DeliveryPending, store.DeliveryDelivered, store.DeliveryFailed, store.DeliveryDropped}, status) {
		respond(c, invalidField("status", "want pending, delivered, failed or dropped, got %q", status))
		return
	}
	limit, err := queryInt(c, "limit", 100, 1, 1000)
	if err != nil {
		respond(c, err)
		return
	}
	before, err := queryInt(c, "before", 0, 0, 1<<62)
	if err != nil {
		respond(c, err)
		return
	}
	list, next, err := s.store.ListDeliveries(ctx, store.DeliveryFilter{Subscription: sub.ID, Status: status, Before: int64(before), Limit: limit})
	if err != nil {
		respond(c, err)
		return
	}
	out := DeliveriesResponse{Deliveries: []DeliveryView{}}
	for _, d := range list {
		out.Deliveries = append(out.Deliveries, DeliveryView{
			ID: d.ID, Event: d.EventKey, Type: d.EventType, Proposal: d.Proposal, OccurredAt: d.OccurredAt, Status: d.Status,
			Attempts: d.Attempts, LastStatus: d.LastStatus, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt,
			DeliveredAt: d.DeliveredAt, IdempotencyKey: notify.IdempotencyKey(sub.ID, d.EventKey),
		})
	}
	if next > 0 {
		out.Next = &next
	}
	c.JSON(http.StatusOK, out)
}

// RedeliverResponse answers POST /webhooks/{id}/redeliver.
type RedeliverResponse struct {
	// Requeued is how many failed deliveries were queued again.
	Requeued int `json:"requeued"`
}

// redeliverWebhook queues a webhook's failed deliveries again (after its receiver was fixed).
func (s *Server) redeliverWebhook(c *gin.Context) {
	ctx := c.Request.Context()
	tok, sub, err := s.webhookParam(c)
	if err != nil {
		respond(c, err)
		return
	}
	var body struct{}
	if _, err := bindOptionalJSON(c, &body); err != nil {
		respond(c, err)
		return
	}
	n, err := s.store.RedeliverFailed(ctx, sub.ID, store.Origin{Actor: tok.Name, Source: store.SourceAPI})
	if err != nil {
		respond(c, err)
		return
	}
	if n > 0 {
		s.wakeWebhook(ctx, c, sub.ID)
	}
	c.JSON(http.StatusOK, RedeliverResponse{Requeued: n})
}
