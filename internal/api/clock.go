package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// ClockResponse is the cluster's clock: timelocks and expiry follow it, not the reader's.
type ClockResponse struct {
	ChainTime  time.Time `json:"chain_time"`
	ServerTime time.Time `json:"server_time"`
}

// clock reads the Clock sysvar, so pages count down by the chain's clock (a test chain's time
// travel, or a cluster clock that drifts from the browser's).
func (s *Server) clock(c *gin.Context) {
	now, err := s.chain.ChainTime(c.Request.Context())
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, ClockResponse{ChainTime: time.Unix(now, 0).UTC(), ServerTime: time.Now().UTC()})
}
