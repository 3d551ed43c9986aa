package governor

import (
	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// ExecuteUpgrade: anyone executes an approved proposal once its timelock has passed; the
// program CPIs the loader's Upgrade signed by the authority PDA.
type ExecuteUpgrade struct {
	Multisig solana.PublicKey
	Proposal solana.PublicKey
	// GovernedProgram records this proposal as the program's latest executed (writable).
	GovernedProgram solana.PublicKey
	Executor        solana.PublicKey // signs
	Authority       solana.PublicKey
	TargetProgram   solana.PublicKey // writable
	ProgramData     solana.PublicKey // writable
	Buffer          solana.PublicKey // writable
	// Spill receives the buffer's lamports; it must be the proposer.
	Spill solana.PublicKey // writable
}

// NewExecuteUpgradeInstruction builds execute_upgrade; authority and ProgramData are
// derived. targetProgram, buffer and spill (the proposer) come from the Proposal account.
func NewExecuteUpgradeInstruction(multisig, proposal, executor, targetProgram, buffer, spill solana.PublicKey) *ExecuteUpgrade {
	authority, _ := FindAuthorityAddress(multisig)
	governed, _ := FindGovernedProgramAddress(multisig, targetProgram)
	return &ExecuteUpgrade{
		Multisig:        multisig,
		Proposal:        proposal,
		GovernedProgram: governed,
		Executor:        executor,
		Authority:       authority,
		TargetProgram:   targetProgram,
		ProgramData:     loader.FindProgramDataAddress(targetProgram),
		Buffer:          buffer,
		Spill:           spill,
	}
}

// NewExecuteUpgradeInstructionFor builds execute_upgrade from the Proposal account's state.
func NewExecuteUpgradeInstructionFor(p *Proposal, executor solana.PublicKey) *ExecuteUpgrade {
	proposal, _ := FindProposalAddress(p.Multisig, p.Index)
	ix := NewExecuteUpgradeInstruction(p.Multisig, proposal, executor, p.TargetProgram, p.Buffer, p.Proposer)
	ix.ProgramData = p.ProgramData
	return ix
}

func (ix *ExecuteUpgrade) Name() string { return "execute_upgrade" }

func (ix *ExecuteUpgrade) layout() layout {
	return layout{accounts: append([]accountSlot{
		{name: "multisig", key: &ix.Multisig},
		{name: "proposal", key: &ix.Proposal, writable: true},
		{name: "governed_program", key: &ix.GovernedProgram, writable: true},
		{name: "executor", key: &ix.Executor, signer: true},
		{name: "authority", key: &ix.Authority},
		{name: "target_program", key: &ix.TargetProgram, writable: true},
		{name: "program_data", key: &ix.ProgramData, writable: true},
		{name: "buffer", key: &ix.Buffer, writable: true},
		{name: "spill", key: &ix.Spill, writable: true},
		fixedSlot("rent", solana.SysVarRentPubkey),
		fixedSlot("clock", solana.SysVarClockPubkey),
		fixedSlot("bpf_loader_upgradeable", loader.ID),
	}, eventCPISlots()...)}
}

func (ix *ExecuteUpgrade) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *ExecuteUpgrade) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *ExecuteUpgrade) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *ExecuteUpgrade) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
