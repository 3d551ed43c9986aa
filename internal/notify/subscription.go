package notify

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"slices"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// SubscriptionRequest is what an operator asks for (API body, `apiserver webhook create`).
type SubscriptionRequest struct {
	Name     string   `json:"name"`
	URL      string   `json:"url"`
	Multisig string   `json:"multisig"`
	Program  string   `json:"program"`
	Events   []string `json:"events"`
	Format   string   `json:"format"`
	// EtaReminderHours: send proposal.eta_reminder this many hours before eta (0: none).
	EtaReminderHours int `json:"eta_reminder_hours"`
	// MaxAttempts: a delivery is marked failed after this many (default 25: about two hours
	// with the default backoff).
	MaxAttempts int `json:"max_attempts"`
}

// DefaultMaxAttempts is a subscription's attempts per delivery unless it says otherwise.
const DefaultMaxAttempts = 25

// FieldError names the request field at fault.
type FieldError struct {
	Field string
	// Missing: the field is required and absent.
	Missing bool
	Msg     string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Check validates r against the policy and fills defaults; the multisig's being served is the
// caller's check (it owns the served list's error).
func (p Policy) Check(ctx context.Context, r *SubscriptionRequest, resolve func(context.Context, string) ([]netip.Addr, error)) *FieldError {
	if r.Name == "" {
		return &FieldError{Field: "name", Missing: true, Msg: "required: 1-64 letters, digits, '.', '_' or '-'"}
	}
	if !namePattern.MatchString(r.Name) {
		return &FieldError{Field: "name", Msg: "want 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"}
	}
	if r.URL == "" {
		return &FieldError{Field: "url", Missing: true, Msg: "required: the receiver's https URL"}
	}
	if err := p.CheckURL(ctx, r.URL, resolve); err != nil {
		return &FieldError{Field: "url", Msg: err.Error()}
	}
	switch {
	case r.Multisig == "" && r.Program == "":
		return &FieldError{Field: "multisig", Missing: true, Msg: "give multisig or program (the subscription's scope)"}
	case r.Multisig != "" && r.Program != "":
		return &FieldError{Field: "program", Msg: "give multisig or program, not both"}
	}
	for field, v := range map[string]string{"multisig": r.Multisig, "program": r.Program} {
		if v == "" {
			continue
		}
		if _, err := solana.PublicKeyFromBase58(v); err != nil {
			return &FieldError{Field: field, Msg: fmt.Sprintf("%q is not a base58 public key", v)}
		}
	}
	if r.Events == nil {
		r.Events = []string{}
	}
	for i, ev := range r.Events {
		if !slices.Contains(EventTypes, ev) {
			return &FieldError{Field: fmt.Sprintf("events[%d]", i), Msg: fmt.Sprintf("unknown event type %q; known: %v", ev, EventTypes)}
		}
	}
	if r.Format == "" {
		r.Format = FormatJSON
	}
	if !slices.Contains(Formats, r.Format) {
		return &FieldError{Field: "format", Msg: fmt.Sprintf("want one of %v", Formats)}
	}
	if r.EtaReminderHours < 0 || r.EtaReminderHours > 2160 {
		return &FieldError{Field: "eta_reminder_hours", Msg: "want 0 (no reminder) to 2160 hours"}
	}
	if r.MaxAttempts == 0 {
		r.MaxAttempts = DefaultMaxAttempts
	}
	if r.MaxAttempts < 1 || r.MaxAttempts > 100 {
		return &FieldError{Field: "max_attempts", Msg: "want 1 to 100"}
	}
	return nil
}

// Subscription is the store row the checked request makes.
func (r SubscriptionRequest) Subscription() store.Subscription {
	return store.Subscription{
		Name: r.Name, URL: r.URL, Multisig: r.Multisig, Program: r.Program, Events: r.Events,
		Format: r.Format, EtaReminderHours: r.EtaReminderHours, MaxAttempts: r.MaxAttempts,
	}
}
