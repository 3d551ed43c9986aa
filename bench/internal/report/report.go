// Package report prints benchmark figures as one table, writes them as JSON, and reads what
// the figures depend on: the machine's load and a process's memory.
package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Table is a list of figures, grouped by section.
type Table struct {
	rows []row
}

type row struct {
	section, name, value, note string
}

// Add appends a figure.
func (t *Table) Add(section, name, value, note string) {
	t.rows = append(t.rows, row{section, name, value, note})
}

// Print writes the table, one figure a line, a blank line between sections.
func (t *Table) Print(w io.Writer) {
	wName, wValue := 0, 0
	for _, r := range t.rows {
		wName, wValue = max(wName, len(r.name)), max(wValue, len(r.value))
	}
	section := ""
	for _, r := range t.rows {
		if r.section != section {
			section = r.section
			fmt.Fprintf(w, "\n%s\n", strings.ToUpper(section))
		}
		fmt.Fprintf(w, "  %-*s  %*s  %s\n", wName, r.name, wValue, r.value, r.note)
	}
}

// WriteJSON writes v, indented, to path.
func WriteJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Load is the machine's load when a figure was taken.
type Load struct {
	At      time.Time `json:"at"`
	Uptime  string    `json:"uptime"`
	LoadAvg []float64 `json:"load_avg"` // 1, 5, 15 minutes
	CPUs    int       `json:"cpus"`
}

// ReadLoad reads /proc/loadavg and `uptime`.
func ReadLoad() Load {
	l := Load{At: time.Now().UTC(), CPUs: cpus()}
	if out, err := exec.Command("uptime").Output(); err == nil {
		l.Uptime = strings.TrimSpace(string(out))
	}
	if raw, err := os.ReadFile("/proc/loadavg"); err == nil {
		for _, f := range strings.Fields(string(raw))[:3] {
			v, _ := strconv.ParseFloat(f, 64)
			l.LoadAvg = append(l.LoadAvg, v)
		}
	}
	return l
}

func (l Load) String() string {
	if len(l.LoadAvg) < 3 {
		return l.Uptime
	}
	return fmt.Sprintf("load average %.2f %.2f %.2f on %d CPUs", l.LoadAvg[0], l.LoadAvg[1], l.LoadAvg[2], l.CPUs)
}

func cpus() int {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "processor") {
			n++
		}
	}
	return n
}

// Memory reads VmRSS and VmHWM (peak RSS) of a process, in bytes.
func Memory(pid int) (rss, peak int64, err error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = kb * 1024
		case "VmHWM":
			peak = kb * 1024
		}
	}
	return rss, peak, nil
}

// Sampler records a process's largest RSS per phase, sampled every interval.
type Sampler struct {
	mu    sync.Mutex
	phase string
	peaks map[string]int64
	stop  chan struct{}
	done  chan struct{}
	once  sync.Once
}

// Sample starts sampling pid; phase names the phase samples count toward until SetPhase.
func Sample(pid int, interval time.Duration, phase string) *Sampler {
	s := &Sampler{phase: phase, peaks: map[string]int64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			if rss, _, err := Memory(pid); err == nil {
				s.mu.Lock()
				s.peaks[s.phase] = max(s.peaks[s.phase], rss)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-time.After(interval):
			}
		}
	}()
	return s
}

// SetPhase names the phase later samples count toward.
func (s *Sampler) SetPhase(p string) { s.mu.Lock(); s.phase = p; s.mu.Unlock() }

// Stop ends sampling (once; later calls just read) and returns the largest RSS seen in each phase.
func (s *Sampler) Stop() map[string]int64 {
	s.once.Do(func() { close(s.stop) })
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peaks
}

// MiB formats bytes as mebibytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Percentile returns the p-th percentile (0-100) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// LoadResult is what bench/cmd/loadgen prints (as JSON) for one run.
type LoadResult struct {
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
}
