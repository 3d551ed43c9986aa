package chain

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gagliardetto/solana-go/rpc"
	"github.com/gagliardetto/solana-go/rpc/jsonrpc"

	"github.com/upgrade-governor/upgrade-governor/internal/localnettest"
)

// faultyRPC injects the faults a real node cannot be made to show on demand (a call that
// hangs, a transient error, an answer lost after the node acted, a dropped transaction) in
// front of the real localnet. Everything that is not a scripted fault goes to the real node.
type faultyRPC struct {
	inner rpc.JSONRPCClient

	mu     sync.Mutex
	faults map[string][]fault // per method, consumed one per call
	calls  map[string]int
	// dropFirst makes the node drop the first transaction it is sent, and every resend of
	// it; dropped holds that transaction's encoding once seen.
	dropFirst bool
	dropped   any
}

type fault int

const (
	// hang blocks until the call's context ends, as an unresponsive node does.
	hang fault = iota + 1
	// refuse fails with "connection refused" without reaching the node.
	refuse
	// unavailable fails with HTTP 503 without reaching the node.
	unavailable
	// behind fails with the node's -32005 "node is behind".
	behind
	// loseAnswer forwards the call to the node, then fails as if the answer was lost.
	loseAnswer
	// drop answers success without forwarding: a node that silently dropped a transaction.
	drop
	// slowAnswer forwards the call to the node, then holds the answer until the call's
	// context ends: a node that acted and answers too late.
	slowAnswer
	// staleBlockhash forwards getLatestBlockhash and replaces the hash with one the node
	// never produced, with a last valid height already passed.
	staleBlockhash
)

func newFaultyRPC(inner rpc.JSONRPCClient) *faultyRPC {
	return &faultyRPC{inner: inner, faults: map[string][]fault{}, calls: map[string]int{}}
}

// inject scripts faults for the next calls of method.
func (f *faultyRPC) inject(method string, faults ...fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults[method] = append(f.faults[method], faults...)
}

func (f *faultyRPC) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *faultyRPC) next(method string, params []any) fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls[method]++
	if method == "sendTransaction" && f.dropFirst && len(params) > 0 {
		if f.dropped == nil {
			f.dropped = params[0]
		}
		if f.dropped == params[0] {
			return drop
		}
	}
	q := f.faults[method]
	if len(q) == 0 {
		return 0
	}
	f.faults[method] = q[1:]
	return q[0]
}

func (f *faultyRPC) CallForInto(ctx context.Context, out any, method string, params []any) error {
	switch f.next(method, params) {
	case hang:
		<-ctx.Done()
		return ctx.Err()
	case refuse:
		return errors.Join(errors.New("rpc call "+method+"(): dial tcp: connection refused"), syscall.ECONNREFUSED)
	case unavailable:
		return jsonrpc.NewHTTPError(http.StatusServiceUnavailable, errors.New("503 Service Unavailable"))
	case behind:
		return &jsonrpc.RPCError{Code: -32005, Message: "Node is behind by 42 slots"}
	case loseAnswer:
		if err := f.inner.CallForInto(ctx, out, method, params); err != nil {
			return err
		}
		return errors.Join(errors.New("rpc call "+method+"(): read: connection reset by peer"), syscall.ECONNRESET)
	case slowAnswer:
		if err := f.inner.CallForInto(context.WithoutCancel(ctx), out, method, params); err != nil {
			return err
		}
		<-ctx.Done()
		return ctx.Err()
	case drop:
		return nil
	case staleBlockhash:
		if err := f.inner.CallForInto(ctx, out, method, params); err != nil {
			return err
		}
		res := *out.(**rpc.GetLatestBlockhashResult)
		res.Value.Blockhash = solana.Hash{0xde, 0xad}
		return nil
	}
	return f.inner.CallForInto(ctx, out, method, params)
}

func (f *faultyRPC) CallWithCallback(ctx context.Context, method string, params []any, cb func(*http.Request, *http.Response) error) error {
	return f.inner.CallWithCallback(ctx, method, params, cb)
}

func (f *faultyRPC) CallBatch(ctx context.Context, reqs jsonrpc.RPCRequests) (jsonrpc.RPCResponses, error) {
	return f.inner.CallBatch(ctx, reqs)
}

// faultyLocalnet is a localnet behind a faultyRPC, with a funded payer.
func faultyLocalnet(t *testing.T, localnetArgs []string, opts ...Option) (*Client, *faultyRPC, *Keypair, context.Context) {
	t.Helper()
	ln := localnettest.Start(t, localnetArgs...)
	ctx := testContext(t, 2*time.Minute)
	payer := fundedKeypair(t, ctx, client(ln), 10)
	f := newFaultyRPC(jsonrpc.NewClient(ln.RPC))
	base := []Option{
		WithPollInterval(50 * time.Millisecond),
		WithCallTimeout(500 * time.Millisecond),
		WithRetry(RetryPolicy{Attempts: 4, InitialBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}),
	}
	return NewWithRPCClient(f, append(base, opts...)...), f, payer, ctx
}

func transferIx(from, to solana.PublicKey, lamports uint64) []solana.Instruction {
	return []solana.Instruction{system.NewTransferInstruction(lamports, from, to).Build()}
}

func TestSendRetriesTransientFailuresAndLands(t *testing.T) {
	c, f, payer, ctx := faultyLocalnet(t, nil)
	to := solana.NewWallet().PublicKey()
	f.inject("getLatestBlockhash", hang, refuse)
	f.inject("sendTransaction", unavailable)
	f.inject("getSignatureStatuses", behind, hang)

	if _, err := c.Send(ctx, transferIx(payer.PublicKey(), to, 5_000_000), payer); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, err := c.Balance(ctx, to); err != nil || got != 5_000_000 {
		t.Fatalf("balance %d, %v; want 5000000", got, err)
	}
	if n := f.count("getLatestBlockhash"); n != 3 {
		t.Errorf("getLatestBlockhash called %d times, want 3 (hang, refused, ok)", n)
	}
}

func TestSendsAtOnceShareOneBlockhash(t *testing.T) {
	c, f, payer, ctx := faultyLocalnet(t, nil, WithBlockhashReuse(time.Minute))
	to := solana.NewWallet().PublicKey()
	for i := range 3 {
		if _, err := c.Send(ctx, transferIx(payer.PublicKey(), to, uint64(1_000_000+i)), payer); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if got, err := c.Balance(ctx, to); err != nil || got != 3_000_003 {
		t.Fatalf("balance %d, %v; want 3000003", got, err)
	}
	if n := f.count("getLatestBlockhash"); n != 1 {
		t.Errorf("getLatestBlockhash called %d times for 3 sends, want 1", n)
	}
	// A blockhash the node refuses is not reused: the re-sign asks again.
	f.inject("getLatestBlockhash", staleBlockhash)
	c.bhMu.Lock()
	c.bh = nil
	c.bhMu.Unlock()
	if _, err := c.Send(ctx, transferIx(payer.PublicKey(), to, 7), payer); err != nil {
		t.Fatalf("Send after BlockhashNotFound: %v", err)
	}
	if n := f.count("getLatestBlockhash"); n != 3 {
		t.Errorf("getLatestBlockhash called %d times, want 3 (1, then the stale one and a fresh one)", n)
	}
}

func TestConcurrentSendsShareStatusCalls(t *testing.T) {
	c, f, payer, ctx := faultyLocalnet(t, nil)
	const sends = 24
	to := make([]solana.PublicKey, sends)
	errs := make(chan error, sends)
	for i := range sends {
		to[i] = solana.NewWallet().PublicKey()
		go func() {
			_, err := c.Send(ctx, transferIx(payer.PublicKey(), to[i], uint64(1_000_000+i)), payer)
			errs <- err
		}()
	}
	for range sends {
		if err := <-errs; err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	for i := range sends {
		if got, err := c.Balance(ctx, to[i]); err != nil || got != uint64(1_000_000+i) {
			t.Fatalf("balance of recipient %d: %d, %v", i, got, err)
		}
	}
	// Alone, each status poll would be a call of its own.
	c.statusMu.Lock()
	asked := c.statusAsked
	c.statusMu.Unlock()
	calls := f.count("getSignatureStatuses")
	if asked < sends || calls >= asked {
		t.Errorf("%d status polls made %d getSignatureStatuses calls, want fewer calls than polls (and at least %d polls)", asked, calls, sends)
	}
	t.Logf("%d concurrent sends: %d status polls, %d getSignatureStatuses calls", sends, asked, calls)
}

func TestSendFollowsTheStatusWhenTheNodeAnswersTooLate(t *testing.T) {
	c, f, payer, ctx := faultyLocalnet(t, nil)
	to := solana.NewWallet().PublicKey()
	// The node takes every send and answers each after the call timeout: re-sending waits as
	// long again each time, and the attempts run out although the transaction landed.
	f.inject("sendTransaction", slowAnswer, slowAnswer, slowAnswer, slowAnswer, slowAnswer)
	if _, err := c.Send(ctx, transferIx(payer.PublicKey(), to, 3_000_000), payer); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, err := c.Balance(ctx, to); err != nil || got != 3_000_000 {
		t.Fatalf("balance %d, %v; want 3000000 (paid once)", got, err)
	}
	if n := f.count("sendTransaction"); n != 1 {
		t.Errorf("sendTransaction called %d times, want 1: the status, not a resend, tells it landed", n)
	}
}

func TestSendRetryAfterALostAnswerDoesNotPayTwice(t *testing.T) {
	c, f, payer, ctx := faultyLocalnet(t, nil)
	to := solana.NewWallet().PublicKey()
	// The node takes the transaction, the answer is lost, the retry resends the same bytes:
	// the node answers AlreadyProcessed (or accepts the duplicate), and it lands once.
	f.inject("sendTransaction", loseAnswer)
	if _, err := c.Send(ctx, transferIx(payer.PublicKey(), to, 7_000_000), payer); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got, err := c.Balance(ctx, to); err != nil || got != 7_000_000 {
		t.Fatalf("balance %d, %v; want exactly one transfer of 7000000", got, err)
	}
}

func TestSendSignsAgainWhenTheBlockhashIsUnknownOrExpires(t *testing.T) {
	// Short slots, so a blockhash (150 blocks) expires in a few seconds.
	// No blockhash reuse: each Send's fetches are counted.
	c, f, payer, ctx := faultyLocalnet(t, []string{"--slot-time-ms", "20"}, WithBlockhashReuse(0))
	to := solana.NewWallet().PublicKey()
	// A blockhash the node never produced: the real node refuses it (BlockhashNotFound).
	f.inject("getLatestBlockhash", staleBlockhash)
	if _, err := c.Send(ctx, transferIx(payer.PublicKey(), to, 1_000_000), payer); err != nil {
		t.Fatalf("Send after BlockhashNotFound: %v", err)
	}
	if f.count("getLatestBlockhash") != 2 {
		t.Errorf("getLatestBlockhash called %d times, want 2", f.count("getLatestBlockhash"))
	}

	// A transaction the node silently drops (the send and every rebroadcast): Send waits
	// until its blockhash expires, then signs a new one, which lands.
	f.mu.Lock()
	f.dropFirst = true
	f.mu.Unlock()
	if _, err := c.Send(ctx, transferIx(payer.PublicKey(), to, 2_000_000), payer); err != nil {
		t.Fatalf("Send after a dropped transaction: %v", err)
	}
	if got, _ := c.Balance(ctx, to); got != 3_000_000 {
		t.Fatalf("balance %d, want 3000000", got)
	}
	if f.count("getLatestBlockhash") != 4 {
		t.Errorf("getLatestBlockhash called %d times, want 4 (2 before, then the dropped one and its successor)", f.count("getLatestBlockhash"))
	}
}

func TestPersistentNetworkFailureIsATypedRetryableError(t *testing.T) {
	c, f, payer, ctx := faultyLocalnet(t, nil)
	f.inject("getLatestBlockhash", refuse, unavailable, hang, refuse)
	_, err := c.Send(ctx, transferIx(payer.PublicKey(), solana.NewWallet().PublicKey(), 1), payer)
	var ne *NetworkError
	if !errors.As(err, &ne) || ne.Attempts != 4 || ne.Method != "getLatestBlockhash" || !IsRetryable(err) {
		t.Fatalf("got %T %v; want a NetworkError after 4 attempts", err, err)
	}
	if strings.Contains(err.Error(), "context deadline") && ne.Err == nil {
		t.Fatal("no cause")
	}
}

func TestCancelledContextIsNotANetworkError(t *testing.T) {
	c, f, payer, ctx := faultyLocalnet(t, nil, WithCallTimeout(time.Minute))
	f.inject("getLatestBlockhash", hang)
	ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err := c.Send(ctx, transferIx(payer.PublicKey(), solana.NewWallet().PublicKey(), 1), payer)
	var ne *NetworkError
	if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) {
		t.Fatalf("got %T %v; want the context's error", err, err)
	}
}
