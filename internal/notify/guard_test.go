package notify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// A name that resolved to a public address when the subscription was made, and to loopback
// when it is sent (DNS rebinding), is refused at connect time: the check is on the address
// the dialer connects to, not on the name.
func TestSenderRefusesANonPublicAddressAtSendTime(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	strict := notify.Policy{AllowHTTP: true}
	public := func(context.Context, string) ([]netip.Addr, error) {
		return []netip.Addr{netip.MustParseAddr("93.184.215.14")}, nil
	}
	require.NoError(t, strict.CheckURL(context.Background(), "http://rebind.example/hook", public))

	s := notify.NewSender(strict, notify.Limits{Timeout: 2 * time.Second, MaxResponseBytes: 1024})
	job := store.DeliveryJob{DeliveryID: 1, Secret: "ugwh_x", Subscription: store.Subscription{ID: 1, URL: srv.URL + "/hook", Format: notify.FormatJSON},
		Event: store.NotificationEvent{Key: "k", Type: notify.EventPaused, Payload: []byte(`{"type":"system.paused"}`)}}
	_, err := s.Send(context.Background(), job)
	var se *notify.SendError
	require.ErrorAs(t, err, &se)
	assert.True(t, se.Refused, "%v", err)
	assert.NotContains(t, err.Error(), srv.URL, "the error does not quote the URL (its path may be a key)")
	assert.Zero(t, hits, "nothing reached the loopback receiver")

	allowed := notify.NewSender(notify.Policy{AllowHTTP: true, AllowPrivate: true}, notify.Limits{Timeout: 2 * time.Second, MaxResponseBytes: 1024})
	_, err = allowed.Send(context.Background(), job)
	require.NoError(t, err)
	assert.Equal(t, 1, hits)
}

// A redirect is not followed (it could lead anywhere) and a slow receiver is cut off; a big
// answer is not read past the limit.
func TestSenderBoundsWhatAReceiverCanDo(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/redirect":
			http.Redirect(w, r, "http://169.254.169.254/", http.StatusFound)
		case "/slow":
			time.Sleep(3 * time.Second)
		case "/big":
			w.WriteHeader(http.StatusInternalServerError)
			for i := 0; i < 1<<16; i++ {
				_, _ = w.Write([]byte("0123456789abcdef"))
			}
		}
	}))
	defer srv.Close()
	s := notify.NewSender(notify.Policy{AllowHTTP: true, AllowPrivate: true}, notify.Limits{Timeout: time.Second, MaxResponseBytes: 4096})
	send := func(path string) (int, error) {
		return s.Send(context.Background(), store.DeliveryJob{Secret: "ugwh_x",
			Subscription: store.Subscription{ID: 1, URL: srv.URL + path, Format: notify.FormatSlack},
			Event:        store.NotificationEvent{Key: "k", Type: notify.EventPaused, Payload: []byte(`{"summary":"Paused"}`)}})
	}
	status, err := send("/redirect")
	assert.Equal(t, http.StatusFound, status)
	assert.Error(t, err)
	start := time.Now()
	_, err = send("/slow")
	assert.ErrorContains(t, err, "did not answer in time")
	assert.Less(t, time.Since(start), 2500*time.Millisecond)
	status, err = send("/big")
	assert.Equal(t, http.StatusInternalServerError, status)
	assert.LessOrEqual(t, len(err.Error()), 300, "the error keeps a short snippet of the answer")
}

func TestSignatureVerifies(t *testing.T) {
	secret, err := notify.NewSecret()
	require.NoError(t, err)
	body := []byte(`{"type":"proposal.proposed"}`)
	now := time.Now()
	h := notify.Sign(secret, now, body)
	require.NoError(t, notify.Verify(secret, h, body, now, 5*time.Minute))
	assert.Error(t, notify.Verify(secret, h, []byte(`{"type":"proposal.executed"}`), now, 5*time.Minute), "another body")
	assert.Error(t, notify.Verify("ugwh_other", h, body, now, 5*time.Minute), "another secret")
	assert.Error(t, notify.Verify(secret, h, body, now.Add(time.Hour), 5*time.Minute), "an old delivery replayed")
	assert.Equal(t, notify.IdempotencyKey(1, "a"), notify.IdempotencyKey(1, "a"))
	assert.NotEqual(t, notify.IdempotencyKey(1, "a"), notify.IdempotencyKey(2, "a"))
}

// Every audit action the store queues for the notifier gives rise to an event type the
// builder knows, and the builder maps no action the store does not queue.
func TestNotifiedActionsAreTheBuildersOnes(t *testing.T) {
	for action := range store.NotifiedActions {
		assert.True(t, notify.Handles(action), "the store queues %s, which the builder ignores", action)
	}
	for _, action := range notify.HandledActions {
		assert.True(t, store.NotifiedActions[action], "the builder maps %s, which the store does not queue", action)
	}
}
