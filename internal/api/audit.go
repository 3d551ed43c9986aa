package api

import (
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// AuditResponse is one page of the audit trail, newest first.
type AuditResponse struct {
	Entries []AuditEntryView `json:"entries"`
	// Next is the `before` of the following page; null on the last page.
	Next *int64 `json:"next"`
}

var (
	auditActionPattern = regexp.MustCompile(`^[a-z][a-z_]*\.[a-z][a-z_]*$`)
	auditActorPattern  = regexp.MustCompile(`^\S{1,128}$`)
)

func (s *Server) listAudit(c *gin.Context) {
	var f store.AuditFilter
	var err error
	if f.Proposal, err = queryPubkey(c, "proposal"); err != nil {
		respond(c, err)
		return
	}
	if f.Actor = c.Query("actor"); f.Actor != "" && !auditActorPattern.MatchString(f.Actor) {
		respond(c, invalidField("actor", "an actor is 1 to 128 characters without spaces"))
		return
	}
	if f.Action = c.Query("action"); f.Action != "" && !auditActionPattern.MatchString(f.Action) {
		respond(c, invalidField("action", "an action looks like noun.verb (approval.recorded)"))
		return
	}
	if f.Since, err = queryTime(c, "since"); err != nil {
		respond(c, err)
		return
	}
	before, err := queryInt(c, "before", 0, 1, 1<<62)
	if err != nil {
		respond(c, err)
		return
	}
	f.Before = int64(before)
	if f.Limit, err = queryInt(c, "limit", 100, 1, 1000); err != nil {
		respond(c, err)
		return
	}
	page, err := s.store.ListAudit(c.Request.Context(), f)
	if err != nil {
		respond(c, err)
		return
	}
	out := AuditResponse{Entries: []AuditEntryView{}}
	for _, e := range page.Entries {
		out.Entries = append(out.Entries, AuditEntryView{
			ID: e.ID, At: e.At.UTC(), AtClock: e.AtClock, RecordedAt: e.RecordedAt.UTC(), Actor: e.Actor, Action: e.Action, Proposal: e.Proposal,
			Signature: e.Signature, Slot: e.Slot, Source: string(e.Source), Details: e.Details,
		})
	}
	if page.Next != 0 {
		out.Next = &page.Next
	}
	c.JSON(http.StatusOK, out)
}
