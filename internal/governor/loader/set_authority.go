package loader

import "github.com/gagliardetto/solana-go"

// SetAuthority hands a Buffer or a program's ProgramData to a new authority. The new
// authority need not sign, which is how a buffer or program is handed to the governor's PDA.
type SetAuthority struct {
	// Account is the Buffer, or the ProgramData of a program (writable).
	Account          solana.PublicKey
	CurrentAuthority solana.PublicKey // signer
	// NewAuthority nil makes the buffer or program immutable.
	NewAuthority *solana.PublicKey
}

// NewSetBufferAuthorityInstruction hands a Buffer to newAuthority.
func NewSetBufferAuthorityInstruction(buffer, current, newAuthority solana.PublicKey) *SetAuthority {
	return &SetAuthority{Account: buffer, CurrentAuthority: current, NewAuthority: &newAuthority}
}

// NewSetProgramAuthorityInstruction hands program's upgrade authority to newAuthority; the
// instruction names the program's ProgramData account.
func NewSetProgramAuthorityInstruction(program, current, newAuthority solana.PublicKey) *SetAuthority {
	return &SetAuthority{Account: FindProgramDataAddress(program), CurrentAuthority: current, NewAuthority: &newAuthority}
}

func (ix *SetAuthority) accounts() []account {
	accs := []account{
		{name: "account", key: ix.Account, writable: true},
		{name: "current_authority", key: ix.CurrentAuthority, signer: true},
	}
	if ix.NewAuthority != nil {
		accs = append(accs, account{name: "new_authority", key: *ix.NewAuthority})
	}
	return accs
}

func (ix *SetAuthority) ProgramID() solana.PublicKey     { return ID }
func (ix *SetAuthority) Accounts() []*solana.AccountMeta { return metas(ix.accounts()) }
func (ix *SetAuthority) Data() ([]byte, error)           { return variant(variantSetAuthority), nil }
func (ix *SetAuthority) Validate() error                 { return validate("SetAuthority", ix.accounts()) }
