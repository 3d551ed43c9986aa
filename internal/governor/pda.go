package governor

import (
	"encoding/binary"
	"fmt"

	"github.com/gagliardetto/solana-go"
)

// Seeds of the program's PDAs (state.rs).
var (
	MultisigSeed        = []byte("multisig")
	ProposalSeed        = []byte("proposal")
	AuthoritySeed       = []byte("authority")
	GovernedProgramSeed = []byte("program")
	MigrationSeed       = []byte("migration")
	EventAuthoritySeed  = []byte("__event_authority")
)

// findPDA derives a program address. find_program_address fails only if none of 256 bumps
// gives an off-curve point (probability 2^-256), so a failure is a broken invariant, not an
// error to handle.
func findPDA(program solana.PublicKey, seeds ...[]byte) (solana.PublicKey, uint8) {
	addr, bump, err := solana.FindProgramAddress(seeds, program)
	if err != nil {
		panic(fmt.Sprintf("governor: no program address for seeds %q under %s: %v", seeds, program, err))
	}
	return addr, bump
}

// FindMultisigAddress is the Multisig PDA [multisig, create_key].
func FindMultisigAddress(createKey solana.PublicKey) (solana.PublicKey, uint8) {
	return findPDA(ProgramID, MultisigSeed, createKey[:])
}

// FindProposalAddress is the Proposal PDA [proposal, multisig, index u64 LE]. Proposal
// indexes start at 1: the next proposal of a multisig is Multisig.ProposalIndex+1.
func FindProposalAddress(multisig solana.PublicKey, index uint64) (solana.PublicKey, uint8) {
	return findPDA(ProgramID, ProposalSeed, multisig[:], binary.LittleEndian.AppendUint64(nil, index))
}

// FindAuthorityAddress is the authority PDA [authority, multisig]: the upgrade authority of
// governed programs and of their buffers. It signs loader instructions only (execute_upgrade,
// execute_config).
func FindAuthorityAddress(multisig solana.PublicKey) (solana.PublicKey, uint8) {
	return findPDA(ProgramID, AuthoritySeed, multisig[:])
}

// FindGovernedProgramAddress is the GovernedProgram PDA [program, multisig, program]: which
// proposal last upgraded the program, so only its migration plan applies.
func FindGovernedProgramAddress(multisig, program solana.PublicKey) (solana.PublicKey, uint8) {
	return findPDA(ProgramID, GovernedProgramSeed, multisig[:], program[:])
}

// FindMigrationSignerAddress is the migration signer [migration, program]: the only signer
// the governor passes to governed code (the program's migrate instruction, inside
// migrate_account). It is the authority of nothing; the authority PDA never signs for
// governed code.
func FindMigrationSignerAddress(program solana.PublicKey) (solana.PublicKey, uint8) {
	return findPDA(ProgramID, MigrationSeed, program[:])
}

// FindEventAuthorityAddress is Anchor's event-CPI authority [__event_authority].
func FindEventAuthorityAddress() (solana.PublicKey, uint8) {
	return findPDA(ProgramID, EventAuthoritySeed)
}

// eventAuthority is computed once: every instruction passes it.
var eventAuthority, _ = FindEventAuthorityAddress()

// EventAuthority returns the event-CPI authority PDA.
func EventAuthority() solana.PublicKey { return eventAuthority }
