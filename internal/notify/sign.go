package notify

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of every delivery.
const (
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>".
	HeaderSignature = "X-Governor-Signature"
	// HeaderIdempotencyKey is the same for every attempt at one event to one subscription:
	// a receiver that has seen it drops the delivery.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderEvent is the event type.
	HeaderEvent = "X-Governor-Event"
	// HeaderDelivery is the delivery's ID (the API's /webhooks/{id}/deliveries lists it).
	HeaderDelivery = "X-Governor-Delivery"
)

// secretPrefix marks a subscription secret, so one found in a file says what it is.
const secretPrefix = "ugwh_"

// NewSecret makes a subscription's signing secret: 32 random bytes, hex, with a prefix. The
// HMAC key is the whole string as shown.
func NewSecret() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("notify: secret: %w", err)
	}
	return secretPrefix + hex.EncodeToString(b[:]), nil
}

// Sign returns the HeaderSignature value of body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a HeaderSignature value against body, as a receiver does (README,
// "Notifications"): the MAC must match and t be within tolerance of now (replays of an old
// delivery are refused).
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	if ts == "" || sig == "" {
		return fmt.Errorf("notify: signature header %q lacks t or v1", header)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("notify: signature timestamp %q: %w", ts, err)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("notify: signature timestamp %s is %s away from now", ts, d)
	}
	if !hmac.Equal([]byte(sig), []byte(mac(secret, ts, body))) {
		return fmt.Errorf("notify: signature does not match")
	}
	return nil
}

// IdempotencyKey is stable per event and subscription.
func IdempotencyKey(subscription int64, eventKey string) string {
	h := sha256.Sum256([]byte(strconv.FormatInt(subscription, 10) + "\x00" + eventKey))
	return "ugn_" + hex.EncodeToString(h[:16])
}
