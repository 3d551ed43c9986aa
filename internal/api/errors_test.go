package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"go.temporal.io/api/serviceerror"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

func TestToErrorPicksOneStatusPerKindOfFailure(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{badRequest(CodeWrongProposal, "transaction", "x"), 400, CodeWrongProposal},
		{&http.MaxBytesError{Limit: 10}, 413, CodeBodyTooLarge},
		{fmt.Errorf("look up: %w", store.ErrRevoked), 401, CodeTokenRevoked},
		{fmt.Errorf("get: %w", store.ErrNotFound), 404, CodeNotFound},
		{fmt.Errorf("upsert: %w: duplicate key value violates unique constraint", store.ErrConflict), 409, CodeConflict},
		{fmt.Errorf("get account: %w", chain.ErrAccountNotFound), 404, CodeAccountNotFound},
		{&chain.ProgramError{Program: governor.ProgramID, Code: 6012, Name: "TimelockNotPassed"}, 422, CodeProgramError},
		{&chain.TransactionError{Instruction: -1, Kind: "AlreadyProcessed"}, 409, CodeReplayed},
		{&chain.TransactionError{Instruction: 0, Kind: "MissingRequiredSignature"}, 422, CodeTransactionFailed},
		{fmt.Errorf("send: %w", chain.ErrBlockhashExpired), 422, CodeBlockhashExpired},
		{&chain.NetworkError{Method: "getAccountInfo", Attempts: 5, Err: errors.New("refused")}, 502, CodeRPCUnavailable},
		{serviceerror.NewNotFound("gone"), 404, CodeWorkflowNotFound},
		{serviceerror.NewUnavailable("down"), 503, CodeTemporalUnavailable},
		{fmt.Errorf("update: %w", context.DeadlineExceeded), 504, CodeTimeout},
		{errors.New("password=hunter2 in some driver message"), 500, CodeInternal},
	} {
		e := toError(tc.err)
		assert.Equal(t, tc.status, e.Status, "%v", tc.err)
		assert.Equal(t, tc.code, e.Code, "%v", tc.err)
		assert.NotContains(t, e.Message, "hunter2", "causes are logged, not sent")
		assert.NotContains(t, e.Message, "duplicate key", "causes are logged, not sent")
	}
}
