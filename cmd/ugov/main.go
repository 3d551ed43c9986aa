// Command ugov is the member's CLI of upgrade-governor: it creates multisigs, hashes ELFs the
// way solana-verify does, and builds and signs governance transactions on the member's
// machine (internal/member), then hands the signed transaction to the API server
// (--api-url) or straight to RPC. The key never leaves the machine and is never printed.
//
//	ugov [global flags] COMMAND [flags] [ARGS]
//
// Global flags may also follow the command:
//
//	--keypair FILE     Solana CLI keypair file (default ~/.config/solana/id.json)
//	--rpc-url URL      JSON-RPC endpoint (default $UG_RPC_URL, else http://127.0.0.1:8899)
//	--api-url URL      API server (default $UG_API_URL); when set, signed transactions go to
//	                   the API, and list/show read the index and workflows; else RPC only
//	--program-id KEY   the governor program (default: the id this build signs for)
//	--output text|json json prints one JSON object on stdout, {"error": {...}} on failure
//
// Commands:
//
//	keygen [--outfile FILE] [--force]   a new keypair in the Solana CLI's format (never overwrites)
//	address                             the address of --keypair
//	multisig create --members K1,K2,... --threshold N --timelock 48h --guardian KEY [--proposal-lifetime 168h] [--grace 336h] [--max-pause 72h] [--pause-cooldown 168h]
//	multisig show MULTISIG
//	hash (--buffer ADDR | --program ADDR | --file ELF)
//	propose --multisig M --program P --buffer B [--hash HEX] [--description TEXT]
//	        [--migration-version V --migration-data HEX --migration-from V0 [--migration-size N] [--migration-offset N]]
//	        [--wait 1m]
//	approve PROPOSAL
//	cancel PROPOSAL [--reason TEXT]
//	execute PROPOSAL
//	pause --multisig M
//	resume --multisig M                 this member's vote to lift the pause
//	list --multisig M [--status active|approved|executed|cancelled|expired]
//	show PROPOSAL
//
// propose reads the buffer and computes its hash; a --hash that differs is refused before
// anything is signed. Through the API it waits (--wait) until the proposal's workflow has
// proposed on chain, so approvals can follow at once. execute through the API asks the
// workflow to execute (it re-checks the buffer first); by RPC, ugov executes itself and, when
// the new ELF is larger than ProgramData, extends ProgramData in a transaction of its own
// first (the loader refuses an upgrade in the block that extended the program).
//
// No single key blocks governance: a member's cancel is a vote (threshold votes cancel; the
// guardian cancels alone), a pause by fewer than threshold members lapses after the multisig's
// max pause (members vote to hold it with `pause` while paused), and resuming takes threshold
// members each running `ugov resume` on their own machine, at any time.
//
// With --output json, the result or the error ({"error": {"code", "message", "field", ...}})
// is the only thing on stdout; warnings go to stderr.
//
// Exit status: 0 on success, 2 for a usage error (unknown command, bad flag or argument),
// 1 for any other failure; nothing is signed or sent when the input is at fault.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one ugov command; it returns the result to print.
type command struct {
	name    string
	usage   string
	summary string
	run     func(ctx context.Context, e *env, args []string) (result, error)
}

// commands is the dispatch table; "multisig" has subcommands of its own.
var commands []command

func init() {
	commands = []command{
		{"keygen", "keygen [--outfile FILE] [--force]", "write a new member keypair (Solana CLI format); prints its address", runKeygen},
		{"address", "address", "print the address of --keypair", runAddress},
		{"multisig", "multisig create|show ...", "create a multisig, or show one", runMultisig},
		{"hash", "hash (--buffer ADDR | --program ADDR | --file ELF)", "the solana-verify hash of a buffer, a deployed program or an ELF file", runHash},
		{"propose", "propose --multisig M --program P --buffer B [--hash HEX] [--description TEXT] [--migration-*]", "propose an upgrade", runPropose},
		{"approve", "approve PROPOSAL", "approve a proposal", runApprove},
		{"cancel", "cancel PROPOSAL [--reason TEXT]", "cancel before execution: the guardian alone, or a member's vote (threshold votes cancel)", runCancel},
		{"execute", "execute PROPOSAL", "execute an approved proposal after its timelock", runExecute},
		{"pause", "pause --multisig M", "pause the multisig (member or guardian); while paused, a member's vote to hold the pause", runPause},
		{"resume", "resume --multisig M", "this member's vote to lift the pause; threshold votes resume", runResume},
		{"list", "list --multisig M [--status STATUS]", "list a multisig's proposals", runList},
		{"show", "show PROPOSAL", "show a proposal (with its workflow and migration through the API)", runShow},
	}
}

// run is the whole CLI: it returns the exit status. getenv, stdout and stderr are passed in
// so tests run it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	e := newEnv(getenv, stdout, stderr)
	e.json = wantsJSON(args)
	res, err := e.dispatch(ctx, args)
	if err != nil {
		return e.fail(err)
	}
	if res == nil {
		return 0
	}
	return e.print(res)
}
