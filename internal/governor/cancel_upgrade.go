package governor

import "github.com/gagliardetto/solana-go"

// CancelUpgrade: a member or the guardian cancels a proposal before it executes.
type CancelUpgrade struct {
	Multisig  solana.PublicKey
	Proposal  solana.PublicKey
	Canceller solana.PublicKey // a member or the guardian; signs
}

// NewCancelUpgradeInstruction builds cancel_upgrade.
func NewCancelUpgradeInstruction(multisig, proposal, canceller solana.PublicKey) *CancelUpgrade {
	return &CancelUpgrade{Multisig: multisig, Proposal: proposal, Canceller: canceller}
}

func (ix *CancelUpgrade) Name() string { return "cancel_upgrade" }

func (ix *CancelUpgrade) layout() layout {
	return layout{accounts: append([]accountSlot{
		{name: "multisig", key: &ix.Multisig},
		{name: "proposal", key: &ix.Proposal, writable: true},
		{name: "canceller", key: &ix.Canceller, signer: true},
	}, eventCPISlots()...)}
}

func (ix *CancelUpgrade) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *CancelUpgrade) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *CancelUpgrade) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *CancelUpgrade) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
