package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// MultisigView is a multisig as the chain holds it: who governs, how many must agree, how
// long users have to exit, and whether the system is paused.
type MultisigView struct {
	Address string `json:"address"`
	// Authority is the PDA that holds the governed programs' upgrade authority.
	Authority               string   `json:"authority"`
	Members                 []string `json:"members"`
	Threshold               int      `json:"threshold"`
	TimelockSeconds         int64    `json:"timelock_seconds"`
	ProposalLifetimeSeconds int64    `json:"proposal_lifetime_seconds"`
	// GraceSeconds: an approved proposal may execute until eta + grace, then it expires.
	GraceSeconds int64  `json:"grace_seconds"`
	Guardian     string `json:"guardian"`
	Paused       bool   `json:"paused"`
	// ProposalIndex is the index of the latest proposal; the next one is ProposalIndex+1.
	ProposalIndex uint64 `json:"proposal_index"`
}

// getMultisig reads a multisig from the chain, the source of truth for governance state.
func (s *Server) getMultisig(c *gin.Context) {
	addr, err := pubkeyField("address", c.Param("address"))
	if err != nil {
		respond(c, err)
		return
	}
	ms, err := s.governedMultisig(c.Request.Context(), addr, "address")
	if err != nil {
		respond(c, err)
		return
	}
	authority, _ := governor.FindAuthorityAddress(addr)
	c.JSON(http.StatusOK, MultisigView{
		Address: addr.String(), Authority: authority.String(), Members: keys(ms.Members),
		Threshold: int(ms.Threshold), TimelockSeconds: ms.TimelockSeconds,
		ProposalLifetimeSeconds: ms.ProposalLifetimeSeconds, GraceSeconds: ms.GraceSeconds, Guardian: ms.Guardian.String(),
		Paused: ms.Paused, ProposalIndex: ms.ProposalIndex,
	})
}
