package governor

import "github.com/gagliardetto/solana-go"

// ResumeSystem is one member's vote to lift the pause; threshold votes, each in a transaction
// of its own, resume the multisig.
type ResumeSystem struct {
	Multisig solana.PublicKey // writable
	Member   solana.PublicKey // a current member; signs
}

// NewResumeSystemInstruction builds resume_system for one member's vote.
func NewResumeSystemInstruction(multisig, member solana.PublicKey) *ResumeSystem {
	return &ResumeSystem{Multisig: multisig, Member: member}
}

func (ix *ResumeSystem) Name() string { return "resume_system" }

func (ix *ResumeSystem) layout() layout {
	return layout{accounts: append([]accountSlot{
		{name: "multisig", key: &ix.Multisig, writable: true},
		{name: "member", key: &ix.Member, signer: true},
	}, eventCPISlots()...)}
}

func (ix *ResumeSystem) ProgramID() solana.PublicKey     { return ProgramID }
func (ix *ResumeSystem) Accounts() []*solana.AccountMeta { return accountMetas(ix.layout()) }
func (ix *ResumeSystem) Data() ([]byte, error)           { return instructionData(ix.Name(), ix.layout()) }
func (ix *ResumeSystem) Validate() error                 { return validateLayout(ix.Name(), ix.layout()) }
