package devstack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

// RPCFaultProxy is a fault injector, not a node: an HTTP JSON-RPC proxy in front of the real
// localnet that forwards every call to it and, when switched on at run time, injects the two
// RPC faults a node cannot be made to show on demand:
//
//   - slow answers (SetSlow): the call is forwarded at once, so the node acts on it (a
//     sendTransaction lands), and its answer is held back for a delay. A client whose own
//     timeout is shorter gives up on a transaction that did land: the case where a careless
//     retry applies something twice.
//   - a stale blockhash (SetStaleBlockhash): getLatestBlockhash is forwarded and its answer's
//     blockhash replaced with one captured from the same node earlier and since expired on it,
//     so the node itself refuses the transactions signed with it (BlockhashNotFound) and the
//     client must fetch a new blockhash and sign again.
//
// Everything else passes through unchanged. It speaks HTTP only: the worker and the API server
// send no PubSub (WebSocket) traffic. Stats counts what it did, so a drill can prove its fault
// was hit.
type RPCFaultProxy struct {
	// URL is the proxy's JSON-RPC endpoint, to use instead of the node's.
	URL string

	target string
	ln     net.Listener
	srv    *http.Server
	http   *http.Client
	wg     sync.WaitGroup

	mu    sync.Mutex
	slow  []SlowRule
	stale *StaleBlockhash
	seen  map[string]uint64 // calls per method since the fault was last set, for Every
	stats RPCFaultStats
}

// SlowRule delays the answers of some calls.
type SlowRule struct {
	// Methods the rule applies to; empty means every method.
	Methods []string
	// Every delays one call in Every of those methods' calls, the first included; 0 or 1
	// delays all of them.
	Every uint64
	// Delay is how long the node's answer is held back.
	Delay time.Duration
}

// StaleBlockhash is what getLatestBlockhash answers with instead of the node's own blockhash.
type StaleBlockhash struct {
	Blockhash            string
	LastValidBlockHeight uint64
	// Every serves it to one call in Every, the first included; 0 or 1 to every call.
	Every uint64
}

// RPCFaultStats counts what the proxy did since it started.
type RPCFaultStats struct {
	// Forwarded counts calls passed to the node, per method ("batch" for a JSON-RPC batch).
	Forwarded map[string]uint64
	// Delayed counts answers held back by a SlowRule, per method.
	Delayed map[string]uint64
	// Abandoned counts delayed answers the client stopped waiting for (it closed the request)
	// before they were due, per method: for sendTransaction, a transaction the node had taken
	// while its sender gave up on it.
	Abandoned map[string]uint64
	// StaleServed counts getLatestBlockhash answers carrying the stale blockhash.
	StaleServed uint64
	// Refused counts sendTransaction answers in which the node refused the transaction's
	// blockhash (BlockhashNotFound).
	Refused uint64
	// ForwardErrors counts calls the node did not answer (the client got HTTP 502).
	ForwardErrors uint64
}

// NewRPCFaultProxy starts a proxy on a free loopback port in front of the JSON-RPC node at
// target. It injects nothing until SetSlow or SetStaleBlockhash.
func NewRPCFaultProxy(target string) (*RPCFaultProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("devstack: rpc fault proxy: listen: %w", err)
	}
	p := &RPCFaultProxy{
		URL:    "http://" + ln.Addr().String(),
		target: target,
		ln:     ln,
		http:   &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		seen:   map[string]uint64{},
		stats: RPCFaultStats{
			Forwarded: map[string]uint64{}, Delayed: map[string]uint64{}, Abandoned: map[string]uint64{},
		},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 10 * time.Second}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_ = p.srv.Serve(ln) // ends with http.ErrServerClosed at Close
	}()
	return p, nil
}

// SetSlow replaces the slow rules; the first rule naming a call's method (or naming none)
// decides. No rules: answers are not delayed. Answers already held keep their delay.
func (p *RPCFaultProxy) SetSlow(rules ...SlowRule) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.slow = append([]SlowRule(nil), rules...)
	p.seen = map[string]uint64{}
}

// SetStaleBlockhash makes getLatestBlockhash answer with s; nil gives the node's own again.
func (p *RPCFaultProxy) SetStaleBlockhash(s *StaleBlockhash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s != nil {
		c := *s
		s = &c
	}
	p.stale = s
	p.seen = map[string]uint64{}
}

// Clear switches every fault off.
func (p *RPCFaultProxy) Clear() {
	p.SetSlow()
	p.SetStaleBlockhash(nil)
}

// Stats returns a copy of the counters.
func (p *RPCFaultProxy) Stats() RPCFaultStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Forwarded, s.Delayed, s.Abandoned = copyCounts(s.Forwarded), copyCounts(s.Delayed), copyCounts(s.Abandoned)
	return s
}

// Sub returns the counts of s minus those of an earlier snapshot.
func (s RPCFaultStats) Sub(earlier RPCFaultStats) RPCFaultStats {
	sub := func(a, b map[string]uint64) map[string]uint64 {
		out := map[string]uint64{}
		for k, v := range a {
			if d := v - b[k]; d > 0 {
				out[k] = d
			}
		}
		return out
	}
	return RPCFaultStats{
		Forwarded:     sub(s.Forwarded, earlier.Forwarded),
		Delayed:       sub(s.Delayed, earlier.Delayed),
		Abandoned:     sub(s.Abandoned, earlier.Abandoned),
		StaleServed:   s.StaleServed - earlier.StaleServed,
		Refused:       s.Refused - earlier.Refused,
		ForwardErrors: s.ForwardErrors - earlier.ForwardErrors,
	}
}

// String is a one-line summary: "forwarded 812 calls; delayed sendTransaction 3, ...".
func (s RPCFaultStats) String() string {
	var total uint64
	for _, n := range s.Forwarded {
		total += n
	}
	return fmt.Sprintf("forwarded %d calls; delayed %s; abandoned by the client while delayed %s; stale blockhash served %d; refused by the node for its blockhash %d; not answered by the node %d",
		total, countsString(s.Delayed), countsString(s.Abandoned), s.StaleServed, s.Refused, s.ForwardErrors)
}

// Close stops the proxy; calls in flight are cut off.
func (p *RPCFaultProxy) Close() error {
	err := p.srv.Close()
	p.wg.Wait()
	p.http.CloseIdleConnections()
	if err != nil {
		return fmt.Errorf("devstack: rpc fault proxy: close: %w", err)
	}
	return nil
}

func (p *RPCFaultProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read request: "+err.Error(), http.StatusBadRequest)
		return
	}
	method := "batch"
	if t := bytes.TrimSpace(body); len(t) > 0 && t[0] == '{' {
		var call struct {
			Method string `json:"method"`
		}
		if err := json.Unmarshal(t, &call); err != nil {
			http.Error(w, "parse request: "+err.Error(), http.StatusBadRequest)
			return
		}
		method = call.Method
	}
	delay, stale := p.decide(method)

	// The node gets the call whatever the client does next, as a slow network would deliver it.
	fwdCtx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Minute)
	defer cancel()
	status, header, answer, err := p.forward(fwdCtx, r, body)
	if err != nil {
		p.count(func(s *RPCFaultStats) { s.ForwardErrors++ })
		http.Error(w, "rpc fault proxy: "+err.Error(), http.StatusBadGateway)
		return
	}
	if method == "sendTransaction" && (bytes.Contains(answer, []byte("BlockhashNotFound")) || bytes.Contains(answer, []byte("Blockhash not found"))) {
		p.count(func(s *RPCFaultStats) { s.Refused++ })
	}
	if stale != nil && status == http.StatusOK {
		// An error answer (one without a value to replace) goes back as the node gave it,
		// and is not counted as served stale.
		if rewritten, err := withBlockhash(answer, stale); err == nil {
			answer = rewritten
			p.count(func(s *RPCFaultStats) { s.StaleServed++ })
		}
	}
	if delay > 0 {
		p.count(func(s *RPCFaultStats) { s.Delayed[method]++ })
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			p.count(func(s *RPCFaultStats) { s.Abandoned[method]++ })
			return
		}
	}
	for k, v := range header {
		if k == "Content-Type" || k == "Content-Encoding" {
			w.Header()[k] = v
		}
	}
	w.WriteHeader(status)
	_, _ = w.Write(answer) // a client gone by now is what a slow network gives it
}

// decide counts the call and says how long to hold its answer and whether it gets the stale
// blockhash.
func (p *RPCFaultProxy) decide(method string) (time.Duration, *StaleBlockhash) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Forwarded[method]++
	var delay time.Duration
	for _, r := range p.slow {
		if len(r.Methods) > 0 && !contains(r.Methods, method) {
			continue
		}
		key := "slow:" + method
		p.seen[key]++
		if r.Every <= 1 || (p.seen[key]-1)%r.Every == 0 {
			delay = r.Delay
		}
		break
	}
	var stale *StaleBlockhash
	if p.stale != nil && method == "getLatestBlockhash" {
		p.seen["stale"]++
		if p.stale.Every <= 1 || (p.seen["stale"]-1)%p.stale.Every == 0 {
			stale = p.stale
		}
	}
	return delay, stale
}

func (p *RPCFaultProxy) forward(ctx context.Context, r *http.Request, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", r.Header.Get("Content-Type"))
	resp, err := p.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("forward to %s: %w", p.target, err)
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("read answer of %s: %w", p.target, err)
	}
	return resp.StatusCode, resp.Header, answer, nil
}

// withBlockhash rewrites a getLatestBlockhash answer to carry s; the node's context (slot)
// stays.
func withBlockhash(answer []byte, s *StaleBlockhash) ([]byte, error) {
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(answer, &msg); err != nil {
		return nil, fmt.Errorf("parse answer: %w", err)
	}
	raw, ok := msg["result"]
	if !ok {
		return nil, errors.New("answer has no result")
	}
	var result map[string]json.RawMessage
	if err := json.Unmarshal(raw, &result); err != nil {
		return nil, fmt.Errorf("parse result: %w", err)
	}
	if _, ok := result["value"]; !ok {
		return nil, errors.New("result has no value")
	}
	value, err := json.Marshal(map[string]any{"blockhash": s.Blockhash, "lastValidBlockHeight": s.LastValidBlockHeight})
	if err != nil {
		return nil, fmt.Errorf("encode value: %w", err)
	}
	result["value"] = value
	if msg["result"], err = json.Marshal(result); err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	out, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode answer: %w", err)
	}
	return out, nil
}

func (p *RPCFaultProxy) count(f func(*RPCFaultStats)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.stats)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func copyCounts(m map[string]uint64) map[string]uint64 {
	out := make(map[string]uint64, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func countsString(m map[string]uint64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// RouteWorkerRPC stops the worker (SIGTERM: it stops taking tasks and gives running ones up to
// 30 s; SIGKILL after 45 s) and starts it again with its JSON-RPC URL set to url, e.g. an
// RPCFaultProxy's; "" sends it straight to the stack's node again. Later StartWorker calls
// keep the route. The API server and Stack.Chain still reach the node directly.
func (s *Stack) RouteWorkerRPC(ctx context.Context, url string) error {
	p, err := s.proc("worker")
	if err != nil {
		return err
	}
	if exited(p) == nil {
		if err := syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGTERM); err != nil {
			return fmt.Errorf("devstack: stop worker: %w", err)
		}
		select {
		case <-p.done:
		case <-time.After(45 * time.Second):
			_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	}
	s.mu.Lock()
	s.workerRPCURL = url
	s.mu.Unlock()
	if err := s.StartWorker(ctx); err != nil {
		return fmt.Errorf("devstack: worker with RPC %q: %w", url, err)
	}
	return nil
}
