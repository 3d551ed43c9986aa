// Command loadgen sends GET requests to an API server on this machine and prints requests per
// second and latency percentiles as JSON. It is bounded in count and time, and refuses any
// address that is not loopback.
//
//	loadgen -base http://127.0.0.1:8080 -paths paths.txt -concurrency 16 -requests 20000 -duration 20s
//
// Paths (one a line) are requested round-robin, each worker starting at its own offset.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/upgrade-governor/upgrade-governor/bench/internal/report"
)

// Hard bounds, whatever the flags say.
const (
	maxRequests    = 1_000_000
	maxDuration    = 5 * time.Minute
	maxConcurrency = 256
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "API base URL (loopback only)")
	pathsFile := flag.String("paths", "", "file of request paths, one a line")
	concurrency := flag.Int("concurrency", 16, "requests in flight")
	requests := flag.Int("requests", 20000, "stop after this many requests")
	duration := flag.Duration("duration", 20*time.Second, "stop after this long")
	warmup := flag.Int("warmup", 100, "requests sent first and not counted")
	flag.Parse()

	res, err := run(*base, *pathsFile, *concurrency, *requests, *warmup, *duration)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func run(base, pathsFile string, concurrency, requests, warmup int, duration time.Duration) (report.LoadResult, error) {
	if err := requireLoopback(base); err != nil {
		return report.LoadResult{}, err
	}
	paths, err := readPaths(pathsFile)
	if err != nil {
		return report.LoadResult{}, err
	}
	concurrency = min(max(concurrency, 1), maxConcurrency)
	requests = min(max(requests, 1), maxRequests)
	duration = min(max(duration, time.Second), maxDuration)
	client := &http.Client{
		Timeout:   10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency},
	}
	get := func(path string) (int, error) {
		resp, err := client.Get(base + path)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	for i := 0; i < warmup; i++ {
		_, _ = get(paths[i%len(paths)])
	}

	var (
		next      atomic.Int64
		mu        sync.Mutex
		latencies = make([]time.Duration, 0, min(requests, 200_000))
		res       = report.LoadResult{Status: map[string]int{}, Concurrency: concurrency}
	)
	deadline := time.Now().Add(duration)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1)
				if n > int64(requests) || time.Now().After(deadline) {
					return
				}
				t0 := time.Now()
				code, err := get(paths[int(n)%len(paths)])
				d := time.Since(t0)
				mu.Lock()
				res.Requests++
				if err != nil {
					res.Errors++
					if res.FirstError == "" {
						res.FirstError = err.Error()
					}
				} else {
					res.Status[fmt.Sprint(code)]++
					latencies = append(latencies, d)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Seconds = elapsed.Seconds()
	res.PerSecond = float64(res.Requests) / elapsed.Seconds()
	res.P50Ms = ms(report.Percentile(latencies, 50))
	res.P90Ms = ms(report.Percentile(latencies, 90))
	res.P99Ms = ms(report.Percentile(latencies, 99))
	if len(latencies) > 0 {
		res.MaxMs = ms(latencies[len(latencies)-1])
	}
	return res, nil
}

func requireLoopback(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("base URL: %w", err)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("base URL %s: only loopback addresses are allowed", base)
	}
	return nil
}

func readPaths(file string) ([]string, error) {
	if file == "" {
		return nil, errors.New("-paths is required")
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var paths []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if p := strings.TrimSpace(sc.Text()); p != "" {
			if !strings.HasPrefix(p, "/") {
				return nil, fmt.Errorf("path %q does not start with /", p)
			}
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s holds no paths", file)
	}
	return paths, sc.Err()
}
