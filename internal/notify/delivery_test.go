package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/upgrade-governor/upgrade-governor/activities"
	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/pgtest"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/internal/temporaltest"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// received is one request the receiver took.
type received struct {
	Key       string
	Event     string
	Signature string
	Body      []byte
	Payload   notify.Payload
}

// receiver is a real HTTP server the sender posts to. It answers down (503) while down is set,
// holds requests while hold is non-nil, and keeps what it took: every request, and the
// deliveries it accepted after dropping the idempotency keys it had already seen, as a
// receiver following the README does.
type receiver struct {
	t      *testing.T
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	down     bool
	hold     chan struct{}
	held     chan struct{} // closed when a request is being held
	all      []received
	accepted []received
	seen     map[string]bool
	badSigs  int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, seen: map[string]bool{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// verifySignature is the README's verification snippet, in Go: split the header into t and
// v1, recompute HMAC-SHA256(secret, t + "." + body) in hex and compare in constant time, and
// refuse a timestamp more than five minutes away.
func verifySignature(secret, header string, body []byte, now time.Time) bool {
	parts := map[string]string{}
	for _, p := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(p, "=")
		parts[k] = v
	}
	ts, err := strconv.ParseInt(parts["t"], 10, 64)
	if err != nil || now.Sub(time.Unix(ts, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(parts["t"] + "."))
	m.Write(body)
	return hmac.Equal([]byte(hex.EncodeToString(m.Sum(nil))), []byte(parts["v1"]))
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	rec := received{
		Key: req.Header.Get(notify.HeaderIdempotencyKey), Event: req.Header.Get(notify.HeaderEvent),
		Signature: req.Header.Get(notify.HeaderSignature), Body: body,
	}
	_ = json.Unmarshal(body, &rec.Payload)
	r.mu.Lock()
	r.all = append(r.all, rec)
	down, hold, held := r.down, r.hold, r.held
	if hold != nil {
		r.hold, r.held = nil, nil
	}
	secret := r.secret
	r.mu.Unlock()
	if down {
		http.Error(w, "receiver down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if hold != nil {
		close(held)
		<-hold
		// The sender gave up on this request (its worker stopped): nothing is accepted.
		if req.Context().Err() != nil {
			return
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !verifySignature(secret, rec.Signature, body, time.Now()) {
		r.badSigs++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	if !r.seen[rec.Key] {
		r.seen[rec.Key] = true
		r.accepted = append(r.accepted, rec)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.down = down
}

func (r *receiver) snapshot() (all, accepted []received, badSigs int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.all...), append([]received(nil), r.accepted...), r.badSigs
}

// harness is the notification path of a worker: the store, the dispatcher and a Temporal
// worker running the delivery workflow with the real activities.
type harness struct {
	t        *testing.T
	ctx      context.Context
	store    *store.Store
	temporal client.Client
	queue    string
	disp     *notify.Dispatcher
	worker   worker.Worker
	multisig string
	program  string
	members  []string
	now      time.Time
}

var admin = store.Origin{Actor: "test", Source: store.SourceCLI}

func key() string { return solana.NewWallet().PublicKey().String() }

func newHarness(t *testing.T, ts *temporaltest.Server) *harness {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	h := &harness{t: t, ctx: ctx, store: pgtest.NewStore(t), temporal: ts.Client(t),
		queue: "notify-" + strings.ToLower(key()[:10]), multisig: key(), program: key(),
		members: []string{key(), key(), key()}, now: time.Now()}
	_, _, err := h.store.ServeMultisig(ctx, store.ServedMultisig{Address: h.multisig, Label: "team"}, admin)
	require.NoError(t, err)
	h.disp = &notify.Dispatcher{
		Store: h.store, Builder: &notify.Builder{Store: h.store, PublicURL: "https://governor.example.org"},
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Kick: func(ctx context.Context, sub int64) error {
			return workflows.KickNotifications(ctx, h.temporal, h.queue, sub)
		},
		Now: func() time.Time { return h.now },
	}
	h.startWorker()
	return h
}

// startWorker runs a worker of the delivery workflow; a short stop timeout lets a test stop it
// while a delivery is in flight.
func (h *harness) startWorker() {
	w := worker.New(h.temporal, h.queue, worker.Options{WorkerStopTimeout: time.Second})
	w.RegisterWorkflow(workflows.DeliverNotificationsWorkflow)
	// Tests reach their receiver on loopback over http: the operator's explicit allowance.
	sender := notify.NewSender(notify.Policy{AllowHTTP: true, AllowPrivate: true}, notify.Limits{Timeout: 2 * time.Second, MaxResponseBytes: 4 << 10})
	w.RegisterActivity(&activities.Activities{
		Store: h.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Webhooks: sender,
		WebhookRetry: activities.WebhookRetry{Initial: 200 * time.Millisecond, Max: time.Second},
	})
	require.NoError(h.t, w.Start())
	h.worker = w
	h.t.Cleanup(func() {
		if h.worker == w {
			w.Stop()
		}
	})
}

func (h *harness) subscribe(r *receiver, req notify.SubscriptionRequest) store.Subscription {
	req.URL = r.srv.URL + "/hooks/governor"
	if req.Name == "" {
		req.Name = "test-hook"
	}
	if req.Multisig == "" && req.Program == "" {
		req.Multisig = h.multisig
	}
	require.Nil(h.t, (notify.Policy{AllowHTTP: true, AllowPrivate: true}).Check(h.ctx, &req, nil))
	secret, err := notify.NewSecret()
	require.NoError(h.t, err)
	r.mu.Lock()
	r.secret = secret
	r.mu.Unlock()
	sub, err := h.store.CreateSubscription(h.ctx, req.Subscription(), secret, admin)
	require.NoError(h.t, err)
	return sub
}

func (h *harness) tick() {
	h.t.Helper()
	_, err := h.disp.Tick(h.ctx)
	require.NoError(h.t, err)
}

func (h *harness) propose(index uint64, desc string) string {
	addr := key()
	_, err := h.store.UpsertProposal(h.ctx, store.Proposal{
		Address: addr, Multisig: h.multisig, Index: index, TargetProgram: h.program, Buffer: key(),
		BufferHash: strings.Repeat("ab", 32), Proposer: h.members[0], Description: desc, Threshold: 2,
	}, store.Origin{Actor: "api", Source: store.SourceAPI})
	require.NoError(h.t, err)
	return addr
}

func (h *harness) approve(p, member string, n int, source store.Source) {
	_, err := h.store.RecordApproval(h.ctx, store.Approval{Proposal: p, Member: member, Signature: fakeSig(), Slot: 10, Approvals: n},
		store.Origin{Actor: member, Source: source})
	require.NoError(h.t, err)
}

func (h *harness) setStatus(p string, to store.ProposalStatus, eta time.Time) {
	_, err := h.store.SetProposalStatus(h.ctx, p, to, store.StatusChange{ETA: eta, Signature: fakeSigIf(to == store.ProposalExecuted)},
		store.Origin{Actor: "indexer", Source: store.SourceIndexer})
	require.NoError(h.t, err)
}

// chainAudit appends what the indexer appends for a program event.
func (h *harness) chainAudit(action string, event map[string]any) {
	_, err := h.store.AppendAudit(h.ctx, store.AuditEntry{Actor: "indexer", Action: action, Signature: fakeSig(), Slot: 20,
		Source: store.SourceIndexer, Details: map[string]any{"event": event}})
	require.NoError(h.t, err)
}

func fakeSig() string {
	var s solana.Signature
	copy(s[:], []byte(key()+key()))
	return s.String()
}

func fakeSigIf(ok bool) string {
	if !ok {
		return ""
	}
	return fakeSig()
}

// waitDelivered waits until the store has no pending delivery of sub left.
func (h *harness) waitDelivered(sub int64, within time.Duration) []store.Delivery {
	h.t.Helper()
	var list []store.Delivery
	require.Eventually(h.t, func() bool {
		var err error
		list, _, err = h.store.ListDeliveries(h.ctx, store.DeliveryFilter{Subscription: sub, Limit: 1000})
		require.NoError(h.t, err)
		for _, d := range list {
			if d.Status == store.DeliveryPending {
				return false
			}
		}
		return len(list) > 0
	}, within, 100*time.Millisecond)
	return list
}

// TestEveryEventTypeIsDeliveredOncePerChange drives a proposal's whole life (and a second,
// third and fourth proposal's ends) through the store, as the API, the worker's activities and
// the indexer write it, some changes twice from two components; the receiver must get each
// change once, signed, in order per proposal.
func TestEveryEventTypeIsDeliveredOncePerChange(t *testing.T) {
	ts := temporaltest.Start(t)
	h := newHarness(t, ts)
	r := newReceiver(t)
	sub := h.subscribe(r, notify.SubscriptionRequest{EtaReminderHours: 24})

	p1 := h.propose(1, "v2: faster swaps")
	h.approve(p1, h.members[0], 1, store.SourceAPI)
	h.approve(p1, h.members[0], 1, store.SourceIndexer) // the indexer sees the same approval
	h.tick()
	h.approve(p1, h.members[1], 2, store.SourceIndexer)
	eta := h.now.Add(30 * time.Hour)
	h.setStatus(p1, store.ProposalApproved, eta)
	h.tick() // threshold reached; eta is 30 h away: no reminder yet
	h.now = eta.Add(-23 * time.Hour)
	h.tick() // 23 h before eta: the 24-hour reminder
	h.tick() // and only once
	h.chainAudit(store.ActionChainSystemPaused, map[string]any{"Multisig": h.multisig, "PausedBy": h.members[2], "At": 1, "ExpiresAt": 2_000_000_000})
	h.chainAudit(store.ActionChainSystemResumed, map[string]any{"Multisig": h.multisig, "Signers": h.members[:2], "At": 2})
	h.setStatus(p1, store.ProposalExecuted, time.Time{})
	h.setStatus(p1, store.ProposalExecuted, time.Time{}) // the indexer after the activity: no change
	job := "migration-" + p1
	_, err := h.store.CreateMigrationJob(h.ctx, store.MigrationJob{ID: job, Proposal: p1, TargetProgram: h.program}, admin)
	require.NoError(t, err)
	accounts := []string{key(), key(), key(), key()}
	_, err = h.store.UpsertAccountMigrations(h.ctx, job, accounts, admin)
	require.NoError(t, err)
	_, err = h.store.UpdateJob(h.ctx, job, store.JobUpdate{Status: store.JobRunning}, admin)
	require.NoError(t, err)
	_, err = h.store.MarkAccountsMigrated(h.ctx, job, accounts[:2], fakeSig(), admin)
	require.NoError(t, err)
	h.tick()
	_, err = h.store.UpdateJob(h.ctx, job, store.JobUpdate{Status: store.JobFailed, LastError: "node down"}, admin)
	require.NoError(t, err)
	_, err = h.store.UpdateJob(h.ctx, job, store.JobUpdate{Status: store.JobRunning}, admin)
	require.NoError(t, err)
	_, err = h.store.MarkAccountsMigrated(h.ctx, job, accounts[2:], fakeSig(), admin)
	require.NoError(t, err)
	_, err = h.store.UpdateJob(h.ctx, job, store.JobUpdate{Status: store.JobCompleted}, admin)
	require.NoError(t, err)

	p2 := h.propose(2, "v3")
	h.setStatus(p2, store.ProposalCancelled, time.Time{})
	p3 := h.propose(3, "v4")
	h.setStatus(p3, store.ProposalExpired, time.Time{})
	p4 := h.propose(4, "v5, made stale")
	cfg := key()
	_, err = h.store.UpsertProposal(h.ctx, store.Proposal{
		Address: cfg, Multisig: h.multisig, Index: 5, TargetProgram: solana.SystemProgramID.String(),
		Buffer: solana.SystemProgramID.String(), BufferHash: strings.Repeat("00", 32), Proposer: h.members[0],
		Threshold: 2, Kind: store.KindConfig, ConfigActions: json.RawMessage(`[{"kind":"add_member","member":"` + h.members[2] + `"}]`),
	}, admin)
	require.NoError(t, err)
	h.approve(cfg, h.members[0], 1, store.SourceIndexer)
	h.approve(cfg, h.members[1], 2, store.SourceIndexer)
	h.setStatus(cfg, store.ProposalApproved, h.now.Add(-time.Hour))
	h.setStatus(cfg, store.ProposalExecuted, time.Time{})
	h.chainAudit(store.ActionChainConfigExecuted, map[string]any{"Multisig": h.multisig, "Proposal": cfg, "Members": h.members,
		"Threshold": 2, "TimelockSeconds": 3600, "Guardian": h.members[2], "StaleProposalIndex": 5})
	h.tick()
	h.tick()

	deliveries := h.waitDelivered(sub.ID, time.Minute)
	all, accepted, bad := r.snapshot()
	require.Zero(t, bad, "every signature verifies with the README's algorithm")
	require.Len(t, all, len(accepted), "a receiver that was always up gets each delivery once")
	for _, d := range deliveries {
		assert.Equal(t, store.DeliveryDelivered, d.Status, "%s", d.EventKey)
		assert.Equal(t, 1, d.Attempts, "%s", d.EventKey)
	}
	count := map[string]int{}
	byProposal := map[string][]string{}
	for _, rec := range accepted {
		count[rec.Event]++
		assert.Equal(t, rec.Event, rec.Payload.Type)
		assert.Equal(t, rec.Key, rec.Payload.ID)
		assert.Equal(t, notify.SchemaVersion, rec.Payload.Schema)
		assert.Equal(t, sub.ID, rec.Payload.Subscription)
		assert.Equal(t, h.multisig, rec.Payload.Multisig)
		assert.NotEmpty(t, rec.Payload.Summary)
		if rec.Payload.Proposal != nil {
			byProposal[rec.Payload.Proposal.Address] = append(byProposal[rec.Payload.Proposal.Address], rec.Event)
			assert.Equal(t, "https://governor.example.org/ui/#/proposals/"+rec.Payload.Proposal.Address, rec.Payload.Proposal.URL)
		}
	}
	for _, typ := range notify.EventTypes {
		assert.NotZero(t, count[typ], "event type %s was delivered", typ)
	}
	assert.Equal(t, 4, count[notify.EventApproval], "two members approved each of two proposals, though one approval was recorded twice")
	assert.Equal(t, 2, count[notify.EventExecuted], "the upgrade and the config proposal, each once")
	assert.Equal(t, 5, count[notify.EventProposed])
	assert.Equal(t, []string{notify.EventProposed, notify.EventApproval, notify.EventApproval,
		notify.EventThresholdReached, notify.EventExecuted}, byProposal[cfg])
	assert.Equal(t, 1, count[notify.EventEtaReminder])
	assert.Equal(t, 1, count[notify.EventStale], "only the open proposal (#4) went stale")
	assert.Equal(t, []string{
		notify.EventProposed, notify.EventApproval, notify.EventApproval, notify.EventThresholdReached,
		notify.EventEtaReminder, notify.EventExecuted, notify.EventMigrationProgress, notify.EventMigrationStopped, notify.EventMigrationCompleted,
	}, byProposal[p1], "a proposal's events arrive in the order they happened")
	assert.Equal(t, []string{notify.EventProposed, notify.EventStale}, byProposal[p4])
	assert.Equal(t, []string{notify.EventProposed, notify.EventCancelled}, byProposal[p2])
	assert.Equal(t, []string{notify.EventProposed, notify.EventExpired}, byProposal[p3])

	for _, rec := range accepted {
		switch rec.Event {
		case notify.EventThresholdReached:
			if rec.Payload.Proposal.Address != p1 {
				continue
			}
			require.NotNil(t, rec.Payload.Proposal.Eta)
			assert.WithinDuration(t, eta, *rec.Payload.Proposal.Eta, time.Millisecond, "threshold reached carries the eta")
			assert.Equal(t, strings.Repeat("ab", 32), rec.Payload.Proposal.BufferHash)
		case notify.EventEtaReminder:
			assert.Equal(t, 24, rec.Payload.Reminder.HoursBefore)
		case notify.EventMigrationCompleted:
			assert.Equal(t, 4, rec.Payload.Migration.Migrated)
			assert.Equal(t, 100, rec.Payload.Migration.Percent)
		case notify.EventConfigChanged:
			assert.Equal(t, cfg, rec.Payload.Config.Proposal)
			assert.JSONEq(t, `[{"kind":"add_member","member":"`+h.members[2]+`"}]`, string(rec.Payload.Config.Actions))
		case notify.EventPaused:
			assert.Equal(t, []string{h.members[2]}, rec.Payload.Pause.By)
		}
	}
	// Delivered rows are in the audit trail too.
	page, err := h.store.ListAudit(h.ctx, store.AuditFilter{Action: store.ActionNotificationDelivered, Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, page.Entries, len(accepted))
}

// TestReceiverDownThenBackGetsEverythingInOrder: the receiver answers 503 while events happen;
// deliveries are retried with backoff and, once it is back, it gets every event, in order.
// A subscription whose receiver never comes back marks its deliveries failed after
// max_attempts and says so in the audit trail.
func TestReceiverDownThenBackGetsEverythingInOrder(t *testing.T) {
	ts := temporaltest.Start(t)
	h := newHarness(t, ts)
	r := newReceiver(t)
	r.setDown(true)
	sub := h.subscribe(r, notify.SubscriptionRequest{Events: []string{notify.EventProposed, notify.EventApproval, notify.EventThresholdReached}})
	dead := newReceiver(t)
	dead.setDown(true)
	deadSub := h.subscribe(dead, notify.SubscriptionRequest{Name: "dead", MaxAttempts: 3})

	var proposals []string
	for i := 1; i <= 3; i++ {
		p := h.propose(uint64(i), fmt.Sprintf("v%d", i))
		h.approve(p, h.members[0], 1, store.SourceAPI)
		h.approve(p, h.members[1], 2, store.SourceIndexer)
		h.setStatus(p, store.ProposalApproved, h.now.Add(48*time.Hour))
		proposals = append(proposals, p)
	}
	h.tick()
	// Down for a while: attempts pile up, nothing is lost.
	require.Eventually(t, func() bool {
		all, _, _ := r.snapshot()
		return len(all) >= 4
	}, time.Minute, 100*time.Millisecond)
	list, _, err := h.store.ListDeliveries(h.ctx, store.DeliveryFilter{Subscription: sub.ID})
	require.NoError(t, err)
	require.Len(t, list, 12)
	r.setDown(false)
	h.waitDelivered(sub.ID, time.Minute)
	_, accepted, bad := r.snapshot()
	require.Zero(t, bad)
	var got []string
	for _, rec := range accepted {
		got = append(got, rec.Payload.Proposal.Address+" "+rec.Event)
	}
	var want []string
	for _, p := range proposals {
		want = append(want, p+" "+notify.EventProposed, p+" "+notify.EventApproval, p+" "+notify.EventApproval,
			p+" "+notify.EventThresholdReached)
	}
	assert.Equal(t, want, got, "everything, in order, once the receiver is back")
	list, _, err = h.store.ListDeliveries(h.ctx, store.DeliveryFilter{Subscription: sub.ID})
	require.NoError(t, err)
	assert.Greater(t, list[len(list)-1].Attempts, 1, "the first delivery was retried while the receiver was down")

	deadList := h.waitDelivered(deadSub.ID, 2*time.Minute)
	for _, d := range deadList {
		assert.Equal(t, store.DeliveryFailed, d.Status)
		assert.Equal(t, 3, d.Attempts, "max_attempts")
		assert.Contains(t, d.LastError, "503")
	}
	page, err := h.store.ListAudit(h.ctx, store.AuditFilter{Action: store.ActionNotificationFailed, Limit: 100})
	require.NoError(t, err)
	assert.Len(t, page.Entries, len(deadList))
}

// TestWorkerStoppedMidDeliveryLosesNothing stops the worker while the receiver holds a
// delivery, starts another one, and checks the receiver got every event, with the one in
// flight sent again under the same idempotency key (which it drops).
func TestWorkerStoppedMidDeliveryLosesNothing(t *testing.T) {
	ts := temporaltest.Start(t)
	h := newHarness(t, ts)
	r := newReceiver(t)
	release := make(chan struct{})
	held := make(chan struct{})
	r.mu.Lock()
	r.hold, r.held = release, held
	r.mu.Unlock()
	sub := h.subscribe(r, notify.SubscriptionRequest{})
	p := h.propose(1, "v2")
	h.approve(p, h.members[0], 1, store.SourceAPI)
	h.approve(p, h.members[1], 2, store.SourceAPI)
	h.tick()

	select {
	case <-held:
	case <-time.After(time.Minute):
		t.Fatal("the first delivery never reached the receiver")
	}
	old := h.worker
	h.worker = nil
	old.Stop() // mid-delivery: the receiver still holds the request
	close(release)
	h.startWorker()
	h.waitDelivered(sub.ID, 2*time.Minute)

	all, accepted, bad := r.snapshot()
	require.Zero(t, bad)
	require.Len(t, accepted, 3, "proposed and two approvals, each accepted once")
	assert.Equal(t, []string{notify.EventProposed, notify.EventApproval, notify.EventApproval},
		[]string{accepted[0].Event, accepted[1].Event, accepted[2].Event})
	keys := map[string]int{}
	for _, rec := range all {
		keys[rec.Key]++
	}
	assert.GreaterOrEqual(t, keys[accepted[0].Key], 2, "the delivery in flight was sent again, under the same key")
	assert.Equal(t, 1, keys[accepted[1].Key])
	assert.Equal(t, 1, keys[accepted[2].Key])
}
