package governor

import "github.com/gagliardetto/solana-go"

// ResumeSystem: threshold members, signing the same transaction, lift the pause.
type ResumeSystem struct {
	Multisig solana.PublicKey // writable
	// Signers are the members signing the resume (readonly signer remaining accounts).
	Signers []solana.PublicKey
}

// NewResumeSystemInstruction builds resume_system; every signer must sign the transaction.
func NewResumeSystemInstruction(multisig solana.PublicKey, signers []solana.PublicKey) *ResumeSystem {
	return &ResumeSystem{Multisig: multisig, Signers: signers}
}

func (ix *ResumeSystem) Name() string { return "resume_system" }

func (ix *ResumeSystem) layout() layout {
	return layout{
		accounts: append([]accountSlot{
			{name: "multisig", key: &ix.Multisig, writable: true},
		}, eventCPISlots()...),
		remaining: &remainingAccounts{name: "signers", keys: &ix.Signers, signer: true, min: 1, max: MaxMembers},
	}
}

func (ix *ResumeSystem) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *ResumeSystem) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *ResumeSystem) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *ResumeSystem) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
