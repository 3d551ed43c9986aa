package loader

import (
	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
)

// NewCreateBufferInstructions creates and initializes a Buffer for an ELF of elfLen bytes:
// the system CreateAccount (payer and buffer sign) and InitializeBuffer, which must share one
// transaction. lamports must make the account rent-exempt (BufferMetadataLen+elfLen bytes).
func NewCreateBufferInstructions(payer, buffer, authority solana.PublicKey, elfLen int, lamports uint64) []solana.Instruction {
	return []solana.Instruction{
		system.NewCreateAccountInstruction(lamports, uint64(BufferMetadataLen+elfLen), ID, payer, buffer).Build(),
		NewInitializeBufferInstruction(buffer, authority),
	}
}

// NewDeployInstructions creates the Program account (payer and program sign; lamports make
// ProgramAccountLen bytes rent-exempt) and deploys the buffer into it with room for
// maxDataLen ELF bytes; authority (the buffer's authority, a signer) becomes the upgrade
// authority. Both instructions must share one transaction.
func NewDeployInstructions(payer, program, buffer, authority solana.PublicKey, maxDataLen, lamports uint64) []solana.Instruction {
	return []solana.Instruction{
		system.NewCreateAccountInstruction(lamports, ProgramAccountLen, ID, payer, program).Build(),
		NewDeployWithMaxDataLenInstruction(payer, program, buffer, authority, maxDataLen),
	}
}
