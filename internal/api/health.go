package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// readyTimeout bounds each dependency check of /readyz.
const readyTimeout = 2 * time.Second

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// ReadyResponse says which dependencies answer.
type ReadyResponse struct {
	// ready, degraded (serving, but the worker's fee payer is under its floor) or unavailable.
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"` // dependency: "ok" or why not
	// WorkerKeys are the balances of the keys running workers registered (the fee payer that
	// pays execute, ExtendProgram rent and migrations; the guardian's emergency cancels).
	WorkerKeys []KeyBalance `json:"worker_keys"`
	// Code and Message are set when not ready, as in every error answer.
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
}

// readyz checks PostgreSQL, Temporal and the RPC node at once and names what is down.
func (s *Server) readyz(c *gin.Context) {
	checks := map[string]func(context.Context) error{
		"postgres": s.store.Ping,
		"temporal": func(ctx context.Context) error {
			_, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		"rpc": s.chain.Health,
	}
	out := ReadyResponse{Status: "ready", Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, check := range checks {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
			defer cancel()
			err := check(ctx)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				// The cause goes to the log; the answer says only that it is down, so no
				// address or credential leaks to whoever can reach /readyz.
				logger(c).Warn("readiness check failed", "dependency", name, "error", err)
				out.Checks[name] = "down"
				return
			}
			out.Checks[name] = "ok"
		})
	}
	wg.Wait()
	var down []string
	for name, v := range out.Checks {
		if v != "ok" {
			down = append(down, name)
		}
	}
	if len(down) > 0 {
		sort.Strings(down)
		out.Status, out.Code = "unavailable", CodeNotReady
		out.Message = fmt.Sprintf("not ready: %s down", strings.Join(down, ", "))
		c.JSON(http.StatusServiceUnavailable, out)
		return
	}
	s.checkWorkerKeys(c, &out)
	c.JSON(http.StatusOK, out)
}

// checkWorkerKeys reports the worker keys' balances; a fee payer under its floor makes the
// server degraded (it still serves: members can approve, and the guardian's key, paid apart,
// still stops upgrades), with a message naming the key to fund.
func (s *Server) checkWorkerKeys(c *gin.Context, out *ReadyResponse) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	keys, err := s.workerBalances(ctx)
	if err != nil {
		logger(c).Warn("readiness: worker key balances", "error", err)
		out.Checks["fee_payer"] = "unknown"
		return
	}
	out.WorkerKeys = keys
	var low []string
	payers := 0
	for _, k := range keys {
		if k.Role != store.KeyFeePayer {
			continue
		}
		payers++
		if k.Low {
			low = append(low, fmt.Sprintf("%s has %d lamports", k.Address, k.Lamports))
		}
	}
	switch {
	case payers == 0:
		out.Checks["fee_payer"] = "none registered"
	case len(low) > 0:
		out.Checks["fee_payer"] = "low"
		out.Status, out.Code = "degraded", CodeFeePayerLow
		out.Message = fmt.Sprintf("fee payer under %d lamports: %s; fund it, or execution and migrations stop",
			s.cfg.FeePayerMin(), strings.Join(low, ", "))
	default:
		out.Checks["fee_payer"] = "ok"
	}
}
