package governor

import (
	"fmt"
	"slices"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// ProposalKind is what a proposal does; its values are the Rust enum's variant indexes.
type ProposalKind uint8

const (
	// ProposalUpgrade upgrades a governed program with a buffer's ELF.
	ProposalUpgrade ProposalKind = iota
	// ProposalConfig changes the multisig itself (Proposal.Actions).
	ProposalConfig
)

var proposalKindNames = [...]string{"Upgrade", "Config"}

func (k ProposalKind) String() string {
	if k.Valid() {
		return proposalKindNames[k]
	}
	return fmt.Sprintf("ProposalKind(%d)", uint8(k))
}

// Valid reports whether k is one of the program's variants.
func (k ProposalKind) Valid() bool { return int(k) < len(proposalKindNames) }

// ConfigActionKind is one change a config proposal can make; its values are the Rust enum's
// variant indexes.
type ConfigActionKind uint8

const (
	ConfigAddMember ConfigActionKind = iota
	ConfigRemoveMember
	ConfigSetThreshold
	ConfigSetTimelock
	ConfigSetProposalLifetime
	ConfigSetGrace
	ConfigSetGuardian
	ConfigSetProgramAuthority
)

var configActionKindNames = [...]string{
	"AddMember", "RemoveMember", "SetThreshold", "SetTimelock", "SetProposalLifetime", "SetGrace",
	"SetGuardian", "SetProgramAuthority",
}

func (k ConfigActionKind) String() string {
	if k.Valid() {
		return configActionKindNames[k]
	}
	return fmt.Sprintf("ConfigActionKind(%d)", uint8(k))
}

// Valid reports whether k is one of the program's variants.
func (k ConfigActionKind) Valid() bool { return int(k) < len(configActionKindNames) }

// ConfigAction is one change of a config proposal (a flat struct on chain). Fields the kind
// does not use are zero; the program refuses an action that sets them.
type ConfigAction struct {
	Kind ConfigActionKind
	// Key is the member (AddMember, RemoveMember), the new guardian (SetGuardian) or the
	// governed program (SetProgramAuthority).
	Key solana.PublicKey
	// Value is the threshold (SetThreshold) or seconds (SetTimelock, SetProposalLifetime,
	// SetGrace).
	Value int64
	// NewAuthority is SetProgramAuthority's new upgrade authority; nil makes the program
	// immutable.
	NewAuthority *solana.PublicKey
}

// ConfigActionSize is a ConfigAction's Borsh size (kind, key, value, Option<Pubkey> at its
// largest).
const ConfigActionSize = 1 + 32 + 8 + 33

// AddMember, RemoveMember, ... build one ConfigAction each.
func AddMember(member solana.PublicKey) ConfigAction {
	return ConfigAction{Kind: ConfigAddMember, Key: member}
}

func RemoveMember(member solana.PublicKey) ConfigAction {
	return ConfigAction{Kind: ConfigRemoveMember, Key: member}
}

func SetThreshold(threshold uint8) ConfigAction {
	return ConfigAction{Kind: ConfigSetThreshold, Value: int64(threshold)}
}

func SetTimelock(seconds int64) ConfigAction {
	return ConfigAction{Kind: ConfigSetTimelock, Value: seconds}
}

func SetProposalLifetime(seconds int64) ConfigAction {
	return ConfigAction{Kind: ConfigSetProposalLifetime, Value: seconds}
}

func SetGrace(seconds int64) ConfigAction {
	return ConfigAction{Kind: ConfigSetGrace, Value: seconds}
}

func SetGuardian(guardian solana.PublicKey) ConfigAction {
	return ConfigAction{Kind: ConfigSetGuardian, Key: guardian}
}

// SetProgramAuthority hands program's upgrade authority to newAuthority; nil makes it
// immutable.
func SetProgramAuthority(program solana.PublicKey, newAuthority *solana.PublicKey) ConfigAction {
	return ConfigAction{Kind: ConfigSetProgramAuthority, Key: program, NewAuthority: newAuthority}
}

// String says what the action does, in words an operator reads.
func (a ConfigAction) String() string {
	switch a.Kind {
	case ConfigAddMember:
		return "add member " + a.Key.String()
	case ConfigRemoveMember:
		return "remove member " + a.Key.String()
	case ConfigSetThreshold:
		return fmt.Sprintf("set threshold to %d", a.Value)
	case ConfigSetTimelock:
		return fmt.Sprintf("set timelock to %ds", a.Value)
	case ConfigSetProposalLifetime:
		return fmt.Sprintf("set proposal lifetime to %ds", a.Value)
	case ConfigSetGrace:
		return fmt.Sprintf("set grace to %ds", a.Value)
	case ConfigSetGuardian:
		return "replace the guardian with " + a.Key.String()
	case ConfigSetProgramAuthority:
		if a.NewAuthority == nil {
			return "make program " + a.Key.String() + " immutable"
		}
		return "hand program " + a.Key.String() + "'s upgrade authority to " + a.NewAuthority.String()
	}
	return a.Kind.String()
}

// ChangesMembership reports whether applying actions makes every earlier proposal stale: they
// touch the members or the threshold (the program compares before and after; this is the
// conservative reading of the actions alone, for display before execution).
func ChangesMembership(actions []ConfigAction) bool {
	return slices.ContainsFunc(actions, func(a ConfigAction) bool {
		return a.Kind == ConfigAddMember || a.Kind == ConfigRemoveMember || a.Kind == ConfigSetThreshold
	})
}

// ReplacesGuardian reports whether actions replace the guardian (the guardian cannot cancel
// such a proposal).
func ReplacesGuardian(actions []ConfigAction) bool {
	return slices.ContainsFunc(actions, func(a ConfigAction) bool { return a.Kind == ConfigSetGuardian })
}

// ProposeConfigArgs are propose_config's arguments.
type ProposeConfigArgs struct {
	Actions     []ConfigAction
	Description string
}

// ProposeConfig: a member proposes changes to the multisig; the proposal shares the index
// space of upgrades and goes through the same approvals and timelock.
type ProposeConfig struct {
	Multisig  solana.PublicKey
	Proposal  solana.PublicKey
	Proposer  solana.PublicKey // a member; signs
	Payer     solana.PublicKey // funds the Proposal account; signs
	Authority solana.PublicKey
	Args      ProposeConfigArgs
}

// NewProposeConfigInstruction builds propose_config for the proposal with the given index,
// which must be the multisig's ProposalIndex+1.
func NewProposeConfigInstruction(multisig solana.PublicKey, index uint64, proposer, payer solana.PublicKey, args ProposeConfigArgs) *ProposeConfig {
	proposal, _ := FindProposalAddress(multisig, index)
	authority, _ := FindAuthorityAddress(multisig)
	return &ProposeConfig{Multisig: multisig, Proposal: proposal, Proposer: proposer, Payer: payer, Authority: authority, Args: args}
}

func (ix *ProposeConfig) Name() string { return "propose_config" }

func (ix *ProposeConfig) layout() layout {
	return layout{
		accounts: append([]accountSlot{
			{name: "multisig", key: &ix.Multisig, writable: true},
			{name: "proposal", key: &ix.Proposal, writable: true},
			{name: "proposer", key: &ix.Proposer, signer: true},
			{name: "payer", key: &ix.Payer, writable: true, signer: true},
			{name: "authority", key: &ix.Authority},
			fixedSlot("system_program", solana.SystemProgramID),
		}, eventCPISlots()...),
		args: &ix.Args,
	}
}

func (ix *ProposeConfig) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *ProposeConfig) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *ProposeConfig) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *ProposeConfig) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }

// ExecuteConfig: anyone executes an approved config proposal once its timelock has passed.
// HandOffAccounts are its remaining accounts: for each SetProgramAuthority action, in order,
// the program, its ProgramData (writable) and, when handing off to a key, that key.
type ExecuteConfig struct {
	Multisig        solana.PublicKey // writable
	Proposal        solana.PublicKey // writable
	Executor        solana.PublicKey // signs
	Authority       solana.PublicKey
	HandOffAccounts []solana.PublicKey
}

// NewExecuteConfigInstructionFor builds execute_config from the Proposal account's actions.
func NewExecuteConfigInstructionFor(p *Proposal, executor solana.PublicKey) *ExecuteConfig {
	proposal, _ := FindProposalAddress(p.Multisig, p.Index)
	authority, _ := FindAuthorityAddress(p.Multisig)
	ix := &ExecuteConfig{Multisig: p.Multisig, Proposal: proposal, Executor: executor, Authority: authority}
	for _, a := range p.Actions {
		if a.Kind != ConfigSetProgramAuthority {
			continue
		}
		ix.HandOffAccounts = append(ix.HandOffAccounts, a.Key, loader.FindProgramDataAddress(a.Key))
		if a.NewAuthority != nil {
			ix.HandOffAccounts = append(ix.HandOffAccounts, *a.NewAuthority)
		}
	}
	return ix
}

func (ix *ExecuteConfig) Name() string { return "execute_config" }

func (ix *ExecuteConfig) layout() layout {
	return layout{
		accounts: append([]accountSlot{
			{name: "multisig", key: &ix.Multisig, writable: true},
			{name: "proposal", key: &ix.Proposal, writable: true},
			{name: "executor", key: &ix.Executor, signer: true},
			{name: "authority", key: &ix.Authority},
			fixedSlot("bpf_loader_upgradeable", loader.ID),
		}, eventCPISlots()...),
		remaining: &remainingAccounts{
			name: "hand_off_accounts", keys: &ix.HandOffAccounts, min: 0, max: 3 * MaxConfigActions,
			writableAt: func(keys []solana.PublicKey, i int) bool {
				return i > 0 && keys[i].Equals(loader.FindProgramDataAddress(keys[i-1]))
			},
		},
	}
}

func (ix *ExecuteConfig) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *ExecuteConfig) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *ExecuteConfig) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *ExecuteConfig) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
