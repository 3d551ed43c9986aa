package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// defaultKeypair is the Solana CLI's default keypair file.
const defaultKeypair = "~/.config/solana/id.json"

// globals are the flags every command takes, before or after the command name.
type globals struct {
	keypair, rpcURL, apiURL, programID, output, priorityFee string
}

// register adds the global flags to fs with their current values as defaults, so a flag
// given before the command is kept when the command's own flag set parses.
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.keypair, "keypair", g.keypair, "Solana CLI keypair `file` of the signing member (and fee payer)")
	fs.StringVar(&g.rpcURL, "rpc-url", g.rpcURL, "Solana JSON-RPC `url` ($UG_RPC_URL)")
	fs.StringVar(&g.apiURL, "api-url", g.apiURL, "upgrade-governor API `url` ($UG_API_URL); empty: RPC only")
	fs.StringVar(&g.programID, "program-id", g.programID, "the governor program `address`")
	fs.StringVar(&g.output, "output", g.output, "output `format`: text or json")
	fs.StringVar(&g.priorityFee, "priority-fee", g.priorityFee, "priority `fee` per compute unit: micro-lamports, pNN (a percentile of recent fees) or pNN:FLOOR ($UG_PRIORITY_FEE)")
}

// env is one invocation: its flags, its output and the clients it opened.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	json           bool
	g              globals

	chain *chain.Client
	api   *apiclient.Client
}

func newEnv(getenv func(string) string, stdout, stderr io.Writer) *env {
	rpcURL := getenv("UG_RPC_URL")
	if rpcURL == "" {
		rpcURL = "http://127.0.0.1:8899"
	}
	return &env{
		getenv: getenv, stdout: stdout, stderr: stderr,
		g: globals{
			keypair: defaultKeypair, rpcURL: rpcURL, apiURL: getenv("UG_API_URL"),
			programID: governor.ProgramID.String(), output: "text", priorityFee: priorityFeeDefault(getenv),
		},
	}
}

// priorityFeeDefault is $UG_PRIORITY_FEE, else the median of recent fees (as the worker).
func priorityFeeDefault(getenv func(string) string) string {
	if v := getenv("UG_PRIORITY_FEE"); v != "" {
		return v
	}
	return "p50"
}

// wantsJSON looks for --output json before parsing, so that even a usage error is JSON.
func wantsJSON(args []string) bool {
	for i, a := range args {
		switch a {
		case "--output=json", "-output=json":
			return true
		case "--output", "-output":
			if i+1 < len(args) && args[i+1] == "json" {
				return true
			}
		}
	}
	return false
}

func (e *env) dispatch(ctx context.Context, args []string) (result, error) {
	fs := e.flagSet("ugov")
	rest, err := parseFlags(fs, args, false)
	if errors.Is(err, flag.ErrHelp) {
		e.usage(e.stdout)
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if len(rest) == 0 {
		e.usage(e.stderr)
		return nil, usageError("", "missing command (one of %s)", commandNames())
	}
	name := rest[0]
	if name == "help" {
		e.usage(e.stdout)
		return nil, nil
	}
	for _, c := range commands {
		if c.name == name {
			return c.run(ctx, e, rest[1:])
		}
	}
	return nil, &cliError{Code: "unknown_command", Field: name, usage: true,
		Message: fmt.Sprintf("unknown command (one of %s; see ugov help)", commandNames())}
}

func commandNames() string {
	names := make([]string, len(commands))
	for i, c := range commands {
		names[i] = c.name
	}
	return strings.Join(names, ", ")
}

func (e *env) usage(w io.Writer) {
	fmt.Fprintln(w, "usage: ugov [--keypair FILE] [--rpc-url URL] [--api-url URL] [--program-id KEY] [--output text|json] COMMAND ...")
	fmt.Fprintln(w, "\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun `ugov COMMAND --help` for a command's flags.")
}

// flagSet is a command's flag set with the global flags; it reports errors itself.
func (e *env) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	e.g.register(fs)
	return fs
}

// parseCommand parses a command's flags and positional arguments (flags may follow them),
// prints its help for --help, checks the argument count and sets up the global options.
func (e *env) parseCommand(fs *flag.FlagSet, usage string, args []string, positional ...string) ([]string, error) {
	rest, err := parseFlags(fs, args, true)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(e.stdout, "usage: ugov %s\n\nflags:\n", usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		return nil, errHelpShown
	}
	if err != nil {
		return nil, err
	}
	if len(rest) < len(positional) {
		return nil, usageError(positional[len(rest)], "missing (usage: ugov %s)", usage)
	}
	if len(rest) > len(positional) {
		return nil, usageError(rest[len(positional)], "unexpected argument (usage: ugov %s)", usage)
	}
	if err := e.setup(); err != nil {
		return nil, err
	}
	return rest, nil
}

// errHelpShown ends a command whose --help was printed; it is not a failure.
var errHelpShown = errors.New("help shown")

// parseFlags parses args with fs. With interspersed, flags may come after positional
// arguments (`ugov approve P --api-url U`); without it, parsing stops at the first
// positional argument (the command name).
func parseFlags(fs *flag.FlagSet, args []string, interspersed bool) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(err)
		}
		rest := fs.Args()
		// flag.Parse consumed a "--" terminator when fewer arguments remain than it saw.
		if len(rest) == 0 || !interspersed || terminated(args, rest) {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func terminated(args, rest []string) bool {
	i := len(args) - len(rest) - 1
	return i >= 0 && args[i] == "--"
}

var (
	undefinedFlag = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	flagNeedsArg  = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
	invalidValue  = regexp.MustCompile(`^invalid (?:boolean )?value (".*") for flag -+([^:]+): (.*)$`)
)

// flagError restates the flag package's errors in ugov's form: the flag, then what is wrong.
func flagError(err error) error {
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	msg := err.Error()
	if m := undefinedFlag.FindStringSubmatch(msg); m != nil {
		return usageError("--"+m[1], "unknown flag")
	}
	if m := flagNeedsArg.FindStringSubmatch(msg); m != nil {
		return usageError("--"+m[1], "needs a value")
	}
	if m := invalidValue.FindStringSubmatch(msg); m != nil {
		return usageError("--"+m[2], "invalid value %s: %s", m[1], m[3])
	}
	return usageError("", "%s", msg)
}

// setup checks the global flags once a command's flags are parsed.
func (e *env) setup() error {
	switch e.g.output {
	case "text":
		e.json = false
	case "json":
		e.json = true
	default:
		return usageError("--output", "want text or json, got %q", e.g.output)
	}
	id, err := parsePubkey("--program-id", e.g.programID)
	if err != nil {
		return err
	}
	// The instruction builders, PDAs and event authority are derived from the program id
	// this build was made for, so another id cannot be honoured by switching a variable.
	if !id.Equals(governor.ProgramID) {
		return usageError("--program-id", "this build of ugov signs for the governor %s; %s needs a build for that program "+
			"(go build -ldflags \"-X github.com/upgrade-governor/upgrade-governor/internal/governor.programID=%s\" ./cmd/ugov)",
			governor.ProgramID, id, id)
	}
	if u, err := url.Parse(e.g.rpcURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return usageError("--rpc-url", "want http(s)://host[:port], got %q", e.g.rpcURL)
	}
	fee, err := chain.ParsePriorityFee(e.g.priorityFee)
	if err != nil {
		return usageError("--priority-fee", "want micro-lamports, pNN or pNN:FLOOR, got %q", e.g.priorityFee)
	}
	logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e.chain = chain.New(e.g.rpcURL, chain.WithLogger(logger), chain.WithPriorityFee(fee))
	if e.g.apiURL != "" {
		if e.api, err = apiclient.New(e.g.apiURL, nil); err != nil {
			return usageError("--api-url", "want http(s)://host[:port], got %q", e.g.apiURL)
		}
	}
	return nil
}

// expandHome resolves a leading ~/ the way the Solana CLI does.
func (e *env) expandHome(path string) string {
	if path == "~" || strings.HasPrefix(path, "~/") {
		if home := e.getenv("HOME"); home != "" {
			return filepath.Join(home, strings.TrimPrefix(path, "~"))
		}
	}
	return path
}

// loadKeypair reads a keypair file named by the flag field. Its error names the file and
// never its content.
func (e *env) loadKeypair(field, path string) (*chain.Keypair, error) {
	if path == "" {
		return nil, usageError(field, "missing keypair file")
	}
	kp, err := chain.LoadKeypair(e.expandHome(path))
	if err != nil {
		hint := ""
		if field == "--keypair" && path == defaultKeypair {
			hint = " (create one with solana-keygen new, or pass --keypair FILE)"
		}
		return nil, &cliError{Code: "keypair", Field: field, Message: err.Error() + hint}
	}
	return kp, nil
}

func parsePubkey(field, v string) (solana.PublicKey, error) {
	if v == "" {
		return solana.PublicKey{}, usageError(field, "missing (required)")
	}
	k, err := solana.PublicKeyFromBase58(v)
	if err != nil {
		return solana.PublicKey{}, usageError(field, "not a public key (base58): %q", v)
	}
	return k, nil
}

// result is what a command prints: as JSON (the value itself) or as text.
type result interface {
	writeText(w io.Writer)
}

func (e *env) print(r result) int {
	if !e.json {
		r.writeText(e.stdout)
		return 0
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		fmt.Fprintln(e.stderr, "ugov: encode output:", err)
		return 1
	}
	return 0
}

// cliError is every failure ugov reports: a stable code, a message, and the flag or
// argument at fault. API and program errors keep their own details.
type cliError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Field is the flag (--buffer) or argument (PROPOSAL) at fault.
	Field string `json:"field,omitempty"`
	// Status and APIField come from an API error answer.
	Status   int    `json:"status,omitempty"`
	APIField string `json:"api_field,omitempty"`
	// Program, ProgramCode and Name come from a program error of a transaction.
	Program     string   `json:"program,omitempty"`
	ProgramCode *uint32  `json:"program_code,omitempty"`
	Name        string   `json:"name,omitempty"`
	Signature   string   `json:"signature,omitempty"`
	Logs        []string `json:"logs,omitempty"`

	usage bool
}

func (e *cliError) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

func usageError(field, format string, args ...any) *cliError {
	return &cliError{Code: "usage", Field: field, Message: fmt.Sprintf(format, args...), usage: true}
}

// inputError is an input that parsed but does not fit what the chain holds (exit 1).
func inputError(code, field, format string, args ...any) *cliError {
	return &cliError{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// toCLIError gives any error its code and details; the message keeps the context the
// command wrapped it in.
func toCLIError(err error) *cliError {
	var ce *cliError
	if errors.As(err, &ce) {
		return ce
	}
	out := &cliError{Code: "failed", Message: err.Error()}
	var (
		apiErr  *apiclient.Error
		progErr *chain.ProgramError
		txErr   *chain.TransactionError
		netErr  *chain.NetworkError
		rpcErr  *chain.RPCError
	)
	switch {
	case errors.As(err, &apiErr):
		out.Code, out.Status, out.APIField = apiErr.Code, apiErr.Status, apiErr.Field
		out.Message = strings.Replace(out.Message, apiErr.Error(), "api: "+apiErr.Error(), 1)
	case errors.As(err, &progErr):
		code := progErr.Code
		out.Code, out.Program, out.ProgramCode, out.Name, out.Logs = "program_error", progErr.Program.String(), &code, progErr.Name, progErr.Logs
		if !progErr.Signature.IsZero() {
			out.Signature = progErr.Signature.String()
		}
	case errors.As(err, &txErr):
		out.Code, out.Name, out.Logs = "transaction_failed", txErr.Kind, txErr.Logs
		if !txErr.Signature.IsZero() {
			out.Signature = txErr.Signature.String()
		}
	case errors.Is(err, chain.ErrBlockhashExpired):
		out.Code = "blockhash_expired"
	case errors.Is(err, chain.ErrAccountNotFound):
		out.Code = "account_not_found"
	case errors.Is(err, governor.ErrWrongAccount):
		out.Code = "wrong_account"
	case errors.As(err, &netErr):
		out.Code = "rpc_unavailable"
	case errors.As(err, &rpcErr):
		out.Code = "rpc_error"
	case errors.Is(err, context.Canceled):
		out.Code = "interrupted"
	}
	return out
}

func (e *env) fail(err error) int {
	if errors.Is(err, errHelpShown) {
		return 0
	}
	ce := toCLIError(err)
	if e.json {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(map[string]*cliError{"error": ce})
	} else {
		fmt.Fprintf(e.stderr, "ugov: %s\n", ce.Error())
	}
	if ce.usage {
		return 2
	}
	return 1
}

// atField blames the flag or argument field for err (an account it names that is missing or
// of the wrong kind), keeping err's code.
func atField(field string, err error) error {
	ce := *toCLIError(err)
	ce.Field = field
	return &ce
}

// warn prints to stderr, which stays free of JSON output.
func (e *env) warn(format string, args ...any) {
	fmt.Fprintf(e.stderr, "ugov: warning: "+format+"\n", args...)
}
