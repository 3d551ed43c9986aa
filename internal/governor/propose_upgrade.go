package governor

import (
	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// MigrationPlan is what runs after an upgrade: the governed program's migrate instruction,
// called once per account with [state (writable), authority PDA (signer), ProgramData].
type MigrationPlan struct {
	// TargetVersion is the layout version accounts have after migration.
	TargetVersion uint8
	// InstructionData is sent to the governed program's migrate instruction.
	InstructionData []byte
	// FromVersion is the layout version byte of the accounts still to migrate, at
	// VersionOffset in their data; DataSize narrows them to accounts of that size (0: any).
	// Signed with the proposal, so the worker migrates exactly what the members approved.
	FromVersion   uint8
	VersionOffset uint32
	DataSize      uint64
}

// Consistent is the program's check on a plan (InvalidMigrationPlan otherwise): the version
// changes, and the version byte lies inside accounts of the declared size.
func (p *MigrationPlan) Consistent() bool {
	return p.FromVersion != p.TargetVersion && (p.DataSize == 0 || uint64(p.VersionOffset) < p.DataSize)
}

// ProposeUpgradeArgs are propose_upgrade's arguments.
type ProposeUpgradeArgs struct {
	// BufferHash is loader.ELFHash of the buffer's ELF; the program recomputes it.
	BufferHash  [32]byte
	Description string
	Migration   *MigrationPlan
}

// ProposeUpgrade: a member proposes to upgrade TargetProgram with the ELF in Buffer.
type ProposeUpgrade struct {
	Multisig      solana.PublicKey
	Proposal      solana.PublicKey
	Proposer      solana.PublicKey // a member; signs
	Payer         solana.PublicKey // funds the Proposal account; signs
	TargetProgram solana.PublicKey
	ProgramData   solana.PublicKey
	Buffer        solana.PublicKey
	Authority     solana.PublicKey
	// GovernedProgram is the PDA recording the program's latest executed proposal (created on
	// the first proposal, paid by Payer).
	GovernedProgram solana.PublicKey
	Args            ProposeUpgradeArgs
}

// NewProposeUpgradeInstruction builds propose_upgrade for the proposal with the given index,
// which must be the multisig's ProposalIndex+1; proposal, ProgramData and authority
// addresses are derived.
func NewProposeUpgradeInstruction(multisig solana.PublicKey, index uint64, proposer, payer, targetProgram, buffer solana.PublicKey, args ProposeUpgradeArgs) *ProposeUpgrade {
	proposal, _ := FindProposalAddress(multisig, index)
	authority, _ := FindAuthorityAddress(multisig)
	ix := &ProposeUpgrade{
		Multisig:      multisig,
		Proposal:      proposal,
		Proposer:      proposer,
		Payer:         payer,
		TargetProgram: targetProgram,
		ProgramData:   loader.FindProgramDataAddress(targetProgram),
		Buffer:        buffer,
		Authority:     authority,
		Args:          args,
	}
	ix.GovernedProgram, _ = FindGovernedProgramAddress(multisig, targetProgram)
	return ix
}

func (ix *ProposeUpgrade) Name() string { return "propose_upgrade" }

func (ix *ProposeUpgrade) layout() layout {
	return layout{
		accounts: append([]accountSlot{
			{name: "multisig", key: &ix.Multisig, writable: true},
			{name: "proposal", key: &ix.Proposal, writable: true},
			{name: "proposer", key: &ix.Proposer, signer: true},
			{name: "payer", key: &ix.Payer, writable: true, signer: true},
			{name: "target_program", key: &ix.TargetProgram},
			{name: "program_data", key: &ix.ProgramData},
			{name: "buffer", key: &ix.Buffer},
			{name: "authority", key: &ix.Authority},
			{name: "governed_program", key: &ix.GovernedProgram, writable: true},
			fixedSlot("system_program", solana.SystemProgramID),
		}, eventCPISlots()...),
		args: &ix.Args,
	}
}

func (ix *ProposeUpgrade) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *ProposeUpgrade) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *ProposeUpgrade) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *ProposeUpgrade) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
