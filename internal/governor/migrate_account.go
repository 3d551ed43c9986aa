package governor

import (
	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// MigrateAccount migrates AccountsToMigrate (owned by the target program) through the governed
// program's migrate instruction, which receives [state, MigrationSigner (signer), ProgramData];
// only after the proposal that declared the migration executed, while the multisig still
// governs the program, and not while paused. The migration signer is the authority of nothing.
type MigrateAccount struct {
	Multisig solana.PublicKey
	Proposal solana.PublicKey
	// GovernedProgram must name Proposal as the program's latest executed proposal.
	GovernedProgram solana.PublicKey
	// MigrationSigner is FindMigrationSignerAddress(TargetProgram); the program signs as it.
	MigrationSigner solana.PublicKey
	TargetProgram   solana.PublicKey
	ProgramData     solana.PublicKey
	Cranker         solana.PublicKey // sends the batch, pays the fee; signs
	// AccountsToMigrate are the writable remaining accounts, 1 to MaxMigrateAccounts.
	AccountsToMigrate []solana.PublicKey
}

// NewMigrateAccountInstruction builds migrate_account for a batch of accounts; the migration
// signer and ProgramData are derived.
func NewMigrateAccountInstruction(multisig, proposal, targetProgram, cranker solana.PublicKey, accounts []solana.PublicKey) *MigrateAccount {
	signer, _ := FindMigrationSignerAddress(targetProgram)
	governed, _ := FindGovernedProgramAddress(multisig, targetProgram)
	return &MigrateAccount{
		Multisig:          multisig,
		Proposal:          proposal,
		GovernedProgram:   governed,
		MigrationSigner:   signer,
		TargetProgram:     targetProgram,
		ProgramData:       loader.FindProgramDataAddress(targetProgram),
		Cranker:           cranker,
		AccountsToMigrate: accounts,
	}
}

func (ix *MigrateAccount) Name() string { return "migrate_account" }

func (ix *MigrateAccount) layout() layout {
	return layout{
		accounts: append([]accountSlot{
			{name: "multisig", key: &ix.Multisig},
			{name: "proposal", key: &ix.Proposal},
			{name: "governed_program", key: &ix.GovernedProgram},
			{name: "migration_signer", key: &ix.MigrationSigner},
			{name: "target_program", key: &ix.TargetProgram},
			{name: "program_data", key: &ix.ProgramData},
			{name: "cranker", key: &ix.Cranker, signer: true},
		}, eventCPISlots()...),
		remaining: &remainingAccounts{name: "accounts", keys: &ix.AccountsToMigrate, writable: true, min: 1, max: MaxMigrateAccounts},
	}
}

func (ix *MigrateAccount) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *MigrateAccount) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *MigrateAccount) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *MigrateAccount) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
