package chain

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// The shapes below are Agave's TransactionError serialization, as the JSON-RPC API returns it
// in a preflight failure's data.err and in a signature status's err.

func TestCustomErrorOfTheGovernorBecomesAProgramError(t *testing.T) {
	logs := []string{
		"Program " + governor.ProgramID.String() + " invoke [1]",
		"Program " + governor.ProgramID.String() + " failed: custom program error: 0x177c",
	}
	err := transactionFailure(json.RawMessage(`{"InstructionError":[1,{"Custom":6012}]}`), logs, nil, solana.Signature{})
	var pe *ProgramError
	if !errors.As(err, &pe) {
		t.Fatalf("got %T %v", err, err)
	}
	if pe.Instruction != 1 || pe.Code != 6012 || pe.Name != "TimelockNotPassed" || !pe.Program.Equals(governor.ProgramID) || len(pe.Logs) != 2 {
		t.Fatalf("got %+v", pe)
	}
	if !errors.Is(err, governor.ErrTimelockNotPassed) || IsRetryable(err) {
		t.Fatal("a program error matches its governor error and is not retryable")
	}
}

func TestCustomErrorOfAnotherProgramKeepsItsProgram(t *testing.T) {
	counter := solana.NewWallet().PublicKey()
	logs := []string{
		"Program " + governor.ProgramID.String() + " invoke [1]",
		"Program " + counter.String() + " invoke [2]",
		"Program " + counter.String() + " failed: custom program error: 0xc",
		"Program " + governor.ProgramID.String() + " failed: custom program error: 0xc",
	}
	err := transactionFailure(json.RawMessage(`{"InstructionError":[0,{"Custom":12}]}`), logs, nil, solana.Signature{})
	var pe *ProgramError
	if !errors.As(err, &pe) || !pe.Program.Equals(counter) || pe.Name != "" || pe.Code != 12 {
		t.Fatalf("got %#v", err)
	}
	if errors.Unwrap(err) != nil {
		t.Fatal("a foreign code must not map to a governor error")
	}
}

func TestOtherFailuresBecomeTransactionErrors(t *testing.T) {
	cases := []struct {
		raw  string
		ix   int
		kind string
	}{
		{`{"InstructionError":[0,"IncorrectAuthority"]}`, 0, "IncorrectAuthority"},
		{`{"InstructionError":[2,{"BorshIoError":"x"}]}`, 2, "BorshIoError"},
		{`"InsufficientFundsForFee"`, -1, "InsufficientFundsForFee"},
		{`{"InsufficientFundsForRent":{"account_index":1}}`, -1, "InsufficientFundsForRent"},
	}
	for _, c := range cases {
		err := transactionFailure(json.RawMessage(c.raw), nil, nil, solana.Signature{})
		var te *TransactionError
		if !errors.As(err, &te) || te.Instruction != c.ix || te.Kind != c.kind || IsRetryable(err) {
			t.Errorf("%s: got %#v", c.raw, err)
		}
	}
}

func TestPreflightFailureIsReadFromTheRPCErrorData(t *testing.T) {
	// jsonrpc decodes data with UseNumber: numbers arrive as json.Number.
	rpcErr := &RPCError{Method: "sendTransaction", Code: -32002, Message: "Transaction simulation failed", Data: map[string]any{
		"err":  map[string]any{"InstructionError": []any{json.Number("0"), map[string]any{"Custom": json.Number("6013")}}},
		"logs": []any{"Program log: x"},
	}}
	pf, ok := asPreflightFailure(fmt.Errorf("send: %w", rpcErr))
	if !ok || string(pf.Err) != `{"InstructionError":[0,{"Custom":6013}]}` || len(pf.Logs) != 1 {
		t.Fatalf("got %+v %v", pf, ok)
	}
	pf, ok = asPreflightFailure(&RPCError{Code: -32002, Data: map[string]any{"err": "BlockhashNotFound"}})
	if !ok || txErrKind(pf.Err) != "BlockhashNotFound" {
		t.Fatalf("BlockhashNotFound: %+v %v", pf, ok)
	}
	if _, ok := asPreflightFailure(&RPCError{Code: -32602}); ok {
		t.Fatal("invalid params is not a preflight failure")
	}
}

func TestTransientClassification(t *testing.T) {
	transient := []error{
		jsonrpc.NewHTTPError(503, errors.New("unavailable")),
		jsonrpc.NewHTTPError(429, errors.New("slow down")),
		&jsonrpc.RPCError{Code: -32005, Message: "Node is behind"},
		fmt.Errorf("rpc call: %w", context.DeadlineExceeded),
	}
	for _, err := range transient {
		if !isTransient(err) {
			t.Errorf("%v should be transient", err)
		}
	}
	permanent := []error{
		jsonrpc.NewHTTPError(400, errors.New("bad request")),
		&jsonrpc.RPCError{Code: -32002, Message: "simulation failed"},
		&jsonrpc.RPCError{Code: -32602, Message: "invalid params"},
		errors.New("decode: bad json"),
	}
	for _, err := range permanent {
		if isTransient(err) {
			t.Errorf("%v should not be transient", err)
		}
	}
	if !IsRetryable(&NetworkError{Method: "x", Attempts: 3, Err: errors.New("refused")}) || IsRetryable(context.Canceled) ||
		!IsRetryable(fmt.Errorf("send: %w", ErrBlockhashExpired)) || IsRetryable(&RPCError{Code: -32602}) {
		t.Fatal("IsRetryable")
	}
}
