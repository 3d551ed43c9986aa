package governor

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// Event is one of the program's events (events.rs), emitted with emit_cpi!: each arrives as
// an inner instruction of the transaction that invokes the program itself.
type Event interface {
	// EventName is the Rust struct name, as in the IDL.
	EventName() string
}

// MultisigInitialized is emitted by initialize_multisig.
type MultisigInitialized struct {
	Multisig                solana.PublicKey
	Authority               solana.PublicKey
	Members                 []solana.PublicKey
	Threshold               uint8
	TimelockSeconds         int64
	ProposalLifetimeSeconds int64
	Guardian                solana.PublicKey
}

// UpgradeProposed is emitted by propose_upgrade.
type UpgradeProposed struct {
	Multisig               solana.PublicKey
	Proposal               solana.PublicKey
	Index                  uint64
	Proposer               solana.PublicKey
	TargetProgram          solana.PublicKey
	Buffer                 solana.PublicKey
	BufferHash             [32]byte
	TargetLastDeploySlot   uint64
	TargetProgramHash      [32]byte
	ExpiresAt              int64
	MigrationTargetVersion *uint8
}

// UpgradeApproved is emitted by approve_upgrade.
type UpgradeApproved struct {
	Multisig  solana.PublicKey
	Proposal  solana.PublicKey
	Member    solana.PublicKey
	Approvals uint8
	Threshold uint8
	// Eta is set when this approval reached the threshold and started the timelock.
	Eta *int64
}

// UpgradeExecuted is emitted by execute_upgrade.
type UpgradeExecuted struct {
	Multisig      solana.PublicKey
	Proposal      solana.PublicKey
	Executor      solana.PublicKey
	TargetProgram solana.PublicKey
	BufferHash    [32]byte
	ExecutedAt    int64
}

// UpgradeCancelled is emitted by cancel_upgrade.
type UpgradeCancelled struct {
	Multisig    solana.PublicKey
	Proposal    solana.PublicKey
	CancelledBy solana.PublicKey
	ByGuardian  bool
	CancelledAt int64
}

// AccountsMigrated is emitted by migrate_account.
type AccountsMigrated struct {
	Multisig      solana.PublicKey
	Proposal      solana.PublicKey
	TargetProgram solana.PublicKey
	Accounts      []solana.PublicKey
}

// SystemPaused is emitted by pause_system when a pause starts.
type SystemPaused struct {
	Multisig solana.PublicKey
	PausedBy solana.PublicKey
	At       int64
	// ExpiresAt is when the pause lapses (math.MaxInt64 when threshold members hold it).
	ExpiresAt int64
}

// UpgradeCancelVoted is emitted by a member's cancel_upgrade: a vote; threshold votes cancel.
type UpgradeCancelVoted struct {
	Multisig  solana.PublicKey
	Proposal  solana.PublicKey
	Member    solana.PublicKey
	Votes     uint8
	Threshold uint8
}

// PauseExtendVoted is emitted by a member's pause_system while paused: threshold votes hold
// the pause until resumed (ExpiresAt becomes math.MaxInt64).
type PauseExtendVoted struct {
	Multisig  solana.PublicKey
	Member    solana.PublicKey
	Votes     uint8
	Threshold uint8
	ExpiresAt int64
}

// ResumeVoted is emitted by resume_system: one member's vote; threshold votes resume.
type ResumeVoted struct {
	Multisig  solana.PublicKey
	Member    solana.PublicKey
	Votes     uint8
	Threshold uint8
}

// SystemResumed is emitted by resume_system.
type SystemResumed struct {
	Multisig solana.PublicKey
	Signers  []solana.PublicKey
	At       int64
}

// ConfigProposed is emitted by propose_config.
type ConfigProposed struct {
	Multisig  solana.PublicKey
	Proposal  solana.PublicKey
	Index     uint64
	Proposer  solana.PublicKey
	Actions   []ConfigAction
	ExpiresAt int64
}

// ConfigActionExecuted is emitted by execute_config once per action, in order.
type ConfigActionExecuted struct {
	Multisig solana.PublicKey
	Proposal solana.PublicKey
	Action   ConfigAction
}

// ConfigExecuted is emitted by execute_config after its actions: the multisig's configuration
// from now on.
type ConfigExecuted struct {
	Multisig                solana.PublicKey
	Proposal                solana.PublicKey
	Executor                solana.PublicKey
	Members                 []solana.PublicKey
	Threshold               uint8
	TimelockSeconds         int64
	ProposalLifetimeSeconds int64
	GraceSeconds            int64
	Guardian                solana.PublicKey
	StaleProposalIndex      uint64
	ExecutedAt              int64
}

func (*MultisigInitialized) EventName() string { return "MultisigInitialized" }
func (*UpgradeProposed) EventName() string     { return "UpgradeProposed" }
func (*UpgradeApproved) EventName() string     { return "UpgradeApproved" }
func (*UpgradeExecuted) EventName() string     { return "UpgradeExecuted" }
func (*UpgradeCancelled) EventName() string    { return "UpgradeCancelled" }
func (*AccountsMigrated) EventName() string    { return "AccountsMigrated" }
func (*SystemPaused) EventName() string        { return "SystemPaused" }
func (*SystemResumed) EventName() string       { return "SystemResumed" }
func (*UpgradeCancelVoted) EventName() string  { return "UpgradeCancelVoted" }
func (*PauseExtendVoted) EventName() string    { return "PauseExtendVoted" }
func (*ResumeVoted) EventName() string         { return "ResumeVoted" }
func (*ConfigProposed) EventName() string      { return "ConfigProposed" }
func (*ConfigActionExecuted) EventName() string {
	return "ConfigActionExecuted"
}
func (*ConfigExecuted) EventName() string { return "ConfigExecuted" }

// eventTypes lists every event once; DecodeEvent finds them by discriminator.
var eventTypes = []func() Event{
	func() Event { return new(MultisigInitialized) },
	func() Event { return new(UpgradeProposed) },
	func() Event { return new(UpgradeApproved) },
	func() Event { return new(UpgradeExecuted) },
	func() Event { return new(UpgradeCancelled) },
	func() Event { return new(AccountsMigrated) },
	func() Event { return new(SystemPaused) },
	func() Event { return new(SystemResumed) },
	func() Event { return new(UpgradeCancelVoted) },
	func() Event { return new(PauseExtendVoted) },
	func() Event { return new(ResumeVoted) },
	func() Event { return new(ConfigProposed) },
	func() Event { return new(ConfigActionExecuted) },
	func() Event { return new(ConfigExecuted) },
}

// AllEvents returns a zero value of every event type, so a consumer can check it handles each.
func AllEvents() []Event {
	out := make([]Event, 0, len(eventTypes))
	for _, newEv := range eventTypes {
		out = append(out, newEv())
	}
	return out
}

var eventsByDiscriminator = func() map[Discriminator]func() Event {
	m := make(map[Discriminator]func() Event, len(eventTypes))
	for _, newEv := range eventTypes {
		m[EventDiscriminator(newEv().EventName())] = newEv
	}
	return m
}()

// Errors DecodeEvent wraps.
var (
	ErrNotAnEvent   = errors.New("not an event instruction")
	ErrUnknownEvent = errors.New("unknown governor event")
)

// IsEventInstruction reports whether inner-instruction data carries an emit_cpi! event
// (starts with EventIxTag).
func IsEventInstruction(data []byte) bool {
	return len(data) >= 8 && bytes.Equal(data[:8], EventIxTag[:])
}

// DecodeEvent decodes the data of an emit_cpi! inner instruction of the governor:
// EventIxTag, the event discriminator, then the Borsh event.
func DecodeEvent(data []byte) (Event, error) {
	if !IsEventInstruction(data) {
		return nil, ErrNotAnEvent
	}
	if len(data) < 16 {
		return nil, fmt.Errorf("%w: event data has %d bytes, no discriminator", ErrMalformed, len(data))
	}
	newEv, ok := eventsByDiscriminator[Discriminator(data[8:16])]
	if !ok {
		return nil, fmt.Errorf("%w: discriminator %x", ErrUnknownEvent, data[8:16])
	}
	ev := newEv()
	n, err := borshUnmarshal(data[16:], ev)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, ev.EventName(), err)
	}
	if n != len(data)-16 {
		return nil, fmt.Errorf("%w: %s: %d trailing bytes", ErrMalformed, ev.EventName(), len(data)-16-n)
	}
	return ev, nil
}

// EncodeEvent is the inverse of DecodeEvent: the data an emit_cpi! inner instruction carries.
func EncodeEvent(ev Event) ([]byte, error) {
	d := EventDiscriminator(ev.EventName())
	data := append(append([]byte{}, EventIxTag[:]...), d[:]...)
	data, err := borshMarshal(data, ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.EventName(), err)
	}
	return data, nil
}
