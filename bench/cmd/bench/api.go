package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/gagliardetto/solana-go"

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
	Loadgen         string  `json:"loadgen_binary"`
}

// LoadRun is loadgen's answer.
type LoadRun struct {
	Requests    int            `json:"requests"`
	Errors      int            `json:"errors"`
	Status      map[string]int `json:"status"`
	Seconds     float64        `json:"seconds"`
	PerSecond   float64        `json:"requests_per_second"`
	P50Ms       float64        `json:"p50_ms"`
	P90Ms       float64        `json:"p90_ms"`
	P99Ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	Concurrency int            `json:"concurrency"`
	FirstError  string         `json:"first_error,omitempty"`
	Paths       string         `json:"paths"`
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
	for _, name := range []string{"list", "deep", "detail"} {
		file := filepath.Join(dir, name+".txt")
		if err := os.WriteFile(file, []byte(strings.Join(pathSets[name], "\n")+"\n"), 0o644); err != nil {
			return a, err
		}
		logf("loadgen: %s", name)
		r, err := b.loadgen(ctx, loadgen, file)
		if err != nil {
			return a, fmt.Errorf("loadgen %s: %w", name, err)
		}
		r.Paths = pathSets[name][0]
		if len(pathSets[name]) > 1 {
			r.Paths += fmt.Sprintf(" (and %d others)", len(pathSets[name])-1)
		}
		switch name {
		case "list":
			a.List = r
		case "deep":
			a.ListDeep = r
		case "detail":
			a.Detail = r
		}
	}
	return a, nil
}

func (b *bench) loadgen(ctx context.Context, bin, paths string) (LoadRun, error) {
	cmd := exec.CommandContext(ctx, bin, "-base", b.st.APIURL, "-paths", paths,
		"-concurrency", fmt.Sprint(b.cfg.APIConcurrency), "-requests", fmt.Sprint(b.cfg.APIRequests),
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
