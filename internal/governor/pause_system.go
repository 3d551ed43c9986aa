package governor

import "github.com/gagliardetto/solana-go"

// PauseSystem: the guardian or a member stops every execution and migration.
type PauseSystem struct {
	Multisig solana.PublicKey // writable
	Pauser   solana.PublicKey // a member or the guardian; signs
}

// NewPauseSystemInstruction builds pause_system.
func NewPauseSystemInstruction(multisig, pauser solana.PublicKey) *PauseSystem {
	return &PauseSystem{Multisig: multisig, Pauser: pauser}
}

func (ix *PauseSystem) Name() string { return "pause_system" }

func (ix *PauseSystem) layout() layout {
	return layout{accounts: append([]accountSlot{
		{name: "multisig", key: &ix.Multisig, writable: true},
		{name: "pauser", key: &ix.Pauser, signer: true},
	}, eventCPISlots()...)}
}

func (ix *PauseSystem) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *PauseSystem) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *PauseSystem) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *PauseSystem) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
