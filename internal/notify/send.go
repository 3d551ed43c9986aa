package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Formats of a subscription's bodies.
const (
	FormatJSON    = "json"
	FormatSlack   = "slack"
	FormatDiscord = "discord"
)

// Formats lists the accepted formats.
var Formats = []string{FormatJSON, FormatSlack, FormatDiscord}

// Body is what a delivery posts: the payload as the subscription's format wants it.
func Body(job store.DeliveryJob) ([]byte, error) {
	var pl Payload
	if err := json.Unmarshal(job.Event.Payload, &pl); err != nil {
		return nil, fmt.Errorf("notify: event %s payload: %w", job.Event.Key, err)
	}
	pl.ID = IdempotencyKey(job.Subscription.ID, job.Event.Key)
	pl.Subscription = job.Subscription.ID
	link := ""
	if pl.Proposal != nil {
		link = pl.Proposal.URL
	}
	switch job.Subscription.Format {
	case FormatSlack:
		text := "*upgrade-governor* " + pl.Summary
		if link != "" {
			text += "\n<" + link + "|Open the proposal>"
		}
		return json.Marshal(map[string]string{"text": text})
	case FormatDiscord:
		text := "**upgrade-governor** " + pl.Summary
		if link != "" {
			text += "\n" + link
		}
		if len(text) > 2000 { // Discord's limit of a message
			text = text[:1999] + "…"
		}
		return json.Marshal(map[string]any{"content": text, "allowed_mentions": map[string]any{"parse": []string{}}})
	}
	return json.Marshal(pl)
}

// Sender posts deliveries.
type Sender struct {
	Client *http.Client
	Limits Limits
	// Now is the clock of the signature's timestamp; nil means time.Now.
	Now func() time.Time
}

// NewSender builds a sender for the policy.
func NewSender(p Policy, l Limits) *Sender {
	return &Sender{Client: p.Client(l), Limits: l}
}

// SendError is a delivery the receiver did not accept.
type SendError struct {
	// Status is the receiver's HTTP status; 0 when it did not answer.
	Status int
	Msg    string
	// Refused: the policy refused the address; trying again will not help.
	Refused bool
}

func (e *SendError) Error() string { return e.Msg }

// Send posts one delivery, signed; a 2xx answer is a delivery, anything else a *SendError.
// Only the status and at most Limits.MaxResponseBytes of the answer are read.
func (s *Sender) Send(ctx context.Context, job store.DeliveryJob) (int, error) {
	body, err := Body(job)
	if err != nil {
		return 0, err
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	ctx, cancel := context.WithTimeout(ctx, s.Limits.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.Subscription.URL, bytes.NewReader(body))
	if err != nil {
		return 0, &SendError{Msg: "build request: bad URL", Refused: true}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "upgrade-governor-webhooks/1")
	req.Header.Set(HeaderSignature, Sign(job.Secret, now(), body))
	req.Header.Set(HeaderIdempotencyKey, IdempotencyKey(job.Subscription.ID, job.Event.Key))
	req.Header.Set(HeaderEvent, job.Event.Type)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(job.DeliveryID, 10))
	resp, err := s.Client.Do(req)
	if err != nil {
		// The error names the URL, which may hold a credential: say only what happened.
		return 0, &SendError{Msg: describe(err), Refused: errors.Is(err, ErrRefusedAddress)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, min(s.Limits.MaxResponseBytes, 512)))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, s.Limits.MaxResponseBytes))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp.StatusCode, nil
	}
	msg := fmt.Sprintf("receiver answered %s", resp.Status)
	if len(snippet) > 0 {
		msg += ": " + printable(snippet, 200)
	}
	return resp.StatusCode, &SendError{Status: resp.StatusCode, Msg: msg}
}

func describe(err error) string {
	switch {
	case errors.Is(err, ErrRefusedAddress):
		return "connection refused by the webhook policy: the host resolves to a non-public address"
	case errors.Is(err, context.DeadlineExceeded):
		return "the receiver did not answer in time"
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return "the receiver did not answer in time"
	}
	return "could not reach the receiver (connection failed)"
}

func printable(b []byte, n int) string {
	out := make([]rune, 0, n)
	for _, r := range string(b) {
		if len(out) >= n {
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		out = append(out, r)
	}
	return string(out)
}
