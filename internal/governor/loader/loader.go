// Package loader is the BPF Upgradeable Loader as the governor's Go side needs it: parsers for
// its Program, ProgramData and Buffer accounts, the solana-verify ELF hash, and builders for
// the instructions Go sends itself (buffers, deploys, authority hand-over, ExtendProgram).
package loader

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// ID is the BPF Upgradeable Loader.
var ID = solana.BPFLoaderUpgradeableProgramID

// Account layouts (bincode of UpgradeableLoaderState): u32 tag, then the variant.
const (
	// BufferMetadataLen is u32 tag + Option<Pubkey> authority; the ELF follows.
	BufferMetadataLen = 4 + 1 + 32
	// ProgramDataMetadataLen is u32 tag + u64 slot + Option<Pubkey> authority; the ELF follows.
	ProgramDataMetadataLen = 4 + 8 + 1 + 32
	// ProgramAccountLen is u32 tag + Pubkey of the ProgramData account.
	ProgramAccountLen = 4 + 32
	// MinimumExtendProgramBytes is the smallest ExtendProgram the loader accepts once SIMD-0431
	// is active (unless it extends to the 10 MiB maximum); extending by at least this much
	// works whether or not the feature is active.
	MinimumExtendProgramBytes = 10 * 1024
	// MaxPermittedDataLength is the largest account the runtime allows (10 MiB).
	MaxPermittedDataLength = 10 * 1024 * 1024
)

// State tags of UpgradeableLoaderState.
const (
	tagUninitialized uint32 = 0
	tagBuffer        uint32 = 1
	tagProgram       uint32 = 2
	tagProgramData   uint32 = 3
)

// ErrWrongAccountKind means the data is not the loader account kind the parser expects.
var ErrWrongAccountKind = errors.New("loader: wrong account kind")

// FindProgramDataAddress is the ProgramData account of program: the PDA [program] under the
// loader. It panics only if no bump exists, which has probability 2^-256.
func FindProgramDataAddress(program solana.PublicKey) solana.PublicKey {
	addr, _, err := solana.FindProgramAddress([][]byte{program[:]}, ID)
	if err != nil {
		panic(fmt.Sprintf("loader: no ProgramData address for %s: %v", program, err))
	}
	return addr
}

func tag(data []byte) (uint32, bool) {
	if len(data) < 4 {
		return 0, false
	}
	return binary.LittleEndian.Uint32(data), true
}

// optionPubkey reads a bincode Option<Pubkey>: 1 tag byte, then 32 bytes if Some. The loader
// always reserves the 32 bytes, so a None leaves the same layout.
func optionPubkey(data []byte) (*solana.PublicKey, error) {
	if len(data) < 33 {
		return nil, fmt.Errorf("loader: option<pubkey> needs 33 bytes, have %d", len(data))
	}
	switch data[0] {
	case 0:
		return nil, nil
	case 1:
		k := solana.PublicKeyFromBytes(data[1:33])
		return &k, nil
	default:
		return nil, fmt.Errorf("loader: invalid option tag %d", data[0])
	}
}

// ParseProgram reads a Program account and returns the address of its ProgramData.
func ParseProgram(data []byte) (solana.PublicKey, error) {
	t, ok := tag(data)
	if !ok || t != tagProgram || len(data) < ProgramAccountLen {
		return solana.PublicKey{}, fmt.Errorf("%w: want Program (tag %d, %d bytes), got %d bytes", ErrWrongAccountKind, tagProgram, ProgramAccountLen, len(data))
	}
	return solana.PublicKeyFromBytes(data[4:36]), nil
}

// ProgramData is a parsed ProgramData account.
type ProgramData struct {
	// Slot of the last deploy or upgrade.
	Slot uint64
	// UpgradeAuthority is nil for an immutable program.
	UpgradeAuthority *solana.PublicKey
	// ELF is the account's bytes after the header, zero padding included; its length is
	// the largest ELF the account can hold without ExtendProgram.
	ELF []byte
}

// Hash is the solana-verify hash of the deployed ELF.
func (p *ProgramData) Hash() [32]byte { return ELFHash(p.ELF) }

// ParseProgramData reads a ProgramData account.
func ParseProgramData(data []byte) (*ProgramData, error) {
	t, ok := tag(data)
	if !ok || t != tagProgramData || len(data) < ProgramDataMetadataLen {
		return nil, fmt.Errorf("%w: want ProgramData (tag %d, at least %d bytes), got %d bytes", ErrWrongAccountKind, tagProgramData, ProgramDataMetadataLen, len(data))
	}
	auth, err := optionPubkey(data[12:])
	if err != nil {
		return nil, fmt.Errorf("parse ProgramData authority: %w", err)
	}
	return &ProgramData{
		Slot:             binary.LittleEndian.Uint64(data[4:12]),
		UpgradeAuthority: auth,
		ELF:              data[ProgramDataMetadataLen:],
	}, nil
}

// Buffer is a parsed Buffer account.
type Buffer struct {
	// Authority is nil for an immutable buffer.
	Authority *solana.PublicKey
	// ELF is the account's bytes after the header, zero padding included.
	ELF []byte
}

// Hash is the solana-verify hash of the buffered ELF: what propose_upgrade expects.
func (b *Buffer) Hash() [32]byte { return ELFHash(b.ELF) }

// ParseBuffer reads a Buffer account.
func ParseBuffer(data []byte) (*Buffer, error) {
	t, ok := tag(data)
	if !ok || t != tagBuffer || len(data) < BufferMetadataLen {
		return nil, fmt.Errorf("%w: want Buffer (tag %d, at least %d bytes), got %d bytes", ErrWrongAccountKind, tagBuffer, BufferMetadataLen, len(data))
	}
	auth, err := optionPubkey(data[4:])
	if err != nil {
		return nil, fmt.Errorf("parse Buffer authority: %w", err)
	}
	return &Buffer{Authority: auth, ELF: data[BufferMetadataLen:]}, nil
}

// TrimTrailingZeros drops the zero padding a buffer or ProgramData account may carry after
// the ELF; zero bytes inside the ELF stay.
func TrimTrailingZeros(b []byte) []byte {
	end := len(b)
	for end > 0 && b[end-1] == 0 {
		end--
	}
	return b[:end]
}

// ELFHash is SHA-256 of the ELF with trailing zero bytes stripped: the convention of
// solana-verify (get-buffer-hash, get-program-hash, get-executable-hash), equal for one ELF
// however padded.
func ELFHash(elf []byte) [32]byte {
	return sha256.Sum256(TrimTrailingZeros(elf))
}
