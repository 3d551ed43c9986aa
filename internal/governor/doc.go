// Package governor is the upgrade-governor Anchor program seen from Go: one file per
// instruction (typed builder, Validate, decoder), its accounts, events, errors and PDAs.
package governor

import (
	"crypto/sha256"

	"github.com/gagliardetto/solana-go"
)

// programID is the governor's address as this build knows it. Anchor fixes a program's id at
// compile time (declare_id!), so a deployment under another id builds the program with it
// (`anchor keys sync`) and these binaries with it too:
//
//	go build -ldflags "-X github.com/upgrade-governor/upgrade-governor/internal/governor.programID=<ADDRESS>" ./...
//
// Every builder, PDA, decoder and event check then uses it; UG_PROGRAM_ID must name the same.
var programID = "EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5"

// ProgramID is the address the program declares (declare_id! in lib.rs), or the one this build
// was made for (programID).
var ProgramID = solana.MustPublicKeyFromBase58(programID)

// Limits the program enforces (state.rs); builders do not check them, the program does.
const (
	MaxMembers         = 16
	MinTimelockSeconds = 3600
	// MaxTimelockSeconds (90 days) and MaxProposalLifetimeSeconds (365 days) keep eta and
	// expiry computable: a value near i64::MAX would make approval overflow for ever.
	MaxTimelockSeconds         = 90 * 24 * 3600
	MaxProposalLifetimeSeconds = 365 * 24 * 3600
	// An approved proposal may execute until eta + grace (MinGraceSeconds..MaxGraceSeconds);
	// DefaultGraceSeconds (14 days, as Compound's timelock) is what ugov and the demo use.
	MinGraceSeconds     = 3600
	MaxGraceSeconds     = 365 * 24 * 3600
	DefaultGraceSeconds = 14 * 24 * 3600
	// A pause by fewer than threshold keys lapses after max_pause (1 hour to 30 days), and the
	// key that paused may not pause again for the cool-down (0 to 90 days).
	MinMaxPauseSeconds          = 3600
	MaxMaxPauseSeconds          = 30 * 24 * 3600
	DefaultMaxPauseSeconds      = 72 * 3600
	MaxPauseCooldownSeconds     = 90 * 24 * 3600
	DefaultPauseCooldownSeconds = 7 * 24 * 3600
	MaxDescriptionLen           = 256
	MaxMigrationDataLen         = 64
	MaxMigrateAccounts          = 32
	// MaxConfigActions bounds the changes one config proposal makes.
	MaxConfigActions = 8
)

// EventIxTag prefixes the data of the self-CPI that Anchor's emit_cpi! makes: the event's own
// discriminator and its Borsh bytes follow (anchor_lang::event::EVENT_IX_TAG, little-endian).
var EventIxTag = [8]byte{0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d}

// Discriminator is the 8-byte prefix Anchor puts on instruction data, account data and events.
type Discriminator [8]byte

func anchorDiscriminator(namespace, name string) Discriminator {
	sum := sha256.Sum256([]byte(namespace + ":" + name))
	var d Discriminator
	copy(d[:], sum[:8])
	return d
}

// InstructionDiscriminator is sha256("global:<snake_name>")[:8].
func InstructionDiscriminator(snakeName string) Discriminator {
	return anchorDiscriminator("global", snakeName)
}

// AccountDiscriminator is sha256("account:<StructName>")[:8].
func AccountDiscriminator(structName string) Discriminator {
	return anchorDiscriminator("account", structName)
}

// EventDiscriminator is sha256("event:<EventName>")[:8].
func EventDiscriminator(eventName string) Discriminator {
	return anchorDiscriminator("event", eventName)
}
