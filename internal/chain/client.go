// Package chain is the Go side's one Solana JSON-RPC client: it sends and confirms
// transactions with retries and typed errors, and reads the governor's accounts and events.
package chain

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"
)

// Client wraps a solana-go rpc.Client. It is safe for concurrent use.
type Client struct {
	rpc *rpc.Client
	// rpcURL and httpClient serve calls whose answers are streamed (New sets them; a custom
	// transport leaves them empty and those calls read whole answers).
	rpcURL     string
	httpClient *http.Client

	commitment rpc.CommitmentType
	retry      RetryPolicy
	// callTimeout bounds one RPC call; a call that hits it is retried like a network error.
	callTimeout time.Duration
	// pollInterval is the first wait between signature-status polls; it grows to maxPoll.
	// Polls of concurrent sends share calls (signatureStatus), so a short maxPoll is cheap.
	pollInterval, maxPoll time.Duration
	// rebroadcastEvery re-sends a pending transaction (same bytes, same signature) so one the
	// node dropped still lands before its blockhash expires.
	rebroadcastEvery time.Duration
	// maxResigns bounds how often Send refreshes an expired blockhash and signs again.
	maxResigns int
	// skipPreflight sends without simulation: failures then land (and pay the fee).
	skipPreflight bool
	log           *slog.Logger

	// Status requests waiting for the next shared getSignatureStatuses call.
	statusMu      sync.Mutex
	statusQueue   []statusRequest
	statusRunning bool
	statusAsked   int // requests made, for tests

	// blockhashReuse is how long Send reuses the blockhash it fetched last.
	blockhashReuse time.Duration
	bhMu           sync.Mutex
	bh             *rpc.GetLatestBlockhashResult
	bhAt           time.Time

	// priorityFee is what Send bids per compute unit; fee is the last percentile of recent
	// fees, asked at feeAt.
	priorityFee PriorityFee
	feeMu       sync.Mutex
	fee         uint64
	feeAt       time.Time
}

// RetryPolicy bounds the retries of one RPC call that failed transiently (connection
// refused or reset, timeout, HTTP 429/5xx, node behind or unhealthy).
type RetryPolicy struct {
	Attempts       int // total tries, at least 1
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

// Option configures a Client.
type Option func(*Client)

// WithCommitment sets the commitment reads use and sends wait for (default confirmed).
func WithCommitment(c rpc.CommitmentType) Option { return func(cl *Client) { cl.commitment = c } }

// WithRetry sets the retry policy for transient RPC failures.
func WithRetry(p RetryPolicy) Option { return func(cl *Client) { cl.retry = p } }

// WithCallTimeout bounds each RPC call.
func WithCallTimeout(d time.Duration) Option { return func(cl *Client) { cl.callTimeout = d } }

// WithPollInterval sets the first wait between signature-status polls.
func WithPollInterval(d time.Duration) Option { return func(cl *Client) { cl.pollInterval = d } }

// WithMaxResigns bounds how often Send signs again with a fresh blockhash.
func WithMaxResigns(n int) Option { return func(cl *Client) { cl.maxResigns = n } }

// WithSkipPreflight sends transactions without the node's simulation, so a failing one lands
// and fails on-chain (with a signature and a fee) instead of being refused up front.
func WithSkipPreflight() Option { return func(cl *Client) { cl.skipPreflight = true } }

// WithBlockhashReuse sets how long Send reuses the blockhash it fetched last (0: never).
func WithBlockhashReuse(d time.Duration) Option { return func(cl *Client) { cl.blockhashReuse = d } }

// WithLogger sets the logger for retries and re-signs (debug and warn levels).
func WithLogger(l *slog.Logger) Option { return func(cl *Client) { cl.log = l } }

// New returns a client for the JSON-RPC endpoint at rpcURL.
func New(rpcURL string, opts ...Option) *Client {
	// Go's default transport keeps 2 idle connections a host: a migration with hundreds of
	// calls at once would open and close a connection for nearly every call. Up to
	// maxNodeConns are open and kept; further calls wait for one.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = maxNodeConns, maxNodeConns
	hc := &http.Client{Transport: tr}
	c := NewWithRPCClient(jsonrpc.NewClientWithOpts(rpcURL, &jsonrpc.RPCClientOpts{HTTPClient: hc}), opts...)
	c.rpcURL, c.httpClient = rpcURL, hc
	return c
}

// maxNodeConns bounds the client's connections to its node.
const maxNodeConns = 64

// NewWithRPCClient returns a client over any JSON-RPC transport (custom headers, tests).
func NewWithRPCClient(transport rpc.JSONRPCClient, opts ...Option) *Client {
	c := &Client{
		rpc:              rpc.NewWithCustomRPCClient(transport),
		commitment:       rpc.CommitmentConfirmed,
		retry:            RetryPolicy{Attempts: 5, InitialBackoff: 200 * time.Millisecond, MaxBackoff: 5 * time.Second},
		callTimeout:      30 * time.Second,
		pollInterval:     150 * time.Millisecond,
		maxPoll:          500 * time.Millisecond,
		rebroadcastEvery: 2 * time.Second,
		maxResigns:       3,
		log:              slog.Default(),
		blockhashReuse:   300 * time.Millisecond,
	}
	for _, o := range opts {
		o(c)
	}
	if c.retry.Attempts < 1 {
		c.retry.Attempts = 1
	}
	return c
}

// RPC returns the underlying solana-go client for calls this package does not wrap.
func (c *Client) RPC() *rpc.Client { return c.rpc }

// Commitment is the commitment the client reads and confirms at.
func (c *Client) Commitment() rpc.CommitmentType { return c.commitment }

// Close releases the transport's idle connections.
func (c *Client) Close() error { return c.rpc.Close() }

// call runs one RPC call with a per-call timeout and retries transient failures with
// exponential backoff. A cancelled or expired ctx ends it with ctx's error; a non-transient
// failure is returned at once (as *RPCError when the node answered with a JSON-RPC error).
func (c *Client) call(ctx context.Context, method string, fn func(ctx context.Context) error) error {
	return c.retrying(ctx, method, c.callTimeout, fn)
}

// retrying is call with a per-call timeout of its own; 0 leaves each try bounded by ctx alone.
func (c *Client) retrying(ctx context.Context, method string, timeout time.Duration, fn func(ctx context.Context) error) error {
	backoff := c.retry.InitialBackoff
	for attempt := 1; ; attempt++ {
		callCtx, cancel := ctx, context.CancelFunc(func() {})
		if timeout > 0 {
			callCtx, cancel = context.WithTimeout(ctx, timeout)
		}
		err := fn(callCtx)
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%s: %w", method, ctx.Err())
		}
		if !isTransient(err) {
			var rpcErr *jsonrpc.RPCError
			if errors.As(err, &rpcErr) {
				return &RPCError{Method: method, Code: rpcErr.Code, Message: rpcErr.Message, Data: rpcErr.Data}
			}
			return fmt.Errorf("%s: %w", method, err)
		}
		if attempt >= c.retry.Attempts {
			return &NetworkError{Method: method, Attempts: attempt, Err: err}
		}
		c.log.Debug("chain: transient RPC failure, retrying", "method", method, "attempt", attempt, "backoff", backoff, "err", err)
		if err := sleep(ctx, backoff); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		backoff = min(backoff*2, c.retry.MaxBackoff)
	}
}

// Transient JSON-RPC error codes of the Solana node: the same call can succeed later.
const (
	rpcBlockNotAvailable          = -32004
	rpcNodeUnhealthy              = -32005
	rpcBlockStatusNotAvailableYet = -32014
	rpcMinContextSlotNotReached   = -32016
)

func isTransient(err error) bool {
	var httpErr *jsonrpc.HTTPError
	if errors.As(err, &httpErr) {
		return httpErr.Code == 429 || httpErr.Code >= 500
	}
	var rpcErr *jsonrpc.RPCError
	if errors.As(err, &rpcErr) {
		switch rpcErr.Code {
		case rpcBlockNotAvailable, rpcNodeUnhealthy, rpcBlockStatusNotAvailableYet, rpcMinContextSlotNotReached:
			return true
		}
		return false
	}
	// The per-call timeout (the caller's own context was checked first).
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
