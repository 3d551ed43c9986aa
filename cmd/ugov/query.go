package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/apiclient"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
)

// ProposalList is what `list` prints.
type ProposalList struct {
	// Source is "api" (the index) or "chain".
	Source    string                   `json:"source"`
	Multisig  string                   `json:"multisig"`
	Proposals []apiclient.ProposalView `json:"proposals"`
}

func (l ProposalList) writeText(w io.Writer) {
	if len(l.Proposals) == 0 {
		fmt.Fprintf(w, "no proposals (%s)\n", l.Source)
		return
	}
	fmt.Fprintf(w, "%-5s %-44s %-10s %-9s %-44s %s\n", "INDEX", "PROPOSAL", "STATUS", "APPROVALS", "PROGRAM", "DESCRIPTION")
	for _, p := range l.Proposals {
		status, what := p.Status, p.TargetProgram
		if p.Stale {
			status = "stale"
		}
		if p.Kind == "config" {
			what = "config: " + oneLine(configSummary(p.Actions), 36)
		}
		fmt.Fprintf(w, "%-5d %-44s %-10s %-9s %-44s %s\n", p.Index, p.Address, status,
			fmt.Sprintf("%d/%d", p.ApprovalCount, p.Threshold), what, oneLine(p.Description, 60))
	}
}

// The statuses `list --status` accepts; "expired" is the index's, for active proposals past
// their lifetime.
var (
	chainStatuses = []string{"active", "approved", "executed", "cancelled"}
	indexStatuses = append(slices.Clone(chainStatuses), "expired")
)

func runList(ctx context.Context, e *env, args []string) (result, error) {
	fs := e.flagSet("list")
	multisigFlag := fs.String("multisig", "", "multisig `address`")
	status := fs.String("status", "", "only proposals with this `status`: "+strings.Join(indexStatuses, ", "))
	if _, err := e.parseCommand(fs, "list --multisig M [--status STATUS]", args); err != nil {
		return nil, err
	}
	multisig, err := parsePubkey("--multisig", *multisigFlag)
	if err != nil {
		return nil, err
	}
	if *status != "" && !slices.Contains(indexStatuses, *status) {
		return nil, usageError("--status", "want one of %s, got %q", strings.Join(indexStatuses, ", "), *status)
	}
	out := ProposalList{Multisig: multisig.String(), Proposals: []apiclient.ProposalView{}}
	if e.api != nil {
		out.Source = "api"
		f := apiclient.ListFilter{Multisig: multisig.String(), Status: *status, Limit: 500}
		for {
			page, err := e.api.ListProposals(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("list: %w", err)
			}
			out.Proposals = append(out.Proposals, page.Proposals...)
			if page.NextOffset == nil {
				return out, nil
			}
			f.Offset = *page.NextOffset
		}
	}
	if *status == "expired" {
		return nil, usageError("--status", "expired is the index's status: pass --api-url")
	}
	out.Source = "chain"
	ms, err := e.chain.GetMultisig(ctx, multisig)
	if err != nil {
		return nil, atField("--multisig", err)
	}
	ps, err := e.chain.ListProposals(ctx, multisig)
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	// Newest first, as the index lists them.
	for i := len(ps) - 1; i >= 0; i-- {
		v := proposalView(ps[i].Address, ps[i].Proposal, ms)
		if *status == "" || v.Status == *status {
			out.Proposals = append(out.Proposals, v)
		}
	}
	return out, nil
}

// ProposalShown is what `show` prints: the API's detail of a proposal (or, without the
// API, the chain's view in the same shape) and its migration's progress.
type ProposalShown struct {
	apiclient.ProposalDetail
	// Migration is the progress of the proposal's migration (API only; nil before it runs).
	Migration *apiclient.Migration `json:"migration,omitempty"`
}

func (s ProposalShown) writeText(w io.Writer) {
	p := s.Proposal
	fmt.Fprintf(w, "proposal     %s (#%d, from %s)\n", p.Address, p.Index, s.Source)
	if p.Kind == "config" {
		fmt.Fprintf(w, "multisig     %s\nkind         config (changes the multisig)\nproposer     %s\n", p.Multisig, p.Proposer)
		for _, a := range p.Actions {
			fmt.Fprintf(w, "change       %s\n", a.Summary)
		}
	} else {
		fmt.Fprintf(w, "multisig     %s\nprogram      %s\nbuffer       %s\nhash         %s\nproposer     %s\n",
			p.Multisig, p.TargetProgram, p.Buffer, p.BufferHash, p.Proposer)
	}
	if p.Description != "" {
		fmt.Fprintf(w, "description  %s\n", oneLine(p.Description, 200))
	}
	fmt.Fprintf(w, "status       %s (%d/%d approvals)\n", p.Status, p.ApprovalCount, p.Threshold)
	if p.Stale {
		fmt.Fprintf(w, "stale        %s\n", p.StaleReason)
	}
	if s.Paused != nil && *s.Paused {
		fmt.Fprintln(w, "paused       true (the multisig is paused: nothing executes or migrates)")
	}
	for _, a := range p.Approvals {
		fmt.Fprintf(w, "approved by  %s\n", a)
	}
	for _, t := range []struct {
		name string
		at   *time.Time
	}{{"created", p.CreatedAt}, {"approved", p.ApprovedAt}, {"eta", p.Eta}, {"expires", p.ExpiresAt}, {"executed", p.ExecutedAt}, {"closed", p.ClosedAt}} {
		if t.at != nil {
			fmt.Fprintf(w, "%-12s %s\n", t.name, t.at.UTC().Format(time.RFC3339))
		}
	}
	switch m := p.Migration; {
	case m != nil:
		size := "any size"
		if m.DataSize > 0 {
			size = fmt.Sprintf("%d bytes", m.DataSize)
		}
		fmt.Fprintf(w, "migration    accounts at layout version %d (version byte at offset %d, %s) to version %d\n",
			m.FromVersion, m.VersionOffset, size, m.TargetVersion)
		if p.MigrationSupersededBy != "" {
			fmt.Fprintf(w, "superseded   by %s: the plan can no longer run\n", p.MigrationSupersededBy)
		}
	case p.MigrationTargetVersion != nil:
		fmt.Fprintf(w, "migration    to layout version %d\n", *p.MigrationTargetVersion)
	}
	if s.Indexed != nil {
		fmt.Fprintf(w, "indexed      %s (%d approvals)\n", s.Indexed.Status, s.Indexed.ApprovalCount)
	}
	if wf := s.Workflow; wf != nil {
		fmt.Fprintf(w, "workflow     %s %s%s\n", wf.ID, wf.Status, stepOf(wf))
		if wf.State != nil && wf.State.LastError != "" {
			fmt.Fprintf(w, "last error   %s\n", oneLine(wf.State.LastError, 200))
		}
		if wf.QueryError != "" {
			fmt.Fprintf(w, "query        %s\n", wf.QueryError)
		}
	}
	if m := s.Migration; m != nil {
		switch {
		case m.State != nil:
			fmt.Fprintf(w, "migrated     %d/%d (%d failed, %s)\n", m.State.Migrated, m.State.Total, m.State.Failed, m.State.Status)
		case m.Job != nil:
			fmt.Fprintf(w, "migrated     %d/%d (%d failed, %s)\n", m.Job.Migrated, m.Job.Total, m.Job.Failed, m.Job.Status)
		}
	}
}

func runShow(ctx context.Context, e *env, args []string) (result, error) {
	fs := e.flagSet("show")
	pos, err := e.parseCommand(fs, "show PROPOSAL", args, "PROPOSAL")
	if err != nil {
		return nil, err
	}
	addr, err := parsePubkey("PROPOSAL", pos[0])
	if err != nil {
		return nil, err
	}
	if e.api == nil {
		p, ms, err := proposalOf(ctx, e.chain, addr)
		if err != nil {
			return nil, err
		}
		return ProposalShown{ProposalDetail: apiclient.ProposalDetail{
			Proposal: proposalView(addr, p, ms), Source: "chain", Paused: &ms.Paused, ApprovalHistory: []apiclient.ApprovalView{},
		}}, nil
	}
	d, err := e.api.GetProposal(ctx, addr.String())
	if err != nil {
		return nil, fmt.Errorf("show: %w", err)
	}
	out := ProposalShown{ProposalDetail: *d}
	// The migration runs after execution; its ID is the workflow's, or the documented one.
	id := ""
	if wf := d.Workflow; wf != nil && wf.State != nil && wf.State.MigrationWorkflowID != "" {
		id = wf.State.MigrationWorkflowID
	} else if d.Proposal.MigrationTargetVersion != nil && d.Proposal.Status == "executed" {
		id = apiclient.MigrationID(addr.String())
	}
	if id != "" {
		m, err := e.api.GetMigration(ctx, id)
		switch {
		case err == nil:
			out.Migration = m
		case !apiclient.IsCode(err, "not_found"):
			return nil, fmt.Errorf("show: migration %s: %w", id, err)
		}
	}
	return out, nil
}

// proposalView shows a proposal read from the chain the way the API does.
func proposalView(addr solana.PublicKey, p *governor.Proposal, ms *governor.Multisig) apiclient.ProposalView {
	v := apiclient.ProposalView{
		Address: addr.String(), Multisig: p.Multisig.String(), Index: p.Index,
		TargetProgram: p.TargetProgram.String(), Buffer: p.Buffer.String(),
		BufferHash: hex.EncodeToString(p.BufferHash[:]), Proposer: p.Proposer.String(),
		Description: p.Description, Status: chainStatus(p.Status), Approvals: keyStrings(p.Approvals),
		ApprovalCount: len(p.Approvals), Threshold: int(ms.Threshold),
		CreatedAt: unixTime(p.CreatedAt), ApprovedAt: unixTime(p.ApprovedAt), Eta: unixTime(p.Eta),
		ExpiresAt: unixTime(p.ExpiresAt), ExecutedAt: unixTime(p.ExecutedAt), ClosedAt: unixTime(p.CancelledAt),
		Kind: "upgrade",
	}
	if p.IsConfig() {
		v.Kind, v.Actions = "config", governor.ConfigActionsJSON(p.Actions)
		v.TargetProgram, v.Buffer, v.BufferHash = "", "", ""
	}
	if ms.IsStale(p.Index) && (p.Status == governor.ProposalActive || p.Status == governor.ProposalApproved) {
		v.Stale, v.StaleReason = true, lifecycle.StaleReason
	}
	if p.Migration != nil {
		t := int(p.Migration.TargetVersion)
		v.MigrationTargetVersion = &t
		v.Migration = &apiclient.SignedMigration{TargetVersion: t, FromVersion: int(p.Migration.FromVersion),
			DataSize: p.Migration.DataSize, VersionOffset: p.Migration.VersionOffset,
			InstructionData: base64.StdEncoding.EncodeToString(p.Migration.InstructionData)}
	}
	return v
}

// configSummary joins a config proposal's changes.
func configSummary(actions []governor.ConfigActionJSON) string {
	parts := make([]string, 0, len(actions))
	for _, a := range actions {
		parts = append(parts, a.Summary)
	}
	return strings.Join(parts, "; ")
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		return string(r[:max-1]) + "…"
	}
	return s
}
