package api

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// ProposalView is a proposal as the API shows it, from the chain or from the index.
type ProposalView struct {
	Address                string   `json:"address"`
	Multisig               string   `json:"multisig"`
	Index                  uint64   `json:"index"`
	TargetProgram          string   `json:"target_program"`
	Buffer                 string   `json:"buffer"`
	BufferHash             string   `json:"buffer_hash"`
	Proposer               string   `json:"proposer"`
	Description            string   `json:"description"`
	Status                 string   `json:"status"`
	Approvals              []string `json:"approvals"`
	ApprovalCount          int      `json:"approval_count"`
	Threshold              int      `json:"threshold"`
	MigrationTargetVersion *int     `json:"migration_target_version"`
	// Migration is the whole plan the members signed (chain source only): which accounts
	// migrate and what the governed program's migrate instruction receives.
	Migration *MigrationView `json:"migration,omitempty"`
	// MigrationSupersededBy (GET /proposals/:id, executed proposals with a migration) is the
	// later executed proposal that upgraded the program since: the program refuses this plan.
	MigrationSupersededBy string     `json:"migration_superseded_by,omitempty"`
	CreatedAt             *time.Time `json:"created_at"`
	ApprovedAt            *time.Time `json:"approved_at"`
	Eta                   *time.Time `json:"eta"`
	ExpiresAt             *time.Time `json:"expires_at"`
	// ExecuteBy is the last moment an approved proposal may execute (eta + the multisig's
	// grace); past it the proposal is expired.
	ExecuteBy        *time.Time `json:"execute_by,omitempty"`
	ExecutedAt       *time.Time `json:"executed_at"`
	ClosedAt         *time.Time `json:"closed_at"`
	WorkflowID       string     `json:"workflow_id,omitempty"`
	ProposeSignature string     `json:"propose_signature,omitempty"`
	ExecuteSignature string     `json:"execute_signature,omitempty"`
	// AllowedActions (GET /proposals/:id only) are what may be done now and by whom, from
	// internal/lifecycle: pages render them instead of working them out.
	AllowedActions []lifecycle.Allowed `json:"allowed_actions,omitempty"`
	// Kind is "upgrade" or "config". A config proposal changes its multisig (Actions) and has
	// no target program, buffer or hash.
	Kind    string                      `json:"kind"`
	Actions []governor.ConfigActionJSON `json:"actions,omitempty"`
	// Stale (chain source): a config change of the members or threshold executed after this
	// proposal was created, so the program refuses its approval and execution; StaleReason
	// says so in words.
	Stale       bool   `json:"stale,omitempty"`
	StaleReason string `json:"stale_reason,omitempty"`
}

// configView clears the upgrade fields of a config proposal (the account holds the system
// program's address and a zero hash there) and sets its kind and actions.
func (v *ProposalView) configView(actions []governor.ConfigActionJSON) {
	v.Kind, v.Actions = store.KindConfig, actions
	v.TargetProgram, v.Buffer, v.BufferHash = "", "", ""
}

func proposalFromStore(p store.Proposal) ProposalView {
	v := ProposalView{
		Address: p.Address, Multisig: p.Multisig, Index: p.Index, TargetProgram: p.TargetProgram,
		Buffer: p.Buffer, BufferHash: p.BufferHash, Proposer: p.Proposer, Description: p.Description,
		Status: string(p.Status), Approvals: []string{}, ApprovalCount: p.Approvals, Threshold: p.Threshold,
		MigrationTargetVersion: p.MigrationTargetVersion, ApprovedAt: utc(p.ApprovedAt), Eta: utc(p.ETA),
		ExecutedAt: utc(p.ExecutedAt), ClosedAt: utc(p.ClosedAt), WorkflowID: p.WorkflowID,
		ProposeSignature: p.ProposeSignature, ExecuteSignature: p.ExecuteSignature, Kind: store.KindUpgrade,
	}
	if p.Kind == store.KindConfig {
		var actions []governor.ConfigActionJSON
		// The column holds what the worker or the indexer encoded; a row that does not decode
		// still shows as a config proposal, saying why its actions are missing.
		if err := json.Unmarshal(p.ConfigActions, &actions); err != nil {
			actions = []governor.ConfigActionJSON{{Kind: "unreadable", Summary: fmt.Sprintf("the index's actions do not decode: %v", err)}}
		}
		v.configView(actions)
	}
	created := p.CreatedAt.UTC()
	v.CreatedAt = &created
	return v
}

// proposalFromInput is what the workflow was asked to propose, before the chain has it.
func proposalFromInput(in workflows.ProposalInput) ProposalView {
	v := ProposalView{
		Address: in.Proposal, Multisig: in.Multisig, TargetProgram: in.TargetProgram, Buffer: in.Buffer,
		BufferHash: in.BufferHash, Proposer: in.Proposer, Description: in.Description,
		Status: StatusPending, Approvals: []string{}, Kind: store.KindUpgrade,
	}
	if in.IsConfig() {
		v.configView(in.Actions)
	}
	if in.Migration != nil {
		t := int(in.Migration.TargetVersion)
		v.MigrationTargetVersion = &t
	}
	return v
}

// proposalFromChain shows the program's proposal at chain time now: an Active proposal past its
// lifetime is "expired" (the program refuses its approvals).
func proposalFromChain(addr solana.PublicKey, p *governor.Proposal, m *governor.Multisig, now int64) ProposalView {
	v := ProposalView{
		Address: addr.String(), Multisig: p.Multisig.String(), Index: p.Index,
		TargetProgram: p.TargetProgram.String(), Buffer: p.Buffer.String(),
		BufferHash: hex.EncodeToString(p.BufferHash[:]), Proposer: p.Proposer.String(),
		Description: p.Description, Status: string(lifecycle.FromChain(p.Status, p.ExpiresAt, p.ExecuteBy, now)), Approvals: keys(p.Approvals),
		ApprovalCount: len(p.Approvals), CreatedAt: fmtTime(p.CreatedAt), ApprovedAt: fmtTime(p.ApprovedAt),
		Eta: fmtTime(p.Eta), ExpiresAt: fmtTime(p.ExpiresAt), ExecuteBy: fmtTime(p.ExecuteBy), ExecutedAt: fmtTime(p.ExecutedAt),
		ClosedAt: fmtTime(p.CancelledAt), Kind: store.KindUpgrade,
	}
	if p.IsConfig() {
		v.configView(governor.ConfigActionsJSON(p.Actions))
	}
	if m != nil {
		v.Threshold = int(m.Threshold)
		if m.IsStale(p.Index) && (p.Status == governor.ProposalActive || p.Status == governor.ProposalApproved) {
			v.Stale, v.StaleReason = true, lifecycle.StaleReason
		}
	}
	if p.Migration != nil {
		t := int(p.Migration.TargetVersion)
		v.MigrationTargetVersion = &t
		v.Migration = &MigrationView{TargetVersion: t, FromVersion: int(p.Migration.FromVersion),
			DataSize: p.Migration.DataSize, VersionOffset: p.Migration.VersionOffset,
			InstructionData: base64.StdEncoding.EncodeToString(p.Migration.InstructionData)}
	}
	return v
}

// MigrationView is a proposal's signed migration plan.
type MigrationView struct {
	TargetVersion int `json:"target_version"`
	// FromVersion is the version byte, at VersionOffset, of the accounts to migrate; DataSize
	// narrows them to accounts of that size (0: any).
	FromVersion   int    `json:"from_version"`
	DataSize      uint64 `json:"data_size"`
	VersionOffset uint32 `json:"version_offset"`
	// InstructionData (base64) is sent to the governed program's migrate instruction.
	InstructionData string `json:"instruction_data"`
}

// chainStatus spells the program's status the way the index and the workflow do.
func chainStatus(s governor.ProposalStatus) string { return strings.ToLower(s.String()) }

func keys(ks []solana.PublicKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.String()
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ApprovalView is one recorded approval with the transaction that made it.
type ApprovalView struct {
	Member     string    `json:"member"`
	Signature  string    `json:"signature"`
	Slot       uint64    `json:"slot"`
	ApprovedAt time.Time `json:"approved_at"`
}

// ProposalStateView is the workflow's live status (its status query).
type ProposalStateView struct {
	Step                string     `json:"step"`
	Status              string     `json:"status"`
	Approvals           []string   `json:"approvals"`
	Threshold           int        `json:"threshold"`
	Eta                 *time.Time `json:"eta"`
	ExpiresAt           *time.Time `json:"expires_at"`
	Paused              bool       `json:"paused"`
	ProposeSignature    string     `json:"propose_signature,omitempty"`
	ExecuteSignature    string     `json:"execute_signature,omitempty"`
	CancelSignature     string     `json:"cancel_signature,omitempty"`
	MigrationWorkflowID string     `json:"migration_workflow_id,omitempty"`
	LastError           string     `json:"last_error,omitempty"`
	Stale               bool       `json:"stale,omitempty"`
}

func stateView(st workflows.ProposalState) *ProposalStateView {
	approvals := st.Approvals
	if approvals == nil {
		approvals = []string{}
	}
	return &ProposalStateView{
		Step: st.Step, Status: st.Status, Approvals: approvals, Threshold: st.Threshold,
		Eta: utc(st.Eta), ExpiresAt: utc(st.ExpiresAt), Paused: st.Paused,
		ProposeSignature: st.ProposeSignature, ExecuteSignature: st.ExecuteSignature,
		CancelSignature: st.CancelSignature, MigrationWorkflowID: st.MigrationWorkflowID,
		LastError: st.LastError, Stale: st.Stale,
	}
}

// WorkflowView is a workflow execution as Temporal describes it, with its live state when
// the query answered.
type WorkflowView struct {
	ID     string `json:"id"`
	RunID  string `json:"run_id"`
	Status string `json:"status"` // running, completed, failed, canceled, terminated, ...
	// State is the status query's answer; null when the query did not answer in time.
	State      *ProposalStateView `json:"state"`
	QueryError string             `json:"query_error,omitempty"`
}

// MigrationStateView is the migration workflow's progress query answer.
type MigrationStateView struct {
	Status       string    `json:"status"`
	Total        int       `json:"total"`
	Migrated     int       `json:"migrated"`
	Failed       int       `json:"failed"`
	Remaining    int       `json:"remaining"`
	Transactions int       `json:"transactions"`
	ComputeUnits uint64    `json:"compute_units"`
	Cursor       string    `json:"cursor"`
	RatePerSec   float64   `json:"rate_per_sec"`
	StartedAt    time.Time `json:"started_at"`
	Runs         int       `json:"runs"`
	LastError    string    `json:"last_error,omitempty"`
	// PausedSeconds is the time spent held (paused, or not served), left out of the rate.
	PausedSeconds float64 `json:"paused_seconds"`
}

func migrationStateView(st workflows.MigrationState) *MigrationStateView {
	return &MigrationStateView{
		Status: st.Status, Total: st.Total, Migrated: st.Migrated, Failed: st.Failed,
		Remaining: st.Remaining, Transactions: st.Transactions, ComputeUnits: st.ComputeUnits,
		Cursor: st.Cursor, RatePerSec: st.RatePerSec, StartedAt: st.StartedAt.UTC(), Runs: st.Runs,
		LastError: st.LastError, PausedSeconds: st.PausedFor.Seconds(),
	}
}

// JobProgressView counts a migration job's accounts from the index.
type JobProgressView struct {
	Status    string `json:"status"`
	StoppedAt string `json:"stopped_at,omitempty"`
	Total     int    `json:"total"`
	Pending   int    `json:"pending"`
	Migrated  int    `json:"migrated"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
}

// AuditEntryView is one audit row.
type AuditEntryView struct {
	ID int64 `json:"id"`
	// At is when it happened, by the clock AtClock names: "chain" (block time or the program's
	// clock, which test chains move by time travel) or "server". RecordedAt is when the row was
	// written; entries come in that order (by id).
	At         time.Time      `json:"at"`
	AtClock    string         `json:"at_clock"`
	RecordedAt time.Time      `json:"recorded_at"`
	Actor      string         `json:"actor"`
	Action     string         `json:"action"`
	Proposal   string         `json:"proposal,omitempty"`
	Signature  string         `json:"signature,omitempty"`
	Slot       uint64         `json:"slot,omitempty"`
	Source     string         `json:"source"`
	Details    map[string]any `json:"details"`
}
