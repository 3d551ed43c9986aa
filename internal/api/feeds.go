package api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/notify"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
)

// Feeds are public: a program's users watch what is coming without a token. They show served
// multisigs only, and are cacheable (a minute, with an ETag).
const (
	feedMaxAge = 60 * time.Second
	// feedRecent is how long a settled proposal stays in a feed.
	feedRecent = 30 * 24 * time.Hour
	feedLimit  = 50
)

// FeedUpgrade is one proposal of a feed.
type FeedUpgrade struct {
	Proposal    string          `json:"proposal"`
	Index       uint64          `json:"index"`
	Kind        string          `json:"kind"`
	Multisig    string          `json:"multisig"`
	Program     string          `json:"program,omitempty"`
	Buffer      string          `json:"buffer,omitempty"`
	BufferHash  string          `json:"buffer_hash,omitempty"`
	Actions     json.RawMessage `json:"actions,omitempty"`
	Description string          `json:"description"`
	Status      string          `json:"status"`
	Approvals   int             `json:"approvals"`
	Threshold   int             `json:"threshold"`
	ApprovedBy  []string        `json:"approved_by"`
	Eta         *time.Time      `json:"eta,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	ExecutedAt  *time.Time      `json:"executed_at,omitempty"`
	ClosedAt    *time.Time      `json:"closed_at,omitempty"`
	// URL is the proposal's page on the members' UI.
	URL string `json:"url"`
}

// FeedResponse is the JSON feed of a multisig's or a program's pending and recent upgrades.
type FeedResponse struct {
	Title    string        `json:"title"`
	Multisig string        `json:"multisig,omitempty"`
	Program  string        `json:"program,omitempty"`
	Updated  time.Time     `json:"updated"`
	AtomURL  string        `json:"atom_url"`
	Upgrades []FeedUpgrade `json:"upgrades"`
}

// feedName splits "<address>.atom" or "<address>.json".
func feedName(c *gin.Context) (solana.PublicKey, string, error) {
	name := c.Param("feed")
	addr, format, ok := strings.Cut(name, ".")
	if !ok || (format != "atom" && format != "json") {
		return solana.PublicKey{}, "", invalidField("feed", "want <address>.atom or <address>.json, got %q", name)
	}
	k, err := solana.PublicKeyFromBase58(addr)
	if err != nil {
		return solana.PublicKey{}, "", invalidField("feed", "%q is not a base58 address", addr)
	}
	return k, format, nil
}

func (s *Server) multisigFeed(c *gin.Context) {
	ctx := c.Request.Context()
	addr, format, err := feedName(c)
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.requireServed(ctx, addr, "feed"); err != nil {
		respond(c, err)
		return
	}
	s.serveFeed(c, format, store.FeedFilter{Multisig: addr.String()}, "Upgrades of multisig "+addr.String(), "multisigs/"+addr.String())
}

func (s *Server) programFeed(c *gin.Context) {
	ctx := c.Request.Context()
	addr, format, err := feedName(c)
	if err != nil {
		respond(c, err)
		return
	}
	served, err := s.store.ProgramServed(ctx, addr.String())
	if err != nil {
		respond(c, err)
		return
	}
	if !served {
		respond(c, newError(http.StatusNotFound, CodeNotFound, "feed",
			"no multisig served by this deployment has proposed an upgrade of program %s", addr))
		return
	}
	s.serveFeed(c, format, store.FeedFilter{Program: addr.String()}, "Upgrades of program "+addr.String(), "programs/"+addr.String())
}

func (s *Server) serveFeed(c *gin.Context, format string, f store.FeedFilter, title, path string) {
	ctx := c.Request.Context()
	f.Since, f.Limit = time.Now().Add(-feedRecent), feedLimit
	list, err := s.store.FeedProposals(ctx, f)
	if err != nil {
		respond(c, err)
		return
	}
	base := strings.TrimRight(s.cfg.PublicURL, "/")
	out := FeedResponse{Title: title, Multisig: f.Multisig, Program: f.Program, Upgrades: []FeedUpgrade{},
		AtomURL: base + "/feeds/" + path + ".atom"}
	for _, p := range list {
		approvals, err := s.store.ListApprovals(ctx, p.Address)
		if err != nil {
			respond(c, err)
			return
		}
		by := make([]string, 0, len(approvals))
		for _, a := range approvals {
			by = append(by, a.Member)
		}
		u := FeedUpgrade{
			Proposal: p.Address, Index: p.Index, Kind: p.Kind, Multisig: p.Multisig, Description: p.Description,
			Status: string(p.Status), Approvals: p.Approvals, Threshold: p.Threshold, ApprovedBy: by, Eta: p.ETA,
			CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(), ExecutedAt: p.ExecutedAt, ClosedAt: p.ClosedAt,
			URL: notify.ProposalURL(s.cfg.PublicURL, p.Address),
		}
		if p.Kind == store.KindConfig {
			u.Actions = p.ConfigActions
		} else {
			u.Program, u.Buffer, u.BufferHash = p.TargetProgram, p.Buffer, p.BufferHash
		}
		if p.UpdatedAt.After(out.Updated) {
			out.Updated = p.UpdatedAt.UTC()
		}
		out.Upgrades = append(out.Upgrades, u)
	}
	if out.Updated.IsZero() {
		out.Updated = time.Unix(0, 0).UTC()
	}
	var body []byte
	contentType := "application/json; charset=utf-8"
	if format == "atom" {
		body, err = atomFeed(out, base+"/feeds/"+path)
		contentType = "application/atom+xml; charset=utf-8"
	} else {
		body, err = json.Marshal(out)
	}
	if err != nil {
		respond(c, err)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + hex.EncodeToString(sum[:16]) + `"`
	c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", int(feedMaxAge.Seconds())))
	c.Header("ETag", etag)
	c.Header("Last-Modified", out.Updated.Format(http.TimeFormat))
	if match := c.GetHeader("If-None-Match"); match != "" && strings.Contains(match, etag) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, contentType, body)
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string   `xml:"id"`
	Title     string   `xml:"title"`
	Updated   string   `xml:"updated"`
	Published string   `xml:"published"`
	Link      atomLink `xml:"link"`
	Summary   atomText `xml:"summary"`
	Content   atomText `xml:"content"`
}

type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  string      `xml:"author>name"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

// atomFeed renders the feed as Atom (RFC 4287); each entry's content is the upgrade as JSON text.
func atomFeed(f FeedResponse, self string) ([]byte, error) {
	doc := atomDoc{
		ID:    "urn:upgrade-governor:feed:" + strings.TrimPrefix(self[strings.Index(self, "/feeds/")+len("/feeds/"):], "/"),
		Title: f.Title, Updated: f.Updated.Format(time.RFC3339), Author: "upgrade-governor",
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: self + ".atom"},
			{Rel: "alternate", Type: "application/json", Href: self + ".json"}},
	}
	for _, u := range f.Upgrades {
		title := fmt.Sprintf("%s: upgrade #%d of %s", u.Status, u.Index, u.Program)
		if u.Kind == store.KindConfig {
			title = fmt.Sprintf("%s: config proposal #%d of %s", u.Status, u.Index, u.Multisig)
		}
		summary := fmt.Sprintf("%s. Approvals %d of %d.", oneLineText(u.Description), u.Approvals, u.Threshold)
		if u.BufferHash != "" {
			summary += " Buffer hash " + u.BufferHash + "."
		}
		if u.Eta != nil {
			summary += " Executes at or after " + u.Eta.UTC().Format(time.RFC3339) + "."
		}
		content, err := json.Marshal(u)
		if err != nil {
			return nil, err
		}
		doc.Entries = append(doc.Entries, atomEntry{
			ID: "urn:upgrade-governor:proposal:" + u.Proposal, Title: title,
			Updated: u.UpdatedAt.Format(time.RFC3339), Published: u.CreatedAt.Format(time.RFC3339),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: u.URL},
			Summary: atomText{Type: "text", Body: summary}, Content: atomText{Type: "text", Body: string(content)},
		})
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

func oneLineText(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "No description"
	}
	return s
}
