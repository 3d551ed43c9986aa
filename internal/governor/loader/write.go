package loader

import (
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// WriteChunkSize is the number of ELF bytes one Write carries so that its transaction fits
// the 1232-byte packet even with two signers (fee payer and buffer authority): signatures
// 1+2*64, header 3, keys 1+4*32, blockhash 32, instruction framing 1+1+1+2+2, Write header
// 16 make 316 bytes, leaving 916; 900 keeps a margin.
const WriteChunkSize = 900

// Write copies bytes into a Buffer at offset.
type Write struct {
	Buffer    solana.PublicKey // writable
	Authority solana.PublicKey // signer
	Offset    uint32
	Bytes     []byte
}

// NewWriteInstruction builds one Write.
func NewWriteInstruction(buffer, authority solana.PublicKey, offset uint32, bytes []byte) *Write {
	return &Write{Buffer: buffer, Authority: authority, Offset: offset, Bytes: bytes}
}

// NewWriteInstructions splits elf into Writes of at most chunkSize bytes (WriteChunkSize when
// chunkSize <= 0), one per transaction.
func NewWriteInstructions(buffer, authority solana.PublicKey, elf []byte, chunkSize int) []*Write {
	if chunkSize <= 0 {
		chunkSize = WriteChunkSize
	}
	var out []*Write
	for off := 0; off < len(elf); off += chunkSize {
		end := min(off+chunkSize, len(elf))
		out = append(out, NewWriteInstruction(buffer, authority, uint32(off), elf[off:end]))
	}
	return out
}

func (ix *Write) accounts() []account {
	return []account{
		{name: "buffer", key: ix.Buffer, writable: true},
		{name: "authority", key: ix.Authority, signer: true},
	}
}

func (ix *Write) ProgramID() solana.PublicKey     { return ID }
func (ix *Write) Accounts() []*solana.AccountMeta { return metas(ix.accounts()) }

// Data is variant 1, offset u32, then bytes as a bincode Vec<u8> (u64 length).
func (ix *Write) Data() ([]byte, error) {
	data := variant(variantWrite)
	data = binary.LittleEndian.AppendUint32(data, ix.Offset)
	data = binary.LittleEndian.AppendUint64(data, uint64(len(ix.Bytes)))
	return append(data, ix.Bytes...), nil
}

func (ix *Write) Validate() error {
	if err := validate("Write", ix.accounts()); err != nil {
		return err
	}
	if len(ix.Bytes) == 0 {
		return fmt.Errorf("loader Write: no bytes to write")
	}
	return nil
}
