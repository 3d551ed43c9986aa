// Package activities holds the side effects of the upgrade workflows: reading and writing the
// chain and the audit store. Each activity is idempotent: it checks the chain before sending
// and writes rows with upserts, so a retry after a crash does the work at most once.
package activities

import (
	"time"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// Error types the workflows act on. Errors of these types are not retried by Temporal.
const (
	// ErrTypeProgram is a rule of the on-chain program refusing the transaction.
	ErrTypeProgram = "ProgramError"
	// ErrTypeBufferMismatch is a buffer whose hash or authority is not what was proposed.
	ErrTypeBufferMismatch = "BufferMismatch"
	// ErrTypePaused means the multisig is paused on-chain: wait, do not fail.
	ErrTypePaused = "SystemPaused"
	// ErrTypeInvalidTransaction is a member-signed transaction that cannot be sent as it is
	// (wrong instruction, expired blockhash): the member must sign again.
	ErrTypeInvalidTransaction = "InvalidTransaction"
	// ErrTypeNotServed means the operator does not serve the multisig (any more): the worker
	// spends nothing on it. Wait, do not fail: the operator may serve it again.
	ErrTypeNotServed = "MultisigNotServed"
	// ErrTypeExtendRentCeiling means ProgramData must grow by more rent than the worker pays
	// for one proposal: wait for the members to extend it themselves, then execute.
	ErrTypeExtendRentCeiling = "ExtendRentCeiling"
)

// ProposalRef names a proposal on chain.
type ProposalRef struct {
	Proposal string
	Multisig string
}

// ChainProposal is the on-chain state of a proposal, with the chain's clock and the multisig's
// pause flag read in the same call.
type ChainProposal struct {
	Exists        bool
	Address       string
	Multisig      string
	Index         uint64
	Proposer      string
	TargetProgram string
	Buffer        string
	BufferHash    string
	Status        string // active, approved, executed, cancelled
	Approvals     []string
	Threshold     int
	Members       []string
	Guardian      string
	Eta           time.Time
	ExpiresAt     time.Time
	ExecuteBy     time.Time // zero until approved
	Paused        bool
	ChainTime     time.Time
	HasMigration  bool
	// Kind is "upgrade" or "config" (store.KindUpgrade, store.KindConfig).
	Kind string
	// Stale: a config change of the members or threshold executed after this proposal was
	// created; the program refuses its approval and execution (ProposalStale).
	Stale bool
	// ReplacesGuardian: a config proposal replacing the guardian (the guardian cannot cancel it).
	ReplacesGuardian bool
	// PauseLapsesAt is when the multisig's current pause lapses on its own; zero when not
	// paused, or when threshold members hold it until they resume.
	PauseLapsesAt time.Time
}

// VerifyBufferInput is what members approve: this buffer, holding an ELF with this hash,
// owned by the multisig's authority PDA.
type VerifyBufferInput struct {
	Multisig      string
	TargetProgram string
	Buffer        string
	BufferHash    string
}

// VerifyBufferResult describes the checked buffer.
type VerifyBufferResult struct {
	ElfLen              int
	ProgramDataCapacity int
}

// SubmitInput is a member-signed transaction to send as it is.
type SubmitInput struct {
	ProposalRef
	// Tx is the wire-format transaction, signed by the member.
	Tx []byte
	// Member is the signer the API checked; kept for the audit trail.
	Member string
	// Description and migration come from the API request, for the index row.
	Description            string
	MigrationTargetVersion *int
	WorkflowID             string
}

// SubmitResult is the chain's state after the transaction (or after finding it already done).
type SubmitResult struct {
	Signature string // empty when the chain already had the effect and nothing was sent
	Proposal  ChainProposal
}

// ExecuteResult is the execute transaction's signature.
type ExecuteResult struct {
	Signature string
	Extended  bool // ProgramData had to be extended first
}

// CancelInput asks the guardian to cancel a proposal on chain.
type CancelInput struct {
	ProposalRef
	Reason     string
	Actor      string
	WorkflowID string
	Stage      string
}

// CancelResult reports what the emergency stop did.
type CancelResult struct {
	Signature       string
	AlreadyFinished string // executed or cancelled before the request arrived
	// Refused says why the guardian did not cancel on chain although the proposal is open: it
	// replaces the guardian, which the program does not let the guardian cancel. The stop
	// still ends the worker's part; members cancel it by votes, or anyone executes it.
	Refused string
}

// MigrationPlan selects the accounts to migrate: every account of the target program whose
// layout version byte (at VersionOffset) differs from TargetVersion; DataSize narrows the scan.
type MigrationPlan struct {
	TargetVersion uint8
	VersionOffset uint32
	DataSize      uint64
	FromVersion   uint8 // the version byte of accounts still to migrate
}

// PlanOf is the migration plan a proposal signed on chain (nil when it declares none).
func PlanOf(p *governor.MigrationPlan) *MigrationPlan {
	if p == nil {
		return nil
	}
	return &MigrationPlan{TargetVersion: p.TargetVersion, VersionOffset: p.VersionOffset, DataSize: p.DataSize, FromVersion: p.FromVersion}
}

// ListAccountsInput lists a job's affected accounts and records them as pending.
type ListAccountsInput struct {
	JobID         string
	Proposal      string
	TargetProgram string
	Plan          MigrationPlan
}

// ChunkBoundsInput asks for up to Chunks ranges of Size pending accounts after After.
type ChunkBoundsInput struct {
	JobID  string
	After  string
	Chunks int
	Size   int
}

// MigrateChunkInput migrates the pending accounts of a job in (After, UpTo].
type MigrateChunkInput struct {
	ProposalRef
	JobID         string
	TargetProgram string
	After         string
	UpTo          string
	// AccountsPerTx is how many accounts one migrate_account instruction carries.
	AccountsPerTx int
	// InFlight bounds the transactions this chunk has unconfirmed at once.
	InFlight int
}

// ChunkResult counts the accounts of the chunk's range that are migrated or failed when it ends,
// including work of an earlier attempt, so the workflow's totals stay exact across retries.
type ChunkResult struct {
	Migrated     int
	Failed       int
	Transactions int
	// ComputeUnits consumed by the chunk's transactions (when the node reports them).
	ComputeUnits uint64
}

// FinishJobInput closes a migration job.
type FinishJobInput struct {
	JobID     string
	Status    string // completed, failed, cancelled
	StoppedAt string
	Error     string
	Proposal  string
	Workflow  string
}
