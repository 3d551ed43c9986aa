package loader

import (
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// ExtendProgram grows a program's ProgramData by AdditionalBytes, paid by Payer. Needed
// before execute_upgrade when the new ELF is larger than the ProgramData's room (the governor
// refuses with ProgramDataTooSmall). It needs no authority signature, so it works for a
// program whose authority is the governor's PDA. The loader refuses a second extension of one
// program in the same slot, and with SIMD-0431 active an extension below
// MinimumExtendProgramBytes; see ExtendBytesFor.
type ExtendProgram struct {
	ProgramData     solana.PublicKey // writable
	Program         solana.PublicKey // writable
	Payer           solana.PublicKey // writable, signer
	AdditionalBytes uint32
}

// NewExtendProgramInstruction builds ExtendProgram for program.
func NewExtendProgramInstruction(program, payer solana.PublicKey, additionalBytes uint32) *ExtendProgram {
	return &ExtendProgram{
		ProgramData:     FindProgramDataAddress(program),
		Program:         program,
		Payer:           payer,
		AdditionalBytes: additionalBytes,
	}
}

// ExtendBytesFor returns how many bytes to extend a ProgramData whose ELF area is capacity
// bytes so that it holds an ELF of elfLen bytes: 0 if it already fits, else at least
// MinimumExtendProgramBytes (so the extension is valid whether or not SIMD-0431 is active),
// capped at the account size limit. programDataLen is the account's full data length.
func ExtendBytesFor(programDataLen, elfLen int) uint32 {
	capacity := programDataLen - ProgramDataMetadataLen
	if elfLen <= capacity {
		return 0
	}
	need := max(elfLen-capacity, MinimumExtendProgramBytes)
	return uint32(min(need, MaxPermittedDataLength-programDataLen))
}

func (ix *ExtendProgram) accounts() []account {
	return []account{
		{name: "program_data", key: ix.ProgramData, writable: true},
		{name: "program", key: ix.Program, writable: true},
		{name: "system_program", key: solana.SystemProgramID, fixed: true},
		{name: "payer", key: ix.Payer, writable: true, signer: true},
	}
}

func (ix *ExtendProgram) ProgramID() solana.PublicKey     { return ID }
func (ix *ExtendProgram) Accounts() []*solana.AccountMeta { return metas(ix.accounts()) }

// Data is variant 6 and additional_bytes as u32.
func (ix *ExtendProgram) Data() ([]byte, error) {
	return binary.LittleEndian.AppendUint32(variant(variantExtendProgram), ix.AdditionalBytes), nil
}

func (ix *ExtendProgram) Validate() error {
	if err := validate("ExtendProgram", ix.accounts()); err != nil {
		return err
	}
	if ix.AdditionalBytes == 0 {
		return fmt.Errorf("loader ExtendProgram: additional_bytes is zero")
	}
	return nil
}
