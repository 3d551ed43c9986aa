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
)

// readyTimeout bounds each dependency check of /readyz.
const readyTimeout = 2 * time.Second

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// ReadyResponse says which dependencies answer.
type ReadyResponse struct {
	Status string            `json:"status"` // ready or unavailable
	Checks map[string]string `json:"checks"` // dependency: "ok" or why not
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
	c.JSON(http.StatusOK, out)
}
