package api

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/gagliardetto/solana-go"
	"github.com/gin-gonic/gin"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/lifecycle"
)

// UnsignedTxResponse is a transaction for wallets to sign: the member signs Message (the
// exact bytes the signatures cover) and posts Transaction with the signatures filled in to
// the governance route.
type UnsignedTxResponse struct {
	// Transaction is the wire transaction, base64, with zeroed signatures.
	Transaction string `json:"transaction"`
	// Message is the message bytes to sign, base64.
	Message string    `json:"message"`
	Summary TxSummary `json:"summary"`
}

// TxSummary says in words what the transaction does, for a person to check before signing.
type TxSummary struct {
	Instruction   string `json:"instruction"`
	Multisig      string `json:"multisig"`
	Proposal      string `json:"proposal,omitempty"`
	ProposalIndex uint64 `json:"proposal_index,omitempty"`
	Program       string `json:"program,omitempty"`
	Buffer        string `json:"buffer,omitempty"`
	BufferHash    string `json:"buffer_hash,omitempty"`
	Description   string `json:"description,omitempty"`
	Migration     *int   `json:"migration_target_version,omitempty"`
	// Actions are a config proposal's changes, each with a summary in words.
	Actions   []governor.ConfigActionJSON `json:"actions,omitempty"`
	FeePayer  string                      `json:"fee_payer"`
	Signers   []string                    `json:"signers"`
	Blockhash string                      `json:"blockhash"`
	// Then is the route to post the signed transaction to.
	Then string `json:"then"`
}

// unsigned builds the transaction with a fresh blockhash and empty signatures.
func (s *Server) unsigned(ctx context.Context, ix governor.Instruction, payer solana.PublicKey, sum TxSummary) (UnsignedTxResponse, error) {
	out, _, err := s.unsignedTx(ctx, ix, payer, sum)
	return out, err
}

// unsignedTx is unsigned, with the transaction itself (to simulate it).
func (s *Server) unsignedTx(ctx context.Context, ix governor.Instruction, payer solana.PublicKey, sum TxSummary) (UnsignedTxResponse, *solana.Transaction, error) {
	if err := ix.Validate(); err != nil {
		return UnsignedTxResponse{}, nil, badRequest(CodeInvalidField, "", "%v", err)
	}
	bh, err := s.chain.LatestBlockhash(ctx)
	if err != nil {
		return UnsignedTxResponse{}, nil, err
	}
	// Members sign a unit limit from simulation and the deployment's priority fee with it.
	tx, err := solana.NewTransaction(s.chain.Budgeted(ctx, []solana.Instruction{ix}, payer), bh, solana.TransactionPayer(payer))
	if err != nil {
		return UnsignedTxResponse{}, nil, fmt.Errorf("build %s transaction: %w", ix.Name(), err)
	}
	n := int(tx.Message.Header.NumRequiredSignatures)
	tx.Signatures = make([]solana.Signature, n)
	wire, err := tx.MarshalBinary()
	if err != nil {
		return UnsignedTxResponse{}, nil, fmt.Errorf("encode %s transaction: %w", ix.Name(), err)
	}
	msg, err := tx.Message.MarshalBinary()
	if err != nil {
		return UnsignedTxResponse{}, nil, fmt.Errorf("encode %s message: %w", ix.Name(), err)
	}
	sum.Instruction, sum.FeePayer, sum.Blockhash = ix.Name(), payer.String(), bh.String()
	sum.Signers = keys(tx.Message.AccountKeys[:n])
	return UnsignedTxResponse{
		Transaction: base64.StdEncoding.EncodeToString(wire),
		Message:     base64.StdEncoding.EncodeToString(msg),
		Summary:     sum,
	}, tx, nil
}

func (s *Server) replyUnsigned(c *gin.Context, ix governor.Instruction, payer solana.PublicKey, sum TxSummary) {
	out, err := s.unsigned(c.Request.Context(), ix, payer, sum)
	if err != nil {
		respond(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// proposerFields parses what every propose builder takes: the multisig, the proposer and the
// optional fee payer (the proposer by default).
func proposerFields(multisig, proposer, feePayer string) (ms, prop, payer solana.PublicKey, err error) {
	if ms, err = pubkeyField("multisig", multisig); err != nil {
		return
	}
	if prop, err = pubkeyField("proposer", proposer); err != nil {
		return
	}
	payer, err = optionalPayer(feePayer, prop)
	return
}

// proposersMultisig reads the multisig a builder proposes to (served) and checks the proposer
// is a member.
func (s *Server) proposersMultisig(ctx context.Context, multisig, proposer solana.PublicKey) (*governor.Multisig, error) {
	ms, err := s.governedMultisig(ctx, multisig, "multisig")
	if err != nil {
		return nil, err
	}
	if err := requireMember(ms, proposer, false, "proposer"); err != nil {
		return nil, err
	}
	return ms, nil
}

// optionalPayer is the fee payer field, defaulting to the signing member.
func optionalPayer(v string, def solana.PublicKey) (solana.PublicKey, error) {
	if v == "" {
		return def, nil
	}
	return pubkeyField("fee_payer", v)
}

type buildProposeBody struct {
	Multisig      string `json:"multisig"`
	Proposer      string `json:"proposer"`
	FeePayer      string `json:"fee_payer"`
	TargetProgram string `json:"target_program"`
	Buffer        string `json:"buffer"`
	Description   string `json:"description"`
	Migration     *struct {
		TargetVersion *int `json:"target_version"`
		// InstructionData goes to the governed program's migrate instruction, base64.
		InstructionData string `json:"instruction_data"`
		FromVersion     *int   `json:"from_version"`
		DataSize        *int64 `json:"data_size"`
		VersionOffset   *int64 `json:"version_offset"`
	} `json:"migration"`
}

func (s *Server) buildPropose(c *gin.Context) {
	ctx := c.Request.Context()
	var b buildProposeBody
	if err := bindJSON(c, &b); err != nil {
		respond(c, err)
		return
	}
	multisig, proposer, payer, err := proposerFields(b.Multisig, b.Proposer, b.FeePayer)
	if err != nil {
		respond(c, err)
		return
	}
	program, err := pubkeyField("target_program", b.TargetProgram)
	if err != nil {
		respond(c, err)
		return
	}
	buffer, err := pubkeyField("buffer", b.Buffer)
	if err != nil {
		respond(c, err)
		return
	}
	if len(b.Description) > governor.MaxDescriptionLen {
		respond(c, invalidField("description", "at most %d bytes", governor.MaxDescriptionLen))
		return
	}
	args := governor.ProposeUpgradeArgs{Description: b.Description}
	var migration *int
	if m := b.Migration; m != nil {
		if m.TargetVersion == nil {
			respond(c, badRequest(CodeMissingField, "migration.target_version", "target_version is required"))
			return
		}
		if *m.TargetVersion < 1 || *m.TargetVersion > 255 {
			respond(c, invalidField("migration.target_version", "want 1 to 255"))
			return
		}
		data, err := base64.StdEncoding.DecodeString(m.InstructionData)
		if err != nil || len(data) > governor.MaxMigrationDataLen {
			respond(c, invalidField("migration.instruction_data", "want base64 of at most %d bytes", governor.MaxMigrationDataLen))
			return
		}
		// The accounts to migrate are part of what the members sign.
		selection := MigrationPlanBody{TargetVersion: m.TargetVersion, FromVersion: m.FromVersion, DataSize: m.DataSize, VersionOffset: m.VersionOffset}
		plan, err := selection.plan("migration")
		if err != nil {
			respond(c, err)
			return
		}
		args.Migration = &governor.MigrationPlan{TargetVersion: plan.TargetVersion, InstructionData: data,
			FromVersion: plan.FromVersion, VersionOffset: plan.VersionOffset, DataSize: plan.DataSize}
		migration = m.TargetVersion
	}
	ms, err := s.proposersMultisig(ctx, multisig, proposer)
	if err != nil {
		respond(c, err)
		return
	}
	buf, err := s.chain.GetBuffer(ctx, buffer)
	if err != nil {
		if errors.Is(err, chain.ErrAccountNotFound) {
			respond(c, chainReadError(err, "buffer", "buffer %s", buffer))
			return
		}
		respond(c, invalidField("buffer", "%v", err))
		return
	}
	if authority, _ := governor.FindAuthorityAddress(multisig); buf.Authority == nil || !buf.Authority.Equals(authority) {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "buffer",
			"the buffer's authority must be the multisig's authority PDA %s (solana program set-buffer-authority)", authority))
		return
	}
	args.BufferHash = buf.Hash()
	index := ms.ProposalIndex + 1
	ix := governor.NewProposeUpgradeInstruction(multisig, index, proposer, payer, program, buffer, args)
	s.replyUnsigned(c, ix, payer, TxSummary{
		Multisig: multisig.String(), Proposal: ix.Proposal.String(), ProposalIndex: index,
		Program: program.String(), Buffer: buffer.String(), BufferHash: hex.EncodeToString(args.BufferHash[:]),
		Description: b.Description, Migration: migration, Then: "POST /proposals",
	})
}

type buildProposalActionBody struct {
	Proposal string `json:"proposal"`
	Member   string `json:"member"`
	FeePayer string `json:"fee_payer"`
}

// proposalAction reads what every per-proposal builder needs: the proposal, its multisig,
// the signer (checked, then by check when given) and the fee payer.
func (s *Server) proposalAction(c *gin.Context, guardianToo bool, check func(p *governor.Proposal, ms *governor.Multisig, addr, member solana.PublicKey) error) (solana.PublicKey, *governor.Proposal, solana.PublicKey, solana.PublicKey, bool) {
	var b buildProposalActionBody
	if err := bindJSON(c, &b); err != nil {
		respond(c, err)
		return solana.PublicKey{}, nil, solana.PublicKey{}, solana.PublicKey{}, false
	}
	addr, err := pubkeyField("proposal", b.Proposal)
	if err == nil {
		var member, payer solana.PublicKey
		member, err = pubkeyField("member", b.Member)
		if err == nil {
			payer, err = optionalPayer(b.FeePayer, member)
		}
		if err == nil {
			var p *governor.Proposal
			p, err = s.chain.GetProposal(c.Request.Context(), addr)
			if errors.Is(err, chain.ErrAccountNotFound) {
				err = newError(http.StatusNotFound, CodeProposalNotFound, "proposal", "proposal %s does not exist on chain", addr)
			} else if err != nil {
				err = chainReadError(err, "proposal", "proposal %s", addr)
			}
			if err == nil {
				var ms *governor.Multisig
				if ms, err = s.governedMultisig(c.Request.Context(), p.Multisig, "proposal"); err == nil {
					if err = requireMember(ms, member, guardianToo, "member"); err == nil && check != nil {
						err = check(p, ms, addr, member)
					}
					if err == nil {
						return addr, p, member, payer, true
					}
				}
			}
		}
	}
	respond(c, err)
	return solana.PublicKey{}, nil, solana.PublicKey{}, solana.PublicKey{}, false
}

func proposalSummary(addr solana.PublicKey, p *governor.Proposal, then string) TxSummary {
	if p.IsConfig() {
		return TxSummary{
			Multisig: p.Multisig.String(), Proposal: addr.String(), ProposalIndex: p.Index,
			Description: p.Description, Actions: governor.ConfigActionsJSON(p.Actions), Then: then,
		}
	}
	return TxSummary{
		Multisig: p.Multisig.String(), Proposal: addr.String(), ProposalIndex: p.Index,
		Program: p.TargetProgram.String(), Buffer: p.Buffer.String(),
		BufferHash: hex.EncodeToString(p.BufferHash[:]), Description: p.Description, Then: then,
	}
}

// notStale is the builders' check for approve and execute.
func notStale(p *governor.Proposal, ms *governor.Multisig, addr, _ solana.PublicKey) error {
	return staleProposal(p, ms, addr)
}

func (s *Server) buildApprove(c *gin.Context) {
	addr, p, member, payer, ok := s.proposalAction(c, false, notStale)
	if !ok {
		return
	}
	ix := governor.NewApproveUpgradeInstruction(p.Multisig, addr, member)
	s.replyUnsigned(c, ix, payer, proposalSummary(addr, p, "POST /proposals/"+addr.String()+"/approve"))
}

func (s *Server) buildCancel(c *gin.Context) {
	addr, p, member, payer, ok := s.proposalAction(c, true, func(p *governor.Proposal, ms *governor.Multisig, addr, member solana.PublicKey) error {
		return guardianCannotCancel(p, member, ms, addr)
	})
	if !ok {
		return
	}
	ix := governor.NewCancelUpgradeInstruction(p.Multisig, addr, member)
	s.replyUnsigned(c, ix, payer, proposalSummary(addr, p, "POST /proposals/"+addr.String()+"/cancel"))
}

func (s *Server) buildExecute(c *gin.Context) {
	addr, p, member, payer, ok := s.proposalAction(c, false, notStale)
	if !ok {
		return
	}
	var ix governor.Instruction = governor.NewExecuteUpgradeInstructionFor(p, member)
	if p.IsConfig() {
		ix = governor.NewExecuteConfigInstructionFor(p, member)
	}
	s.replyUnsigned(c, ix, payer, proposalSummary(addr, p, "POST /proposals/"+addr.String()+"/execute"))
}

type buildSystemBody struct {
	Multisig string `json:"multisig"`
	Pauser   string `json:"pauser"`
	Member   string `json:"member"`
	FeePayer string `json:"fee_payer"`
}

func (s *Server) buildPause(c *gin.Context) {
	var b buildSystemBody
	if err := bindJSON(c, &b); err != nil {
		respond(c, err)
		return
	}
	if b.Member != "" {
		respond(c, badRequest(CodeUnknownField, "member", "pause is signed by its pauser"))
		return
	}
	multisig, err := pubkeyField("multisig", b.Multisig)
	if err != nil {
		respond(c, err)
		return
	}
	pauser, err := pubkeyField("pauser", b.Pauser)
	if err != nil {
		respond(c, err)
		return
	}
	payer, err := optionalPayer(b.FeePayer, pauser)
	if err != nil {
		respond(c, err)
		return
	}
	ms, err := s.governedMultisig(c.Request.Context(), multisig, "multisig")
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, pauser, true, "pauser"); err != nil {
		respond(c, err)
		return
	}
	s.replyUnsigned(c, governor.NewPauseSystemInstruction(multisig, pauser), payer,
		TxSummary{Multisig: multisig.String(), Then: "POST /system/pause"})
}

// buildResume builds one member's resume vote: threshold votes, each signed on its own (no
// co-signing within a blockhash's minute), lift the pause.
func (s *Server) buildResume(c *gin.Context) {
	var b buildSystemBody
	if err := bindJSON(c, &b); err != nil {
		respond(c, err)
		return
	}
	if b.Pauser != "" {
		respond(c, badRequest(CodeUnknownField, "pauser", "a resume vote is signed by a member, not a pauser"))
		return
	}
	multisig, err := pubkeyField("multisig", b.Multisig)
	if err != nil {
		respond(c, err)
		return
	}
	member, err := pubkeyField("member", b.Member)
	if err != nil {
		respond(c, err)
		return
	}
	payer, err := optionalPayer(b.FeePayer, member)
	if err != nil {
		respond(c, err)
		return
	}
	ms, now, err := s.systemState(c.Request.Context(), multisig, "multisig")
	if err != nil {
		respond(c, err)
		return
	}
	if err := requireMember(ms, member, false, "member"); err != nil {
		respond(c, err)
		return
	}
	if err := lifecycle.CanVoteResume(ms, member, now); err != nil {
		respond(c, newError(http.StatusConflict, CodeInvalidState, "multisig", "%v", err))
		return
	}
	s.replyUnsigned(c, governor.NewResumeSystemInstruction(multisig, member), payer,
		TxSummary{Multisig: multisig.String(), Then: "POST /system/resume"})
}
