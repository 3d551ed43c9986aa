package loader

import (
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// Loader instructions are bincode: a u32 little-endian variant index, then the fields
// (u32/u64 little-endian, Vec<u8> with a u64 length).
const (
	variantInitializeBuffer     uint32 = 0
	variantWrite                uint32 = 1
	variantDeployWithMaxDataLen uint32 = 2
	variantUpgrade              uint32 = 3
	variantSetAuthority         uint32 = 4
	variantExtendProgram        uint32 = 6
)

// Instruction is a loader instruction built here.
type Instruction interface {
	solana.Instruction
	Validate() error
}

func variant(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// account is one account of an instruction, named as the loader's documentation names it.
type account struct {
	name     string
	key      solana.PublicKey
	writable bool
	signer   bool
	// fixed accounts (sysvars, the system program) are not checked by validate: the system
	// program's address is all zeros.
	fixed bool
}

func metas(accounts []account) []*solana.AccountMeta {
	out := make([]*solana.AccountMeta, len(accounts))
	for i, a := range accounts {
		out[i] = solana.NewAccountMeta(a.key, a.writable, a.signer)
	}
	return out
}

func validate(instruction string, accounts []account) error {
	for _, a := range accounts {
		if !a.fixed && a.key.IsZero() {
			return fmt.Errorf("loader %s: account %s is not set", instruction, a.name)
		}
	}
	return nil
}
