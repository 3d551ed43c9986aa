package governor

import "github.com/gagliardetto/solana-go"

// ApproveUpgrade: a member approves; reaching the threshold starts the timelock.
type ApproveUpgrade struct {
	Multisig solana.PublicKey
	Proposal solana.PublicKey
	Member   solana.PublicKey // signs
}

// NewApproveUpgradeInstruction builds approve_upgrade.
func NewApproveUpgradeInstruction(multisig, proposal, member solana.PublicKey) *ApproveUpgrade {
	return &ApproveUpgrade{Multisig: multisig, Proposal: proposal, Member: member}
}

func (ix *ApproveUpgrade) Name() string { return "approve_upgrade" }

func (ix *ApproveUpgrade) layout() layout {
	return layout{accounts: append([]accountSlot{
		{name: "multisig", key: &ix.Multisig},
		{name: "proposal", key: &ix.Proposal, writable: true},
		{name: "member", key: &ix.Member, signer: true},
	}, eventCPISlots()...)}
}

func (ix *ApproveUpgrade) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *ApproveUpgrade) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *ApproveUpgrade) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *ApproveUpgrade) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
