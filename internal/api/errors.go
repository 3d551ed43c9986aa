package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Error is what every failed request answers, as JSON: a stable machine-readable code, a
// message for people, and the request field at fault when there is one.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
	// err is the cause, logged but never sent.
	err error
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s (%s): %s", e.Status, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.err }

// Error codes. Clients switch on these, so they never change meaning.
const (
	CodeMalformedJSON      = "malformed_json"
	CodeInvalidField       = "invalid_field"
	CodeMissingField       = "missing_field"
	CodeUnknownField       = "unknown_field"
	CodeBodyTooLarge       = "body_too_large"
	CodeUnsupportedMedia   = "unsupported_media_type"
	CodeMalformedTx        = "malformed_transaction"
	CodeMissingSignature   = "missing_signature"
	CodeInvalidSignature   = "invalid_signature"
	CodeWrongProgram       = "wrong_program"
	CodeWrongInstruction   = "wrong_instruction"
	CodeWrongProposal      = "wrong_proposal"
	CodeWrongMultisig      = "wrong_multisig"
	CodeNotAMember         = "not_a_member"
	CodeBelowThreshold     = "below_threshold"
	CodeReplayed           = "replayed_transaction"
	CodeStaleProposalIndex = "stale_proposal_index"
	// CodeStaleProposal: a config change of the members or threshold made the proposal stale;
	// approvals and execution are refused.
	CodeStaleProposal = "stale_proposal"
	// CodeConfigRefused: the program refuses the proposed changes (a threshold above the
	// members after a removal, a duplicate member, ...); the message names the rule.
	CodeConfigRefused       = "config_refused"
	CodeMigrationMismatch   = "migration_mismatch"
	CodeBufferMismatch      = "buffer_mismatch"
	CodeMissingToken        = "missing_token"
	CodeInvalidToken        = "invalid_token"
	CodeTokenRevoked        = "token_revoked"
	CodeForbidden           = "forbidden"
	CodeMultisigNotServed   = "multisig_not_served"
	CodeNotFound            = "not_found"
	CodeProposalNotFound    = "proposal_not_found"
	CodeAccountNotFound     = "account_not_found"
	CodeWrongAccount        = "wrong_account"
	CodeWorkflowNotFound    = "workflow_not_found"
	CodeWorkflowClosed      = "workflow_closed"
	CodeUpdateRejected      = "update_rejected"
	CodeConflict            = "conflict"
	CodeInvalidState        = "invalid_state"
	CodeProgramError        = "program_error"
	CodeTransactionFailed   = "transaction_failed"
	CodeBlockhashExpired    = "blockhash_expired"
	CodeRPCUnavailable      = "rpc_unavailable"
	CodeTemporalUnavailable = "temporal_unavailable"
	CodeTimeout             = "timeout"
	CodeNotReady            = "not_ready"
	CodeFeePayerLow         = "fee_payer_low"
	CodeRouteNotFound       = "route_not_found"
	CodeMethodNotAllowed    = "method_not_allowed"
	CodeInternal            = "internal"
)

func newError(status int, code, field, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

func badRequest(code, field, format string, args ...any) *Error {
	return newError(http.StatusBadRequest, code, field, format, args...)
}

func invalidField(field, format string, args ...any) *Error {
	return badRequest(CodeInvalidField, field, format, args...)
}

// toError translates any error into the answer it deserves. It is the only place that picks
// a status code for an error that did not choose its own.
func toError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	wrap := func(status int, code, msg string) *Error {
		return &Error{Status: status, Code: code, Message: msg, err: err}
	}
	var (
		maxBytes  *http.MaxBytesError
		progErr   *chain.ProgramError
		txErr     *chain.TransactionError
		netErr    *chain.NetworkError
		rpcErr    *chain.RPCError
		notFound  *serviceerror.NotFound
		started   *serviceerror.WorkflowExecutionAlreadyStarted
		unavail   *serviceerror.Unavailable
		deadline  *serviceerror.DeadlineExceeded
		exhausted *serviceerror.ResourceExhausted
	)
	switch {
	case errors.As(err, &maxBytes):
		return wrap(http.StatusRequestEntityTooLarge, CodeBodyTooLarge,
			fmt.Sprintf("request body is larger than %d bytes", maxBytes.Limit))
	case errors.Is(err, store.ErrRevoked):
		return wrap(http.StatusUnauthorized, CodeTokenRevoked, "the bearer token was revoked")
	case errors.Is(err, store.ErrNotFound):
		return wrap(http.StatusNotFound, CodeNotFound, "not found")
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrInvalidTransition):
		return wrap(http.StatusConflict, CodeConflict, "the request conflicts with stored data")
	case errors.Is(err, store.ErrInvalid):
		return wrap(http.StatusBadRequest, CodeInvalidField, "a value is not valid")
	case errors.Is(err, chain.ErrAccountNotFound):
		return wrap(http.StatusNotFound, CodeAccountNotFound, err.Error())
	case errors.Is(err, governor.ErrWrongAccount):
		return wrap(http.StatusBadRequest, CodeWrongAccount, err.Error())
	// The API sends only the member-signed transaction of a request's "transaction" field, so
	// the cluster refusing a transaction is that field's fault.
	case errors.As(err, &progErr):
		return onTransaction(wrap(http.StatusUnprocessableEntity, CodeProgramError, progErr.Error()))
	case errors.As(err, &txErr):
		if txErr.Kind == "AlreadyProcessed" {
			return onTransaction(wrap(http.StatusConflict, CodeReplayed, "the transaction was already processed"))
		}
		return onTransaction(wrap(http.StatusUnprocessableEntity, CodeTransactionFailed, txErr.Error()))
	case errors.Is(err, chain.ErrBlockhashExpired):
		return onTransaction(wrap(http.StatusUnprocessableEntity, CodeBlockhashExpired,
			"the transaction's blockhash expired before it landed: build and sign a new one"))
	case errors.As(err, &netErr), errors.As(err, &rpcErr):
		return wrap(http.StatusBadGateway, CodeRPCUnavailable, "the Solana RPC node did not answer as expected")
	case errors.As(err, &notFound):
		return wrap(http.StatusNotFound, CodeWorkflowNotFound, "no such workflow")
	case errors.As(err, &started):
		return wrap(http.StatusConflict, CodeConflict, "the workflow already exists")
	case errors.As(err, &unavail), errors.As(err, &exhausted):
		return wrap(http.StatusServiceUnavailable, CodeTemporalUnavailable, "Temporal is unavailable")
	case errors.As(err, &deadline), errors.Is(err, context.DeadlineExceeded):
		return wrap(http.StatusGatewayTimeout, CodeTimeout, "the request took too long; its effect, if any, continues in the workflow")
	}
	return wrap(http.StatusInternalServerError, CodeInternal, "internal error")
}

// onTransaction names the request's signed transaction as the field at fault.
func onTransaction(e *Error) *Error {
	e.Field = "transaction"
	return e
}

// respond writes err as the JSON error answer, logs its cause, and stops the handler chain.
func respond(c *gin.Context, err error) {
	e := toError(err)
	if e.Status == http.StatusUnauthorized {
		c.Header("WWW-Authenticate", `Bearer realm="upgrade-governor"`)
	}
	level := slog.LevelInfo
	if e.Status >= 500 {
		level = slog.LevelError
	}
	logger(c).Log(c.Request.Context(), level, "request failed",
		"code", e.Code, "status", e.Status, "field", e.Field, "error", err)
	c.Set(ctxErrorCode, e.Code)
	c.AbortWithStatusJSON(e.Status, e)
}
