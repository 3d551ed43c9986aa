package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/store"
	"github.com/upgrade-governor/upgrade-governor/workflows"
)

// Config proposals (issue #17): the multisig changes its members, threshold, timelock,
// lifetime, grace or guardian, or hands a governed program's upgrade authority on, through the
// same propose, approve, timelock and execute as an upgrade.

// parseConfigActions parses the JSON actions, naming the bad one ("actions[1].member").
func parseConfigActions(in []governor.ConfigActionJSON) ([]governor.ConfigAction, error) {
	if len(in) == 0 {
		return nil, badRequest(CodeMissingField, "actions", "a config proposal needs at least one action")
	}
	if len(in) > governor.MaxConfigActions {
		return nil, invalidField("actions", "%d actions; at most %d in one proposal", len(in), governor.MaxConfigActions)
	}
	out := make([]governor.ConfigAction, 0, len(in))
	for i, j := range in {
		a, err := j.Action()
		var fe *governor.ConfigActionFieldError
		if errors.As(err, &fe) {
			return nil, invalidField(fmt.Sprintf("actions[%d].%s", i, fe.Field), "%s", fe.Msg)
		}
		if err != nil {
			return nil, invalidField(fmt.Sprintf("actions[%d]", i), "%v", err)
		}
		out = append(out, a)
	}
	return out, nil
}

// refusedByProgram runs tx against the chain's current state: a program error means the
// program would refuse it when it lands, and is answered 422 naming its rule. The rules of
// the multisig's configuration are stated once, in the program.
func (s *Server) refusedByProgram(ctx context.Context, tx *solana.Transaction, field string) error {
	err := s.chain.Simulate(ctx, tx)
	var pe *chain.ProgramError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.Name != "":
		return newError(http.StatusUnprocessableEntity, CodeConfigRefused, field, "the program refuses it: %s (%s)", pe.Msg, pe.Name)
	case errors.Is(err, chain.ErrBlockhashExpired):
		return newError(http.StatusUnprocessableEntity, CodeBlockhashExpired, field,
			"blockhash %s has expired, so the transaction cannot land: build and sign a new one", tx.Message.RecentBlockhash)
	}
	return err
}

type buildProposeConfigBody struct {
	Multisig    string                      `json:"multisig"`
	Proposer    string                      `json:"proposer"`
	FeePayer    string                      `json:"fee_payer"`
	Actions     []governor.ConfigActionJSON `json:"actions"`
	Description string                      `json:"description"`
}

// buildProposeConfig answers POST /tx/propose-config: the unsigned propose_config
// transaction, after the program has been asked (by simulation) whether it accepts the changes.
func (s *Server) buildProposeConfig(c *gin.Context) {
	ctx := c.Request.Context()
	var b buildProposeConfigBody
	if err := bindJSON(c, &b); err != nil {
		respond(c, err)
		return
	}
	multisig, proposer, payer, err := proposerFields(b.Multisig, b.Proposer, b.FeePayer)
	if err != nil {
		respond(c, err)
		return
	}
	actions, err := parseConfigActions(b.Actions)
	if err != nil {
		respond(c, err)
		return
	}
	if len(b.Description) > governor.MaxDescriptionLen {
		respond(c, invalidField("description", "at most %d bytes", governor.MaxDescriptionLen))
		return
	}
	ms, err := s.proposersMultisig(ctx, multisig, proposer)
	if err != nil {
		respond(c, err)
		return
	}
	index := ms.ProposalIndex + 1
	ix := governor.NewProposeConfigInstruction(multisig, index, proposer, payer,
		governor.ProposeConfigArgs{Actions: actions, Description: b.Description})
	out, tx, err := s.unsignedTx(ctx, ix, payer, TxSummary{
		Multisig: multisig.String(), Proposal: ix.Proposal.String(), ProposalIndex: index,
		Description: b.Description, Actions: governor.ConfigActionsJSON(actions), Then: "POST /proposals",
	})
	if err != nil {
		respond(c, err)
		return
	}
	if err := s.refusedByProgram(ctx, tx, "actions"); err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// createConfigProposal is POST /proposals with a member-signed propose_config transaction.
func (s *Server) createConfigProposal(c *gin.Context, body createProposalBody, tx *signedTx, ix *governor.ProposeConfig) {
	ctx := c.Request.Context()
	description := ix.Args.Description
	if body.Description != nil && *body.Description != description {
		respond(c, invalidField("description", "differs from the description the transaction proposes (%q)", description))
		return
	}
	if body.Migration != nil {
		respond(c, badRequest(CodeMigrationMismatch, "migration", "a config proposal migrates no accounts"))
		return
	}
	if authority, _ := governor.FindAuthorityAddress(ix.Multisig); !ix.Authority.Equals(authority) {
		respond(c, badRequest(CodeWrongMultisig, "transaction", "authority %s is not the multisig's authority PDA %s", ix.Authority, authority))
		return
	}
	if n := len(ix.Args.Actions); n == 0 || n > governor.MaxConfigActions {
		respond(c, invalidField("transaction", "the transaction proposes %d actions; want 1 to %d", n, governor.MaxConfigActions))
		return
	}
	ms, err := s.governedMultisig(ctx, ix.Multisig, "transaction")
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, ix.Proposer, false, "transaction"); err != nil {
		respond(c, err)
		return
	}
	actions := governor.ConfigActionsJSON(ix.Args.Actions)
	summaries := make([]string, 0, len(actions))
	for _, a := range actions {
		summaries = append(summaries, a.Summary)
	}
	s.startProposal(c, proposalStart{
		tx: tx, multisig: ix.Multisig, proposal: ix.Proposal, proposer: ix.Proposer, ms: ms,
		checkNew: func(ctx context.Context) error { return s.refusedByProgram(ctx, tx.tx, "transaction") },
		matchesChain: func(p *governor.Proposal) bool {
			return p.IsConfig() && p.Proposer.Equals(ix.Proposer) && slices.EqualFunc(p.Actions, ix.Args.Actions, sameAction)
		},
		summary: "Config: " + strings.Join(summaries, "; "),
		input: workflows.ProposalInput{
			Proposal: ix.Proposal.String(), Multisig: ix.Multisig.String(), Proposer: ix.Proposer.String(),
			Description: description, ProposeTx: tx.raw, Kind: store.KindConfig, Actions: actions,
		},
		details: map[string]any{"kind": store.KindConfig, "actions": actions},
	})
}

func sameAction(a, b governor.ConfigAction) bool {
	ja, _ := json.Marshal(a.JSON())
	jb, _ := json.Marshal(b.JSON())
	return string(ja) == string(jb)
}

// staleProposal refuses approving or executing a proposal a config change made stale.
func staleProposal(p *governor.Proposal, ms *governor.Multisig, addr solana.PublicKey) error {
	if !ms.IsStale(p.Index) {
		return nil
	}
	return newError(http.StatusConflict, CodeStaleProposal, "id",
		"proposal %s is stale: a config change of the members or threshold executed after it was created (index %d, stale up to %d); propose it again",
		addr, p.Index, ms.StaleProposalIndex)
}

// guardianCannotCancel refuses the guardian's cancel of a proposal that replaces the guardian.
func guardianCannotCancel(p *governor.Proposal, canceller solana.PublicKey, ms *governor.Multisig, addr solana.PublicKey) error {
	if !canceller.Equals(ms.Guardian) || !p.IsConfig() || !governor.ReplacesGuardian(p.Actions) {
		return nil
	}
	return newError(http.StatusForbidden, CodeForbidden, "transaction",
		"proposal %s replaces the guardian: the guardian cannot cancel it (members can, by threshold cancel votes)", addr)
}

// MultisigConfigView is one configuration in a multisig's history.
type MultisigConfigView struct {
	Signature               string    `json:"signature"`
	Slot                    uint64    `json:"slot"`
	Proposal                string    `json:"proposal,omitempty"`
	EffectiveAt             time.Time `json:"effective_at"`
	Members                 []string  `json:"members"`
	Threshold               int       `json:"threshold"`
	TimelockSeconds         int64     `json:"timelock_seconds"`
	ProposalLifetimeSeconds int64     `json:"proposal_lifetime_seconds"`
	GraceSeconds            *int64    `json:"grace_seconds"`
	Guardian                string    `json:"guardian"`
	StaleProposalIndex      uint64    `json:"stale_proposal_index"`
}

func configHistoryView(cfgs []store.MultisigConfig) []MultisigConfigView {
	out := make([]MultisigConfigView, 0, len(cfgs))
	for _, c := range cfgs {
		out = append(out, MultisigConfigView{
			Signature: c.Signature, Slot: c.Slot, Proposal: c.Proposal, EffectiveAt: c.EffectiveAt.UTC(),
			Members: c.Members, Threshold: c.Threshold, TimelockSeconds: c.TimelockSeconds,
			ProposalLifetimeSeconds: c.ProposalLifetimeSeconds, GraceSeconds: c.GraceSeconds, Guardian: c.Guardian,
			StaleProposalIndex: c.StaleProposalIndex,
		})
	}
	return out
}
