package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/jackc/pgx/v5"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/report"
	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// APIResults is GET /proposals and GET /proposals/:id under load, with Proposals index rows.
type APIResults struct {
	Proposals       int     `json:"proposals"`
	InsertSeconds   float64 `json:"insert_seconds"`
	InsertPerSecond float64 `json:"insert_per_second"`
	List            LoadRun `json:"list_first_page"`
	ListDeep        LoadRun `json:"list_random_page"`
	Detail          LoadRun `json:"detail"`
	// DetailCold asks for every row once: each answer is computed (index, chain and Temporal
	// reads), none comes from the read cache.
	DetailCold LoadRun `json:"detail_cold"`
	Loadgen    string  `json:"loadgen_binary"`
}

// LoadRun is loadgen's answer, with what the bench adds.
type LoadRun struct {
	report.LoadResult
	Paths string `json:"paths"`
	// Read cache lookups during the run, from the server's /metrics.
	CacheHits   int `json:"cache_hits"`
	CacheMisses int `json:"cache_misses"`
	CacheBypass int `json:"cache_bypass"`
}

func (b *bench) api(ctx context.Context) (*APIResults, error) {
	a := &APIResults{Proposals: b.cfg.Proposals}
	loadgen, err := loadgenBinary()
	if err != nil {
		return a, err
	}
	a.Loadgen = loadgen
	logf("inserting %d proposals into the index", b.cfg.Proposals)
	t0 := time.Now()
	addrs, err := insertProposals(ctx, b.store, b.cfg.Proposals)
	if err != nil {
		return a, err
	}
	a.InsertSeconds = time.Since(t0).Seconds()
	a.InsertPerSecond = float64(len(addrs)) / a.InsertSeconds
	// A deployment's table has planner statistics (autovacuum analyzes within a minute of a
	// bulk change); without them the planner sorts the whole table for a deep page.
	if err := analyze(ctx, b.st.DatabaseURL); err != nil {
		return a, err
	}
	dir, err := os.MkdirTemp("", "bench-paths-")
	if err != nil {
		return a, err
	}
	defer os.RemoveAll(dir)
	pathSets := map[string][]string{"list": {"/proposals"}}
	for range 1000 {
		off := randInt(max(len(addrs)-50, 1))
		pathSets["deep"] = append(pathSets["deep"], fmt.Sprintf("/proposals?limit=50&offset=%d", off))
		pathSets["detail"] = append(pathSets["detail"], "/proposals/"+addrs[randInt(len(addrs))])
	}
	for _, addr := range addrs {
		pathSets["cold"] = append(pathSets["cold"], "/proposals/"+addr)
	}
	for _, run := range []struct {
		name, route string
		out         *LoadRun
		requests    int
		warmup      int
	}{
		{"list", "/proposals", &a.List, b.cfg.APIRequests, 100},
		{"deep", "/proposals", &a.ListDeep, b.cfg.APIRequests, 100},
		{"detail", "/proposals/:id", &a.Detail, b.cfg.APIRequests, 100},
		{"cold", "/proposals/:id", &a.DetailCold, len(addrs), 0},
	} {
		file := filepath.Join(dir, run.name+".txt")
		if err := os.WriteFile(file, []byte(strings.Join(pathSets[run.name], "\n")+"\n"), 0o644); err != nil {
			return a, err
		}
		before, err := cacheLookups(ctx, b.st.APIURL, run.route)
		if err != nil {
			return a, err
		}
		logf("loadgen: %s", run.name)
		r, err := b.loadgen(ctx, loadgen, file, run.requests, run.warmup)
		if err != nil {
			return a, fmt.Errorf("loadgen %s: %w", run.name, err)
		}
		after, err := cacheLookups(ctx, b.st.APIURL, run.route)
		if err != nil {
			return a, err
		}
		r.CacheHits, r.CacheMisses, r.CacheBypass = after["hit"]-before["hit"], after["miss"]-before["miss"], after["bypass"]-before["bypass"]
		r.Paths = pathSets[run.name][0]
		if len(pathSets[run.name]) > 1 {
			r.Paths += fmt.Sprintf(" (and %d others)", len(pathSets[run.name])-1)
		}
		*run.out = r
	}
	return a, nil
}

func analyze(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("connect to analyze: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "ANALYZE upgrade_proposals, approval_history"); err != nil {
		return fmt.Errorf("analyze the index: %w", err)
	}
	return nil
}

// cacheLookups reads the API's read cache counters of a route (hit, miss, bypass) from /metrics.
func cacheLookups(ctx context.Context, apiURL, route string) (map[string]int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read /metrics: %w", err)
	}
	defer resp.Body.Close()
	out, err := api.CacheLookups(resp.Body, route)
	if err != nil {
		return nil, fmt.Errorf("read /metrics: %w", err)
	}
	return out, nil
}

func (b *bench) loadgen(ctx context.Context, bin, paths string, requests, warmup int) (LoadRun, error) {
	cmd := exec.CommandContext(ctx, bin, "-base", b.st.APIURL, "-paths", paths, "-warmup", fmt.Sprint(warmup),
		"-concurrency", fmt.Sprint(b.cfg.APIConcurrency), "-requests", fmt.Sprint(requests),
		"-duration", fmt.Sprint(time.Duration(b.cfg.APISeconds)*time.Second))
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return LoadRun{}, fmt.Errorf("%w: %s", err, strings.TrimSpace(errOut.String()))
	}
	var r LoadRun
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		return LoadRun{}, fmt.Errorf("loadgen answered %q: %w", out.String(), err)
	}
	return r, nil
}

// loadgenBinary is bench/cmd/loadgen's binary next to this one ($BENCH_LOADGEN overrides).
func loadgenBinary() (string, error) {
	if p := os.Getenv("BENCH_LOADGEN"); p != "" {
		return p, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", err
	}
	p := filepath.Join(filepath.Dir(self), "loadgen")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("loadgen binary %s: %w (make bench builds it)", p, err)
	}
	return p, nil
}

// insertProposals writes n index rows with the store, 8 at a time: 20 multisigs, statuses mixed
// as a long-lived deployment's would be.
func insertProposals(ctx context.Context, st *store.Store, n int) ([]string, error) {
	const multisigs = 20
	ms := make([]string, multisigs)
	progs := make([]string, multisigs)
	for i := range ms {
		ms[i], progs[i] = solana.NewWallet().PublicKey().String(), solana.NewWallet().PublicKey().String()
	}
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = solana.NewWallet().PublicKey().String()
	}
	origin := store.Origin{Actor: "bench", Source: store.SourceCLI}
	start := time.Now().Add(-time.Duration(n) * time.Minute)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				created := start.Add(time.Duration(i) * time.Minute)
				hash := make([]byte, 32)
				_, _ = rand.Read(hash)
				p := store.Proposal{
					Address: addrs[i], Multisig: ms[i%multisigs], Index: uint64(i/multisigs + 1),
					TargetProgram: progs[i%multisigs], Buffer: solana.NewWallet().PublicKey().String(),
					BufferHash: hex.EncodeToString(hash), Proposer: solana.NewWallet().PublicKey().String(),
					Description: fmt.Sprintf("bench proposal %d", i), Threshold: 3, CreatedAt: created,
				}
				switch i % 10 {
				case 0, 1:
					p.Status, p.Approvals = store.ProposalActive, i%3
				case 2:
					eta := created.Add(48 * time.Hour)
					p.Status, p.Approvals, p.ETA, p.ApprovedAt = store.ProposalApproved, 3, &eta, &created
				case 3:
					p.Status, p.ClosedAt = store.ProposalCancelled, &created
				default:
					eta, done := created.Add(48*time.Hour), created.Add(49*time.Hour)
					sig := make([]byte, 64)
					_, _ = rand.Read(sig)
					p.Status, p.Approvals, p.ETA, p.ApprovedAt, p.ExecutedAt = store.ProposalExecuted, 3, &eta, &created, &done
					p.ExecuteSignature = solana.SignatureFromBytes(sig).String()
				}
				if _, err := st.UpsertProposal(ctx, p, origin); err != nil {
					select {
					case errs <- fmt.Errorf("insert proposal %d: %w", i, err):
					default:
					}
					return
				}
			}
		}()
	}
	var firstErr error
feed:
	for i := range n {
		select {
		case work <- i:
		case firstErr = <-errs:
			break feed
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		select {
		case firstErr = <-errs:
		default:
		}
	}
	return addrs, firstErr
}

func randInt(n int) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(int64(max(n, 1))))
	return int(v.Int64())
}
