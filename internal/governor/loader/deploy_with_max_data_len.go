package loader

import (
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// DeployWithMaxDataLen deploys the ELF in Buffer as the program at Program, creating its
// ProgramData with room for MaxDataLen ELF bytes. It must share a transaction with the system
// CreateAccount of Program (see NewDeployInstructions).
type DeployWithMaxDataLen struct {
	Payer       solana.PublicKey // writable, signer: funds ProgramData
	ProgramData solana.PublicKey // writable: FindProgramDataAddress(Program)
	Program     solana.PublicKey // writable
	Buffer      solana.PublicKey // writable: emptied into ProgramData
	Authority   solana.PublicKey // signer: the buffer's authority, becomes the upgrade authority
	MaxDataLen  uint64
}

// NewDeployWithMaxDataLenInstruction builds DeployWithMaxDataLen.
func NewDeployWithMaxDataLenInstruction(payer, program, buffer, authority solana.PublicKey, maxDataLen uint64) *DeployWithMaxDataLen {
	return &DeployWithMaxDataLen{
		Payer:       payer,
		ProgramData: FindProgramDataAddress(program),
		Program:     program,
		Buffer:      buffer,
		Authority:   authority,
		MaxDataLen:  maxDataLen,
	}
}

func (ix *DeployWithMaxDataLen) accounts() []account {
	return []account{
		{name: "payer", key: ix.Payer, writable: true, signer: true},
		{name: "program_data", key: ix.ProgramData, writable: true},
		{name: "program", key: ix.Program, writable: true},
		{name: "buffer", key: ix.Buffer, writable: true},
		{name: "rent", key: solana.SysVarRentPubkey, fixed: true},
		{name: "clock", key: solana.SysVarClockPubkey, fixed: true},
		{name: "system_program", key: solana.SystemProgramID, fixed: true},
		{name: "authority", key: ix.Authority, signer: true},
	}
}

func (ix *DeployWithMaxDataLen) ProgramID() solana.PublicKey     { return ID }
func (ix *DeployWithMaxDataLen) Accounts() []*solana.AccountMeta { return metas(ix.accounts()) }

// Data is variant 2 and max_data_len as u64. (Newer loaders read an optional trailing
// close_buffer flag that defaults to true; leaving it out works with every version.)
func (ix *DeployWithMaxDataLen) Data() ([]byte, error) {
	return binary.LittleEndian.AppendUint64(variant(variantDeployWithMaxDataLen), ix.MaxDataLen), nil
}

func (ix *DeployWithMaxDataLen) Validate() error {
	if err := validate("DeployWithMaxDataLen", ix.accounts()); err != nil {
		return err
	}
	if ix.MaxDataLen == 0 {
		return fmt.Errorf("loader DeployWithMaxDataLen: max_data_len is zero")
	}
	return nil
}
