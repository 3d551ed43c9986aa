package governor

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gagliardetto/solana-go"
)

// Multisig is the program's Multisig account (PDA [multisig, create_key]).
type Multisig struct {
	CreateKey               solana.PublicKey
	Members                 []solana.PublicKey
	Threshold               uint8
	TimelockSeconds         int64
	ProposalLifetimeSeconds int64
	// Guardian may cancel and pause, not approve or resume.
	Guardian solana.PublicKey
	Paused   bool
	// ProposalIndex is the index of the last proposal; the next one is ProposalIndex+1.
	ProposalIndex uint64
	Bump          uint8
	AuthorityBump uint8
	// GraceSeconds is how long after its eta an approved proposal may still execute.
	GraceSeconds int64
	// MaxPauseSeconds: a pause held by fewer than threshold keys lapses after it.
	MaxPauseSeconds int64
	// PauseCooldownSeconds: a key whose pause lapsed or was overruled cannot pause again for it.
	PauseCooldownSeconds int64
	PausedAt             int64
	// PauseExpiresAt is 0 when not paused, math.MaxInt64 when threshold members hold the pause.
	PauseExpiresAt int64
	PausedBy       solana.PublicKey
	// PauseVotes are the members holding the current pause; ResumeVotes those voting to lift it.
	PauseVotes     []solana.PublicKey
	ResumeVotes    []solana.PublicKey
	PauseCooldowns []PauseCooldown
	// StaleProposalIndex: proposals with Index <= it were created before a config change of
	// the members or threshold; they can no longer be approved or executed.
	StaleProposalIndex uint64
}

// PauseCooldown is a key that may not pause again before Until.
type PauseCooldown struct {
	Key   solana.PublicKey
	Until int64
}

// IsPaused is the program's effective pause (Multisig::is_paused): the flag is set and the
// pause has not lapsed at chain time now.
func (m *Multisig) IsPaused(now int64) bool { return m.Paused && now < m.PauseExpiresAt }

// IsStale reports whether the proposal with this index was created before the last config
// change of the members or threshold (the program refuses its approval and execution).
func (m *Multisig) IsStale(index uint64) bool { return index <= m.StaleProposalIndex }

// IsMember reports whether key is a member.
func (m *Multisig) IsMember(key solana.PublicKey) bool { return slices.Contains(m.Members, key) }

// ProposalStatus is a proposal's lifecycle state; its values are the Rust enum's variant
// indexes.
type ProposalStatus uint8

const (
	ProposalActive ProposalStatus = iota
	ProposalApproved
	ProposalExecuted
	ProposalCancelled
)

var proposalStatusNames = [...]string{"Active", "Approved", "Executed", "Cancelled"}

func (s ProposalStatus) String() string {
	if s.Valid() {
		return proposalStatusNames[s]
	}
	return fmt.Sprintf("ProposalStatus(%d)", uint8(s))
}

// Valid reports whether s is one of the program's variants.
func (s ProposalStatus) Valid() bool { return int(s) < len(proposalStatusNames) }

// ParseProposalStatus is the inverse of String.
func ParseProposalStatus(name string) (ProposalStatus, error) {
	for i, n := range proposalStatusNames {
		if n == name {
			return ProposalStatus(i), nil
		}
	}
	return 0, fmt.Errorf("unknown proposal status %q", name)
}

// Proposal is the program's Proposal account (PDA [proposal, multisig, index]).
type Proposal struct {
	Multisig      solana.PublicKey
	Index         uint64
	Proposer      solana.PublicKey
	TargetProgram solana.PublicKey
	ProgramData   solana.PublicKey
	Buffer        solana.PublicKey
	// BufferHash is the solana-verify hash of the buffer's ELF.
	BufferHash [32]byte
	// TargetLastDeploySlot is ProgramData's slot when proposed; execution refuses if it moved.
	TargetLastDeploySlot uint64
	// TargetProgramHash is the deployed code's hash when proposed; execution refuses if it
	// changed.
	TargetProgramHash [32]byte
	Description       string
	Migration         *MigrationPlan
	Approvals         []solana.PublicKey
	Status            ProposalStatus
	CreatedAt         int64
	ExpiresAt         int64
	ApprovedAt        int64
	// Eta is when the timelock passes (unix seconds); set when the threshold is reached.
	Eta         int64
	ExecutedAt  int64
	CancelledAt int64
	CancelledBy solana.PublicKey
	Bump        uint8
	// ExecuteBy is the last moment (inclusive) an approved proposal may execute: eta + the
	// multisig's grace, set with the eta; 0 before approval.
	ExecuteBy int64
	// CancelVotes are the members who voted to cancel; threshold votes cancel.
	CancelVotes []solana.PublicKey
	// Kind says whether the proposal upgrades a program or changes the multisig (Actions).
	Kind ProposalKind
	// Actions are a config proposal's changes, applied together or not at all; empty for an
	// upgrade.
	Actions []ConfigAction
}

// IsConfig reports whether p changes the multisig rather than upgrading a program.
func (p *Proposal) IsConfig() bool { return p.Kind == ProposalConfig }

// GovernedProgram is the program's GovernedProgram account (PDA [program, multisig,
// program]): the proposal that last upgraded the program; only its migration plan applies.
type GovernedProgram struct {
	Multisig             solana.PublicKey
	Program              solana.PublicKey
	LastExecutedProposal solana.PublicKey
	Deployments          uint64
	Bump                 uint8
}

// Account discriminators and sizes (8 + INIT_SPACE: both are allocated at their maximum).
var (
	MultisigDiscriminator        = AccountDiscriminator("Multisig")
	ProposalDiscriminator        = AccountDiscriminator("Proposal")
	GovernedProgramDiscriminator = AccountDiscriminator("GovernedProgram")
)

const (
	MultisigAccountSize = 8 + 32 + (4 + MaxMembers*32) + 1 + 8 + 8 + 32 + 1 + 8 + 1 + 1 + 8 +
		8 + 8 + 8 + 8 + 32 + 2*(4+MaxMembers*32) + (4 + (MaxMembers+1)*40) + 8
	ProposalAccountSize = 8 + 32 + 8 + 32*4 + 32 + 8 + 32 + (4 + MaxDescriptionLen) +
		(1 + 1 + 4 + MaxMigrationDataLen + 1 + 4 + 8) + (4 + MaxMembers*32) + 1 + 8*6 + 32 + 1 + 8 + (4 + MaxMembers*32) +
		1 + (4 + MaxConfigActions*ConfigActionSize)
	// ProposalMultisigOffset is where Proposal.Multisig starts: a getProgramAccounts memcmp
	// on it lists one multisig's proposals.
	ProposalMultisigOffset = 8
)

// ErrWrongAccount means the data is not the account type asked for.
var ErrWrongAccount = errors.New("wrong account type")

func decodeAccount(data []byte, want Discriminator, name string, v any) error {
	if len(data) < 8 || Discriminator(data[:8]) != want {
		return fmt.Errorf("%w: not a %s account", ErrWrongAccount, name)
	}
	// Accounts are allocated at their maximum size, so bytes after the value are padding.
	if _, err := borshUnmarshal(data[8:], v); err != nil {
		return fmt.Errorf("decode %s account: %w", name, err)
	}
	return nil
}

// DecodeMultisig decodes a Multisig account's data.
func DecodeMultisig(data []byte) (*Multisig, error) {
	var m Multisig
	if err := decodeAccount(data, MultisigDiscriminator, "Multisig", &m); err != nil {
		return nil, err
	}
	return &m, nil
}

// DecodeGovernedProgram decodes a GovernedProgram account's data.
func DecodeGovernedProgram(data []byte) (*GovernedProgram, error) {
	var g GovernedProgram
	if err := decodeAccount(data, GovernedProgramDiscriminator, "GovernedProgram", &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// DecodeProposal decodes a Proposal account's data.
func DecodeProposal(data []byte) (*Proposal, error) {
	var p Proposal
	if err := decodeAccount(data, ProposalDiscriminator, "Proposal", &p); err != nil {
		return nil, err
	}
	return &p, nil
}
