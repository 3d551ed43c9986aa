package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// ProgramError is a transaction that failed with a program's custom error
// (InstructionError::Custom): a broken rule of the governor, or of a program it invoked.
// It is deterministic: retrying the same transaction fails the same way.
type ProgramError struct {
	// Instruction is the index of the transaction's instruction that failed.
	Instruction int
	// Program is the program that returned the error: the innermost failing program named in
	// the logs (a CPI target), else the failing instruction's own program.
	Program solana.PublicKey
	Code    uint32
	// Name and Msg are set when Program is the governor and the code is known.
	Name, Msg string
	Logs      []string
	// Signature is set when the transaction landed and failed; zero when preflight refused it.
	Signature solana.Signature
}

func (e *ProgramError) Error() string {
	what := fmt.Sprintf("custom program error %d", e.Code)
	if e.Name != "" {
		what = fmt.Sprintf("program error %d %s: %s", e.Code, e.Name, e.Msg)
	}
	return fmt.Sprintf("instruction %d (program %s) failed: %s", e.Instruction, e.Program, what)
}

// Unwrap yields the governor's error for the code, so errors.Is(err,
// governor.ErrTimelockNotPassed) works on a ProgramError.
func (e *ProgramError) Unwrap() error {
	if !e.Program.Equals(governor.ProgramID) {
		return nil
	}
	if ge, ok := governor.ErrorFromCode(e.Code); ok {
		return ge
	}
	return nil
}

// TransactionError is a transaction that failed for a reason other than a custom program
// error: a runtime instruction error (MissingRequiredSignature, IncorrectAuthority, ...)
// or a transaction-level error (InsufficientFundsForFee, AccountNotFound, ...). Like a
// ProgramError it is deterministic for the state it ran against.
type TransactionError struct {
	// Instruction is the failing instruction's index, or -1 for a transaction-level error.
	Instruction int
	// Program is set for an instruction error (as for ProgramError).
	Program solana.PublicKey
	// Kind is the error's name, e.g. "IncorrectAuthority" or "InsufficientFundsForFee".
	Kind string
	// Detail is the raw JSON of the node's error value.
	Detail    string
	Logs      []string
	Signature solana.Signature
}

func (e *TransactionError) Error() string {
	if e.Instruction < 0 {
		return fmt.Sprintf("transaction failed: %s", e.Kind)
	}
	return fmt.Sprintf("instruction %d (program %s) failed: %s", e.Instruction, e.Program, e.Kind)
}

// NetworkError is an RPC call that kept failing transiently (unreachable node, timeouts,
// HTTP 429/5xx, node behind) after its retries. Trying again later may succeed.
type NetworkError struct {
	Method   string
	Attempts int
	Err      error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("%s: network failure after %d attempts: %v", e.Method, e.Attempts, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// RPCError is a JSON-RPC error the node answered with that is neither transient nor a
// transaction failure (bad parameters, unknown method).
type RPCError struct {
	Method  string
	Code    int
	Message string
	Data    any
}

func (e *RPCError) Error() string {
	return fmt.Sprintf("%s: rpc error %d: %s", e.Method, e.Code, e.Message)
}

// ErrBlockhashExpired means a transaction's blockhash expired before it landed: it can no
// longer land. Send re-signs on its own; SendSigned returns it (the signers must sign anew).
var ErrBlockhashExpired = errors.New("transaction blockhash expired before it landed")

// ErrNotConfirmed means a signature did not reach the commitment in time (Airdrop).
var ErrNotConfirmed = errors.New("transaction not confirmed")

// IsRetryable reports whether trying the same operation again may succeed: true for
// network failures and an expired blockhash, false for program, transaction and RPC errors
// and for a cancelled context. Temporal activities use it to mark errors non-retryable.
func IsRetryable(err error) bool {
	var netErr *NetworkError
	switch {
	case err == nil:
		return false
	case errors.Is(err, context.Canceled):
		return false
	case errors.As(err, &netErr), errors.Is(err, ErrBlockhashExpired), errors.Is(err, ErrNotConfirmed),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	return false
}

// The JSON-RPC code of a transaction that failed simulation before it was sent.
const rpcSendTransactionPreflightFailure = -32002

// preflightFailure is the data of a -32002 error.
type preflightFailure struct {
	Err  json.RawMessage `json:"err"`
	Logs []string        `json:"logs"`
}

func asPreflightFailure(err error) (*preflightFailure, bool) {
	var rpcErr *RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Code != rpcSendTransactionPreflightFailure {
		return nil, false
	}
	raw, mErr := json.Marshal(rpcErr.Data)
	if mErr != nil {
		return nil, false
	}
	var pf preflightFailure
	if json.Unmarshal(raw, &pf) != nil || len(pf.Err) == 0 || string(pf.Err) == "null" {
		return nil, false
	}
	return &pf, true
}

// alreadyProcessed reports a send refused because the same transaction already landed.
// Agave says so in the preflight data (err "AlreadyProcessed"); surfpool 1.6 only in the
// message, with no data.
func alreadyProcessed(err error) bool {
	var rpcErr *RPCError
	if !errors.As(err, &rpcErr) || rpcErr.Code != rpcSendTransactionPreflightFailure {
		return false
	}
	if pf, ok := asPreflightFailure(err); ok {
		return txErrKind(pf.Err) == "AlreadyProcessed"
	}
	return strings.Contains(rpcErr.Message, "already been processed")
}

// txErrKind returns the name of a transaction-level error ("BlockhashNotFound") or "" for
// an instruction error.
func txErrKind(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil && len(obj) == 1 {
		for k := range obj {
			if k != "InstructionError" {
				return k
			}
		}
	}
	return ""
}

// failedProgramLog matches the runtime's "Program <id> failed: <reason>" log line.
var failedProgramLog = regexp.MustCompile(`^Program ([1-9A-HJ-NP-Za-km-z]{32,44}) failed: `)

// transactionFailure turns the node's error value for a failed transaction (the `err` of a
// preflight failure or of a signature status, e.g. {"InstructionError":[0,{"Custom":6012}]})
// into a *ProgramError or *TransactionError.
func transactionFailure(raw json.RawMessage, logs []string, tx *solana.Transaction, sig solana.Signature) error {
	var obj map[string]json.RawMessage
	ixErr, isIx := json.RawMessage(nil), false
	if json.Unmarshal(raw, &obj) == nil && len(obj) == 1 {
		ixErr, isIx = obj["InstructionError"]
	}
	if !isIx {
		kind := txErrKind(raw)
		if kind == "" {
			kind = string(raw)
		}
		return &TransactionError{Instruction: -1, Kind: kind, Detail: string(raw), Logs: logs, Signature: sig}
	}
	var pair []json.RawMessage
	var index int
	if json.Unmarshal(ixErr, &pair) != nil || len(pair) != 2 || json.Unmarshal(pair[0], &index) != nil {
		return &TransactionError{Instruction: -1, Kind: "InstructionError", Detail: string(raw), Logs: logs, Signature: sig}
	}
	program := failingProgram(logs, tx, index)

	var custom struct {
		Custom *uint32 `json:"Custom"`
	}
	if json.Unmarshal(pair[1], &custom) == nil && custom.Custom != nil {
		pe := &ProgramError{Instruction: index, Program: program, Code: *custom.Custom, Logs: logs, Signature: sig}
		if program.Equals(governor.ProgramID) {
			if ge, ok := governor.ErrorFromCode(pe.Code); ok {
				pe.Name, pe.Msg = ge.Name, ge.Msg
			}
		}
		return pe
	}
	kind := txErrKind(pair[1])
	if kind == "" {
		kind = strings.Trim(string(pair[1]), `"`)
	}
	return &TransactionError{Instruction: index, Program: program, Kind: kind, Detail: string(raw), Logs: logs, Signature: sig}
}

// failingProgram is the innermost program the logs report as failed (the first such line),
// else the program of the transaction's instruction at index.
func failingProgram(logs []string, tx *solana.Transaction, index int) solana.PublicKey {
	for _, l := range logs {
		if m := failedProgramLog.FindStringSubmatch(l); m != nil {
			if k, err := solana.PublicKeyFromBase58(m[1]); err == nil {
				return k
			}
		}
	}
	if tx != nil && index >= 0 && index < len(tx.Message.Instructions) {
		if k, err := tx.Message.Program(tx.Message.Instructions[index].ProgramIDIndex); err == nil {
			return k
		}
	}
	return solana.PublicKey{}
}

// jsonOf re-encodes a value the JSON-RPC layer decoded into any (a signature status's err).
func jsonOf(v any) json.RawMessage {
	raw, err := json.Marshal(v)
	if err != nil || bytes.Equal(raw, []byte("null")) {
		return nil
	}
	return raw
}
