package apiclient

import (
	"fmt"
	"time"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// The types below are the API's JSON bodies as openapi.yaml documents them. They mirror
// internal/api's response types field for field; types_test.go fails when the two drift.
// The client keeps its own copies so that a member's CLI does not link the server (gin,
// Temporal, PostgreSQL).

// Error is the API's error body ({code, message, field}) with the HTTP status it came with.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the request field at fault (the API's name, e.g. "transaction").
	Field string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s (%s): %s", e.Status, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// MigrationPlan is the off-chain half of a migration a proposal declares: which accounts the
// MigrationWorkflow walks (POST /proposals' "migration").
type MigrationPlan struct {
	TargetVersion *int   `json:"target_version"`
	FromVersion   *int   `json:"from_version"`
	DataSize      *int64 `json:"data_size"`
	VersionOffset *int64 `json:"version_offset"`
}

// SignedMigration is a proposal's migration plan as the members signed it.
type SignedMigration struct {
	TargetVersion   int    `json:"target_version"`
	FromVersion     int    `json:"from_version"`
	DataSize        uint64 `json:"data_size"`
	VersionOffset   uint32 `json:"version_offset"`
	InstructionData string `json:"instruction_data"` // base64
}

// CreateProposalRequest is POST /proposals' body.
type CreateProposalRequest struct {
	// Transaction is the member-signed propose_upgrade, base64.
	Transaction string         `json:"transaction"`
	Description *string        `json:"description,omitempty"`
	Migration   *MigrationPlan `json:"migration,omitempty"`
}

// CreateProposalResponse answers POST /proposals.
type CreateProposalResponse struct {
	Proposal   string `json:"proposal"`
	Multisig   string `json:"multisig"`
	Signature  string `json:"signature"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	// Created is false when the workflow already existed (a retried request).
	Created bool `json:"created"`
}

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
	// Migration is the whole signed plan (chain source); MigrationSupersededBy, the later
	// executed proposal that upgraded the program since (the plan can no longer run).
	Migration             *SignedMigration `json:"migration,omitempty"`
	MigrationSupersededBy string           `json:"migration_superseded_by,omitempty"`
	CreatedAt             *time.Time       `json:"created_at"`
	ApprovedAt            *time.Time       `json:"approved_at"`
	Eta                   *time.Time       `json:"eta"`
	ExpiresAt             *time.Time       `json:"expires_at"`
	ExecutedAt            *time.Time       `json:"executed_at"`
	ClosedAt              *time.Time       `json:"closed_at"`
	WorkflowID            string           `json:"workflow_id,omitempty"`
	ProposeSignature      string           `json:"propose_signature,omitempty"`
	ExecuteSignature      string           `json:"execute_signature,omitempty"`
	// Kind is "upgrade" or "config"; a config proposal's Actions are what it changes.
	Kind    string                      `json:"kind"`
	Actions []governor.ConfigActionJSON `json:"actions,omitempty"`
	// Stale: a config change of the members or threshold executed after this proposal was
	// created; it can no longer be approved or executed (StaleReason says so in words).
	Stale       bool   `json:"stale,omitempty"`
	StaleReason string `json:"stale_reason,omitempty"`
}

// ProposalList is one page of GET /proposals.
type ProposalList struct {
	Proposals []ProposalView `json:"proposals"`
	Total     int            `json:"total"`
	Limit     int            `json:"limit"`
	Offset    int            `json:"offset"`
	// NextOffset is the offset of the next page; nil on the last page.
	NextOffset *int `json:"next_offset"`
}

// ApprovalView is one recorded approval with the transaction that made it.
type ApprovalView struct {
	Member     string    `json:"member"`
	Signature  string    `json:"signature"`
	Slot       uint64    `json:"slot"`
	ApprovedAt time.Time `json:"approved_at"`
}

// ProposalState is the proposal workflow's live status (its status query).
type ProposalState struct {
	// Step is where the workflow is: verifying-buffer, proposing, collecting-approvals,
	// timelock, paused, executing, migrating, done, cancelled, expired, ...
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

// Workflow is a workflow execution as Temporal describes it, with its live state when the
// query answered.
type Workflow struct {
	ID     string `json:"id"`
	RunID  string `json:"run_id"`
	Status string `json:"status"` // running, completed, failed, canceled, terminated, ...
	// State is nil when the workflow did not answer its query in time.
	State      *ProposalState `json:"state"`
	QueryError string         `json:"query_error,omitempty"`
}

// ProposalDetail answers GET /proposals/{id}.
type ProposalDetail struct {
	Proposal ProposalView `json:"proposal"`
	// Source is where Proposal was read: "chain", "index" or "workflow" (right after
	// POST /proposals, before the workflow proposed on chain; status "pending").
	Source          string         `json:"source"`
	Paused          *bool          `json:"paused"`
	Indexed         *ProposalView  `json:"indexed"`
	ApprovalHistory []ApprovalView `json:"approval_history"`
	Workflow        *Workflow      `json:"workflow"`
}

// ApproveResponse answers POST /proposals/{id}/approve.
type ApproveResponse struct {
	Proposal  string     `json:"proposal"`
	Member    string     `json:"member"`
	Signature string     `json:"signature"`
	Approvals int        `json:"approvals"`
	Threshold int        `json:"threshold"`
	Status    string     `json:"status"`
	Eta       *time.Time `json:"eta"`
}

// CancelRequest is POST /proposals/{id}/cancel's body with a signed transaction.
type CancelRequest struct {
	Transaction string `json:"transaction"`
	Reason      string `json:"reason,omitempty"`
}

// CancelResponse answers POST /proposals/{id}/cancel.
type CancelResponse struct {
	Proposal   string `json:"proposal"`
	Mode       string `json:"mode"`
	Signature  string `json:"signature,omitempty"`
	WorkflowID string `json:"workflow_id"`
	// Status is cancelled, cancel_voted (a member's vote) or cancel_requested.
	Status    string `json:"status"`
	Votes     int    `json:"votes,omitempty"`
	Threshold int    `json:"threshold,omitempty"`
}

// ExecuteResponse answers POST /proposals/{id}/execute.
type ExecuteResponse struct {
	Proposal string `json:"proposal"`
	// Signalled is false when the workflow had already finished.
	Signalled bool      `json:"signalled"`
	Workflow  *Workflow `json:"workflow"`
}

// SystemResponse answers POST /system/pause and /system/resume.
type SystemResponse struct {
	Multisig  string `json:"multisig"`
	Signature string `json:"signature"`
	// Paused is the effective pause after the transaction; PauseExpiresAt when it lapses.
	Paused         bool       `json:"paused"`
	PauseExpiresAt *time.Time `json:"pause_expires_at"`
	// Votes of Threshold: members holding the pause, or voting to resume it.
	Votes     int      `json:"votes"`
	Threshold int      `json:"threshold"`
	Signalled []string `json:"signalled,omitempty"`
}

// MigrationState is the migration workflow's progress query answer.
type MigrationState struct {
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
	// PausedSeconds is the time spent held (paused), left out of RatePerSec.
	PausedSeconds float64 `json:"paused_seconds"`
}

// JobProgress counts a migration job's accounts from the index.
type JobProgress struct {
	Status    string `json:"status"`
	StoppedAt string `json:"stopped_at,omitempty"`
	Total     int    `json:"total"`
	Pending   int    `json:"pending"`
	Migrated  int    `json:"migrated"`
	Failed    int    `json:"failed"`
	Skipped   int    `json:"skipped"`
}

// Migration answers GET /migration/{id}.
type Migration struct {
	ID             string          `json:"id"`
	WorkflowStatus string          `json:"workflow_status,omitempty"`
	RunID          string          `json:"run_id,omitempty"`
	State          *MigrationState `json:"state"`
	QueryError     string          `json:"query_error,omitempty"`
	Job            *JobProgress    `json:"job"`
}
