package api

import (
	"math"
	"net/http"
	"time"

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
	GraceSeconds int64 `json:"grace_seconds"`
	// A pause by fewer than threshold members lapses after MaxPauseSeconds; the key whose pause
	// lapsed or was overruled waits PauseCooldownSeconds before it may pause again.
	MaxPauseSeconds      int64  `json:"max_pause_seconds"`
	PauseCooldownSeconds int64  `json:"pause_cooldown_seconds"`
	Guardian             string `json:"guardian"`
	// Paused is the effective pause at the chain's clock (a lapsed pause is none).
	Paused bool `json:"paused"`
	// PauseExpiresAt is when the pause lapses; null when not paused or held by the threshold.
	PauseExpiresAt *time.Time `json:"pause_expires_at"`
	PausedBy       string     `json:"paused_by,omitempty"`
	// PauseVotes hold the pause; ResumeVotes vote to lift it (threshold of each decides).
	PauseVotes  []string `json:"pause_votes"`
	ResumeVotes []string `json:"resume_votes"`
	// ProposalIndex is the index of the latest proposal; the next one is ProposalIndex+1.
	ProposalIndex uint64 `json:"proposal_index"`
	// StaleProposalIndex: proposals up to this index were made stale by a config change of the
	// members or threshold (0: none).
	StaleProposalIndex uint64 `json:"stale_proposal_index"`
	// History is the multisig's configurations the index recorded, newest first: who was a
	// member when, set by which config proposal (empty for a multisig this server does not serve).
	History []MultisigConfigView `json:"history"`
}

// getMultisig reads a multisig from the chain, the source of truth for governance state.
func (s *Server) getMultisig(c *gin.Context) {
	addr, err := pubkeyField("address", c.Param("address"))
	if err != nil {
		respond(c, err)
		return
	}
	ms, now, err := s.systemState(c.Request.Context(), addr, "address")
	if err != nil {
		respond(c, err)
		return
	}
	authority, _ := governor.FindAuthorityAddress(addr)
	v := MultisigView{
		Address: addr.String(), Authority: authority.String(), Members: keys(ms.Members),
		Threshold: int(ms.Threshold), TimelockSeconds: ms.TimelockSeconds,
		ProposalLifetimeSeconds: ms.ProposalLifetimeSeconds, GraceSeconds: ms.GraceSeconds,
		MaxPauseSeconds: ms.MaxPauseSeconds, PauseCooldownSeconds: ms.PauseCooldownSeconds,
		Guardian: ms.Guardian.String(), Paused: ms.IsPaused(now), ProposalIndex: ms.ProposalIndex,
		PauseVotes: []string{}, ResumeVotes: []string{}, StaleProposalIndex: ms.StaleProposalIndex,
	}
	history, err := s.store.ListMultisigConfigs(c.Request.Context(), addr.String(), 100)
	if err != nil {
		respond(c, err)
		return
	}
	v.History = configHistoryView(history)
	if v.Paused {
		v.PausedBy, v.PauseVotes, v.ResumeVotes = ms.PausedBy.String(), keys(ms.PauseVotes), keys(ms.ResumeVotes)
		if ms.PauseExpiresAt != math.MaxInt64 {
			t := time.Unix(ms.PauseExpiresAt, 0).UTC()
			v.PauseExpiresAt = &t
		}
	}
	c.JSON(http.StatusOK, v)
}
