package loader

import "github.com/gagliardetto/solana-go"

// InitializeBuffer makes a loader-owned account a Buffer with the given authority. It must be
// in the transaction that creates the account, or someone else may initialize it first.
type InitializeBuffer struct {
	Buffer    solana.PublicKey // writable
	Authority solana.PublicKey // may write the buffer and hand it over
}

// NewInitializeBufferInstruction builds InitializeBuffer.
func NewInitializeBufferInstruction(buffer, authority solana.PublicKey) *InitializeBuffer {
	return &InitializeBuffer{Buffer: buffer, Authority: authority}
}

func (ix *InitializeBuffer) accounts() []account {
	return []account{
		{name: "buffer", key: ix.Buffer, writable: true},
		{name: "authority", key: ix.Authority},
	}
}

func (ix *InitializeBuffer) ProgramID() solana.PublicKey     { return ID }
func (ix *InitializeBuffer) Accounts() []*solana.AccountMeta { return metas(ix.accounts()) }
func (ix *InitializeBuffer) Data() ([]byte, error)           { return variant(variantInitializeBuffer), nil }
func (ix *InitializeBuffer) Validate() error                 { return validate("InitializeBuffer", ix.accounts()) }
