package governor

import (
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// InitializeMultisigArgs are initialize_multisig's arguments.
type InitializeMultisigArgs struct {
	Members                 []solana.PublicKey
	Threshold               uint8
	TimelockSeconds         int64
	ProposalLifetimeSeconds int64
	Guardian                solana.PublicKey
	// GraceSeconds is how long after its eta an approved proposal may still execute
	// (MinGraceSeconds to MaxGraceSeconds; DefaultGraceSeconds is 14 days, as Compound's timelock).
	GraceSeconds int64
	// MaxPauseSeconds: a pause by fewer than threshold keys lapses after it
	// (MinMaxPauseSeconds..MaxMaxPauseSeconds; DefaultMaxPauseSeconds 72 h).
	MaxPauseSeconds int64
	// PauseCooldownSeconds: a key whose pause lapsed or was overruled cannot pause again for
	// it (0..MaxPauseCooldownSeconds; DefaultPauseCooldownSeconds 7 days).
	PauseCooldownSeconds int64
}

// InitializeMultisig creates a multisig: members, approval threshold, timelock, guardian.
type InitializeMultisig struct {
	// CreateKey signs once and seeds the multisig address.
	CreateKey solana.PublicKey
	Multisig  solana.PublicKey
	Authority solana.PublicKey
	// Payer funds the Multisig account (signer, writable).
	Payer solana.PublicKey
	Args  InitializeMultisigArgs
}

// NewInitializeMultisigInstruction builds initialize_multisig; the multisig and authority
// addresses are derived from createKey.
func NewInitializeMultisigInstruction(createKey, payer solana.PublicKey, args InitializeMultisigArgs) *InitializeMultisig {
	multisig, _ := FindMultisigAddress(createKey)
	authority, _ := FindAuthorityAddress(multisig)
	return &InitializeMultisig{CreateKey: createKey, Multisig: multisig, Authority: authority, Payer: payer, Args: args}
}

func (ix *InitializeMultisig) Name() string { return "initialize_multisig" }

func (ix *InitializeMultisig) layout() layout {
	return layout{
		accounts: append([]accountSlot{
			{name: "create_key", key: &ix.CreateKey, signer: true},
			{name: "multisig", key: &ix.Multisig, writable: true},
			{name: "authority", key: &ix.Authority},
			{name: "payer", key: &ix.Payer, writable: true, signer: true},
			fixedSlot("system_program", solana.SystemProgramID),
		}, eventCPISlots()...),
		args: &ix.Args,
	}
}

func (ix *InitializeMultisig) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *InitializeMultisig) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *InitializeMultisig) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }

func (ix *InitializeMultisig) Validate() error {
	if err := validateLayout(ix.Name(), ix.layout()); err != nil {
		return err
	}
	if len(ix.Args.Members) == 0 {
		return fmt.Errorf("%s: no members", ix.Name())
	}
	return nil
}
