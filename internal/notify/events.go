// Package notify tells people what governance is doing: it turns the audit trail into
// notification events, signs and posts them to webhook subscriptions (through an SSRF guard),
// and builds the public feed of pending upgrades.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Event types, as subscriptions name them and payloads carry them.
const (
	EventProposed           = "proposal.proposed"
	EventApproval           = "proposal.approval"
	EventThresholdReached   = "proposal.threshold_reached"
	EventEtaReminder        = "proposal.eta_reminder"
	EventExecuted           = "proposal.executed"
	EventCancelled          = "proposal.cancelled"
	EventExpired            = "proposal.expired"
	EventStale              = "proposal.stale"
	EventPaused             = "system.paused"
	EventResumed            = "system.resumed"
	EventMigrationProgress  = "migration.progress"
	EventMigrationCompleted = "migration.completed"
	EventMigrationStopped   = "migration.stopped"
	EventConfigChanged      = "config.changed"
)

// EventTypes lists every event type, in the order of a proposal's life.
var EventTypes = []string{
	EventProposed, EventApproval, EventThresholdReached, EventEtaReminder, EventExecuted,
	EventCancelled, EventExpired, EventStale, EventPaused, EventResumed,
	EventMigrationProgress, EventMigrationCompleted, EventMigrationStopped, EventConfigChanged,
}

// SchemaVersion names the payload's schema; a change that breaks receivers gets a new one.
const SchemaVersion = "upgrade-governor.notification.v1"

// Payload is the JSON body of a notification (format json). Fields are added, never renamed or
// removed, within one SchemaVersion; openapi.yaml's NotificationPayload describes it.
type Payload struct {
	Schema string `json:"schema"`
	// ID is the idempotency key: the same for every attempt at one event to one subscription.
	ID           string    `json:"id"`
	Type         string    `json:"type"`
	Subscription int64     `json:"subscription"`
	Summary      string    `json:"summary"`
	OccurredAt   time.Time `json:"occurred_at"`
	Multisig     string    `json:"multisig"`
	// Program is the upgraded program; absent for events of the whole multisig.
	Program   string         `json:"program,omitempty"`
	Signature string         `json:"signature,omitempty"`
	Proposal  *ProposalInfo  `json:"proposal,omitempty"`
	Approval  *ApprovalInfo  `json:"approval,omitempty"`
	Reminder  *ReminderInfo  `json:"reminder,omitempty"`
	Migration *MigrationInfo `json:"migration,omitempty"`
	Pause     *PauseInfo     `json:"pause,omitempty"`
	Config    *ConfigInfo    `json:"config,omitempty"`
}

// ProposalInfo is the proposal an event is about, as the index knew it then.
type ProposalInfo struct {
	Address     string     `json:"address"`
	Index       uint64     `json:"index"`
	Kind        string     `json:"kind"`
	Program     string     `json:"program,omitempty"`
	Buffer      string     `json:"buffer,omitempty"`
	BufferHash  string     `json:"buffer_hash,omitempty"`
	Proposer    string     `json:"proposer"`
	Description string     `json:"description"`
	Status      string     `json:"status"`
	Approvals   int        `json:"approvals"`
	Threshold   int        `json:"threshold"`
	Eta         *time.Time `json:"eta,omitempty"`
	// Actions are a config proposal's changes (ConfigAction objects).
	Actions json.RawMessage `json:"actions,omitempty"`
	// URL is the proposal's page on the members' UI.
	URL string `json:"url"`
}

// ApprovalInfo is a member's approval.
type ApprovalInfo struct {
	Member    string `json:"member"`
	Approvals int    `json:"approvals"`
	Threshold int    `json:"threshold"`
}

// ReminderInfo says how far eta is.
type ReminderInfo struct {
	HoursBefore int       `json:"hours_before"`
	Eta         time.Time `json:"eta"`
}

// MigrationInfo is a migration job's progress.
type MigrationInfo struct {
	Job      string `json:"job"`
	Status   string `json:"status"`
	Total    int    `json:"total"`
	Migrated int    `json:"migrated"`
	Skipped  int    `json:"skipped"`
	Failed   int    `json:"failed"`
	Percent  int    `json:"percent"`
	Error    string `json:"error,omitempty"`
}

// PauseInfo is a pause or a resume of the whole multisig.
type PauseInfo struct {
	By []string `json:"by"`
	// LapsesAt is when a pause ends on its own; absent when held until resumed.
	LapsesAt *time.Time `json:"lapses_at,omitempty"`
}

// ConfigInfo is an executed config change: the multisig's configuration from now on.
type ConfigInfo struct {
	Proposal           string          `json:"proposal"`
	Actions            json.RawMessage `json:"actions,omitempty"`
	Members            []string        `json:"members"`
	Threshold          int             `json:"threshold"`
	TimelockSeconds    int64           `json:"timelock_seconds"`
	Guardian           string          `json:"guardian"`
	StaleProposalIndex uint64          `json:"stale_proposal_index"`
}

// ErrUnusableRow: an audit row gives rise to no event and never will (its details are not
// what the builder reads); the dispatcher logs it and goes on.
var ErrUnusableRow = errors.New("unusable audit row")

// HandledActions are the audit actions Events maps (store.NotifiedActions queues exactly these).
var HandledActions = []string{
	"proposal.created", "approval.recorded", "proposal.approved", "proposal.executed", "proposal.cancelled",
	"proposal.expired", "migration.started", "migration.resumed", "migration.accounts_migrated",
	"migration.completed", "migration.failed", "migration.cancelled",
	store.ActionChainSystemPaused, store.ActionChainSystemResumed, store.ActionChainConfigExecuted,
}

// Handles reports whether Events maps action.
func Handles(action string) bool { return slices.Contains(HandledActions, action) }

// Builder turns audit rows into events, reading the index for what a row does not carry.
type Builder struct {
	Store *store.Store
	// PublicURL is where the API (and its /ui/) is reached from outside, for links.
	PublicURL string
}

// ProposalURL is a proposal's page on the members' UI (web/src/main.ts routes #/proposals/<address>).
func ProposalURL(publicURL, proposal string) string {
	return strings.TrimRight(publicURL, "/") + "/ui/#/proposals/" + proposal
}

func (b *Builder) proposalInfo(p store.Proposal) *ProposalInfo {
	info := &ProposalInfo{
		Address: p.Address, Index: p.Index, Kind: p.Kind, Proposer: p.Proposer, Description: p.Description,
		Status: string(p.Status), Approvals: p.Approvals, Threshold: p.Threshold, Eta: p.ETA,
		URL: ProposalURL(b.PublicURL, p.Address),
	}
	if p.Kind == store.KindConfig {
		info.Actions = p.ConfigActions
	} else {
		info.Program, info.Buffer, info.BufferHash = p.TargetProgram, p.Buffer, p.BufferHash
	}
	return info
}

func programOf(p store.Proposal) string {
	if p.Kind == store.KindConfig {
		return ""
	}
	return p.TargetProgram
}

func short(addr string) string {
	if len(addr) <= 10 {
		return addr
	}
	return addr[:4] + "…" + addr[len(addr)-4:]
}

// what names a proposal for people.
func what(p store.Proposal) string {
	if p.Kind == store.KindConfig {
		return fmt.Sprintf("config proposal #%d of %s", p.Index, short(p.Multisig))
	}
	return fmt.Sprintf("upgrade #%d of program %s", p.Index, short(p.TargetProgram))
}

func (b *Builder) event(key, typ string, p store.Proposal, e store.AuditEntry, summary string, fill func(*Payload)) (store.NotificationEvent, error) {
	pl := Payload{
		Schema: SchemaVersion, Type: typ, Summary: summary, OccurredAt: e.At.UTC(), Multisig: p.Multisig,
		Program: programOf(p), Signature: e.Signature, Proposal: b.proposalInfo(p),
	}
	if fill != nil {
		fill(&pl)
	}
	raw, err := json.Marshal(pl)
	if err != nil {
		return store.NotificationEvent{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return store.NotificationEvent{
		Key: key, Type: typ, Multisig: p.Multisig, Program: pl.Program, Proposal: p.Address,
		AuditID: e.ID, OccurredAt: pl.OccurredAt, Payload: raw,
	}, nil
}

// Events returns the events an audit row gives rise to (none for a row about something the
// index does not know).
func (b *Builder) Events(ctx context.Context, e store.AuditEntry) ([]store.NotificationEvent, error) {
	one := func(ev store.NotificationEvent, err error) ([]store.NotificationEvent, error) {
		if err != nil {
			return nil, err
		}
		return []store.NotificationEvent{ev}, nil
	}
	switch {
	case strings.HasPrefix(e.Action, "proposal.") || e.Action == store.ActionApprovalRecorded:
		p, err := b.Store.GetProposal(ctx, e.Proposal)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return one(b.proposalEvent(p, e))
	case strings.HasPrefix(e.Action, "migration."):
		return b.migrationEvents(ctx, e)
	case e.Action == store.ActionChainSystemPaused || e.Action == store.ActionChainSystemResumed:
		return b.pauseEvents(e)
	case e.Action == store.ActionChainConfigExecuted:
		return b.configEvents(ctx, e)
	}
	return nil, nil
}

func (b *Builder) proposalEvent(p store.Proposal, e store.AuditEntry) (store.NotificationEvent, error) {
	addr := p.Address
	switch e.Action {
	case store.ActionProposalCreated:
		return b.event(EventProposed+":"+addr, EventProposed, p, e,
			fmt.Sprintf("Proposed: %s by %s (%s)", what(p), short(p.Proposer), oneLine(p.Description)), nil)
	case store.ActionApprovalRecorded:
		n := intDetail(e.Details, "approvals")
		return b.event(EventApproval+":"+addr+":"+e.Actor, EventApproval, p, e,
			fmt.Sprintf("Approved by %s: %s (%d of %d)", short(e.Actor), what(p), n, p.Threshold),
			func(pl *Payload) { pl.Approval = &ApprovalInfo{Member: e.Actor, Approvals: n, Threshold: p.Threshold} })
	case "proposal.approved":
		eta := "unknown"
		if p.ETA != nil {
			eta = p.ETA.UTC().Format(time.RFC3339)
		}
		return b.event(EventThresholdReached+":"+addr, EventThresholdReached, p, e,
			fmt.Sprintf("Threshold reached: %s executes at %s (timelock started)", what(p), eta), nil)
	case "proposal.executed":
		return b.event(EventExecuted+":"+addr, EventExecuted, p, e, fmt.Sprintf("Executed: %s", what(p)), nil)
	case "proposal.cancelled":
		return b.event(EventCancelled+":"+addr, EventCancelled, p, e, fmt.Sprintf("Cancelled: %s", what(p)), nil)
	case "proposal.expired":
		return b.event(EventExpired+":"+addr, EventExpired, p, e, fmt.Sprintf("Expired: %s", what(p)), nil)
	}
	return store.NotificationEvent{}, fmt.Errorf("notify: no event for audit action %s", e.Action)
}

// Reminder is the proposal.eta_reminder of a proposal, hours before its eta.
func (b *Builder) Reminder(d store.DueReminder, now time.Time) (store.NotificationEvent, error) {
	p := d.Proposal
	ev, err := b.event(store.EtaReminderKey(p.Address, d.Hours), EventEtaReminder, p, store.AuditEntry{At: now},
		fmt.Sprintf("In %d hours or less: %s executes at %s", d.Hours, what(p), p.ETA.UTC().Format(time.RFC3339)),
		func(pl *Payload) { pl.Reminder = &ReminderInfo{HoursBefore: d.Hours, Eta: p.ETA.UTC()} })
	ev.EtaReminderHours = d.Hours
	return ev, err
}

func (b *Builder) migrationEvents(ctx context.Context, e store.AuditEntry) ([]store.NotificationEvent, error) {
	jobID, _ := e.Details["job"].(string)
	if jobID == "" {
		return nil, nil
	}
	job, err := b.Store.GetMigrationJob(ctx, jobID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := b.Store.GetProposal(ctx, job.Proposal)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info := &MigrationInfo{Job: job.ID, Status: string(job.Status), Total: job.Total, Migrated: job.Migrated,
		Skipped: job.Skipped, Failed: job.Failed}
	if job.Total > 0 {
		info.Percent = (job.Migrated + job.Skipped) * 100 / job.Total
	}
	fill := func(pl *Payload) { pl.Migration = info }
	switch e.Action {
	case "migration.completed":
		info.Percent = 100
		ev, err := b.event(EventMigrationCompleted+":"+job.ID, EventMigrationCompleted, p, e,
			fmt.Sprintf("Migration completed: %d accounts of %s after %s", job.Migrated, short(p.TargetProgram), what(p)), fill)
		return []store.NotificationEvent{ev}, err
	case "migration.failed", "migration.cancelled":
		info.Status, info.Error = strings.TrimPrefix(e.Action, "migration."), job.LastError
		ev, err := b.event(fmt.Sprintf("%s:%s:%d", EventMigrationStopped, job.ID, e.ID), EventMigrationStopped, p, e,
			fmt.Sprintf("Migration %s at %d%%: %s", info.Status, info.Percent, what(p)), fill)
		return []store.NotificationEvent{ev}, err
	}
	// Started, resumed or a batch landed: one event per tenth of the accounts.
	decile := info.Percent / 10 * 10
	if decile >= 100 && job.Status != store.JobCompleted {
		decile = 90
	}
	if decile >= 100 {
		return nil, nil // migration.completed says it
	}
	ev, err := b.event(fmt.Sprintf("%s:%s:%d", EventMigrationProgress, job.ID, decile), EventMigrationProgress, p, e,
		fmt.Sprintf("Migration at %d%% (%d of %d accounts): %s", info.Percent, job.Migrated+job.Skipped, job.Total, what(p)), fill)
	return []store.NotificationEvent{ev}, err
}

// chainEvent is the part of the indexer's audit details (the program's event) read here.
type chainEvent struct {
	Multisig           string
	PausedBy           string
	ExpiresAt          int64
	Signers            []string
	Proposal           string
	Members            []string
	Threshold          int
	TimelockSeconds    int64
	Guardian           string
	StaleProposalIndex uint64
}

func decodeChainEvent(e store.AuditEntry) (chainEvent, error) {
	var ce chainEvent
	raw, err := json.Marshal(e.Details["event"])
	if err == nil {
		err = json.Unmarshal(raw, &ce)
	}
	if err != nil || ce.Multisig == "" {
		return ce, fmt.Errorf("%w: audit row %d (%s) carries no program event: %v", ErrUnusableRow, e.ID, e.Action, err)
	}
	return ce, nil
}

func (b *Builder) wideEvent(key, typ string, multisig string, e store.AuditEntry, summary string, fill func(*Payload)) (store.NotificationEvent, error) {
	pl := Payload{Schema: SchemaVersion, Type: typ, Summary: summary, OccurredAt: e.At.UTC(), Multisig: multisig, Signature: e.Signature}
	fill(&pl)
	raw, err := json.Marshal(pl)
	if err != nil {
		return store.NotificationEvent{}, fmt.Errorf("encode %s: %w", typ, err)
	}
	return store.NotificationEvent{Key: key, Type: typ, Multisig: multisig, AuditID: e.ID, OccurredAt: pl.OccurredAt, Payload: raw}, nil
}

// maxPauseForever is the program's "held until resumed" (i64::MAX).
const maxPauseForever = int64(1<<63 - 1)

func (b *Builder) pauseEvents(e store.AuditEntry) ([]store.NotificationEvent, error) {
	ce, err := decodeChainEvent(e)
	if err != nil {
		return nil, err
	}
	if e.Action == store.ActionChainSystemPaused {
		info := &PauseInfo{By: []string{ce.PausedBy}}
		if ce.ExpiresAt > 0 && ce.ExpiresAt != maxPauseForever {
			t := time.Unix(ce.ExpiresAt, 0).UTC()
			info.LapsesAt = &t
		}
		ev, err := b.wideEvent(EventPaused+":"+e.Signature, EventPaused, ce.Multisig, e,
			fmt.Sprintf("Paused: multisig %s by %s; nothing executes or migrates until it is resumed", short(ce.Multisig), short(ce.PausedBy)),
			func(pl *Payload) { pl.Pause = info })
		return []store.NotificationEvent{ev}, err
	}
	ev, err := b.wideEvent(EventResumed+":"+e.Signature, EventResumed, ce.Multisig, e,
		fmt.Sprintf("Resumed: multisig %s", short(ce.Multisig)),
		func(pl *Payload) { pl.Pause = &PauseInfo{By: ce.Signers} })
	return []store.NotificationEvent{ev}, err
}

// configEvents: the config change itself, and each open proposal it made stale.
func (b *Builder) configEvents(ctx context.Context, e store.AuditEntry) ([]store.NotificationEvent, error) {
	ce, err := decodeChainEvent(e)
	if err != nil {
		return nil, err
	}
	info := &ConfigInfo{Proposal: ce.Proposal, Members: ce.Members, Threshold: ce.Threshold,
		TimelockSeconds: ce.TimelockSeconds, Guardian: ce.Guardian, StaleProposalIndex: ce.StaleProposalIndex}
	if p, err := b.Store.GetProposal(ctx, ce.Proposal); err == nil {
		info.Actions = p.ConfigActions
	}
	ev, err := b.wideEvent(EventConfigChanged+":"+ce.Proposal, EventConfigChanged, ce.Multisig, e,
		fmt.Sprintf("Configuration changed: multisig %s now %d of %d members", short(ce.Multisig), ce.Threshold, len(ce.Members)),
		func(pl *Payload) { pl.Config = info })
	if err != nil {
		return nil, err
	}
	out := []store.NotificationEvent{ev}
	stale, err := b.Store.StaleCandidates(ctx, ce.Multisig, ce.StaleProposalIndex, ce.Proposal)
	if err != nil {
		return nil, err
	}
	for _, p := range stale {
		sev, err := b.event(EventStale+":"+p.Address, EventStale, p, e,
			fmt.Sprintf("Stale: %s can no longer be approved or executed (the members or threshold changed); propose it again", what(p)),
			func(pl *Payload) { pl.Config = info })
		if err != nil {
			return nil, err
		}
		out = append(out, sev)
	}
	return out, nil
}

func intDetail(d map[string]any, key string) int {
	switch v := d[key].(type) {
	case float64:
		return int(v)
	case int:
		return v
	case int64:
		return int(v)
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	}
	return 0
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 140 {
		s = s[:140] + "…"
	}
	if s == "" {
		return "no description"
	}
	return s
}
