package api

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"

	"github.com/gagliardetto/solana-go"

	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// maxTransactionSize is the most a Solana transaction can be on the wire (PACKET_DATA_SIZE).
const maxTransactionSize = 1232

// computeBudgetProgram may sit beside the governor instruction in a member's transaction
// (wallets add priority fees); anything else is refused.
var computeBudgetProgram = solana.MustPublicKeyFromBase58("ComputeBudget111111111111111111111111111111")

// signedTx is a member-signed transaction that decoded, whose every signature verified over
// its message bytes, and that holds exactly one governor instruction.
type signedTx struct {
	tx        *solana.Transaction
	raw       []byte
	signature solana.Signature // the first signature: the transaction's ID
	signers   []solana.PublicKey
	ix        governor.Instruction
}

// SignatureString is the transaction's ID in base58.
func (s *signedTx) SignatureString() string { return s.signature.String() }

func (s *signedTx) signedBy(key solana.PublicKey) bool { return slices.Contains(s.signers, key) }

// parseSignedTx decodes and checks a base64 wire transaction; field names the request field
// it came from. It reads nothing from the chain.
func parseSignedTx(b64, field string) (*signedTx, error) {
	if strings.TrimSpace(b64) == "" {
		return nil, badRequest(CodeMissingField, field, "a signed transaction (base64 wire format) is required")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, badRequest(CodeMalformedTx, field, "not base64: %v", err)
	}
	if len(raw) > maxTransactionSize {
		return nil, badRequest(CodeMalformedTx, field, "%d bytes; a transaction has at most %d", len(raw), maxTransactionSize)
	}
	tx, err := decodeTransaction(raw)
	if err != nil {
		return nil, badRequest(CodeMalformedTx, field, "%v", err)
	}
	msg, err := tx.Message.MarshalBinary()
	if err != nil {
		return nil, badRequest(CodeMalformedTx, field, "encode message: %v", err)
	}
	// The round trip must give back the exact bytes: no trailing data, nothing the decoder
	// skipped, and the signatures below cover what the cluster will execute.
	again, err := tx.MarshalBinary()
	if err != nil || !bytes.Equal(again, raw) || !bytes.HasSuffix(raw, msg) {
		return nil, badRequest(CodeMalformedTx, field, "the transaction has trailing or non-canonical bytes")
	}
	if tx.Message.IsVersioned() && len(tx.Message.AddressTableLookups) > 0 {
		return nil, badRequest(CodeMalformedTx, field, "address lookup tables are not accepted in governance transactions")
	}
	n := int(tx.Message.Header.NumRequiredSignatures)
	if n == 0 || len(tx.Signatures) != n || len(tx.Message.AccountKeys) < n {
		return nil, badRequest(CodeMalformedTx, field, "%d signatures for %d required signers", len(tx.Signatures), n)
	}
	signers := slices.Clone(tx.Message.AccountKeys[:n])
	for i, sig := range tx.Signatures {
		if sig.IsZero() {
			return nil, newError(http.StatusUnauthorized, CodeMissingSignature, field,
				"signer %s has not signed (signature %d is empty)", signers[i], i)
		}
		if !ed25519.Verify(signers[i][:], msg, sig[:]) {
			return nil, newError(http.StatusUnauthorized, CodeInvalidSignature, field,
				"signature %d does not verify for signer %s", i, signers[i])
		}
	}

	var found []governor.TransactionInstruction
	for i, ci := range tx.Message.Instructions {
		program, err := tx.Message.Program(ci.ProgramIDIndex)
		if err != nil {
			return nil, badRequest(CodeMalformedTx, field, "instruction %d: %v", i, err)
		}
		if !program.Equals(governor.ProgramID) && !program.Equals(computeBudgetProgram) {
			return nil, badRequest(CodeWrongProgram, field,
				"instruction %d invokes %s; only the governor %s (and compute budget) may appear", i, program, governor.ProgramID)
		}
	}
	found, err = governor.DecodeTransaction(tx)
	if err != nil {
		code := CodeMalformedTx
		if errors.Is(err, governor.ErrUnknownInstruction) {
			code = CodeWrongInstruction
		}
		return nil, badRequest(code, field, "%v", err)
	}
	if len(found) != 1 {
		return nil, badRequest(CodeWrongInstruction, field, "want exactly one governor instruction, found %d", len(found))
	}
	return &signedTx{tx: tx, raw: raw, signature: tx.Signatures[0], signers: signers, ix: found[0].Instruction}, nil
}

// decodeTransaction decodes wire bytes; the decoder panics on some inputs, which become
// errors here.
func decodeTransaction(raw []byte) (tx *solana.Transaction, err error) {
	defer func() {
		if r := recover(); r != nil {
			tx, err = nil, fmt.Errorf("does not decode as a transaction: %v", r)
		}
	}()
	tx, err = solana.TransactionFromBytes(raw)
	if err != nil {
		return nil, fmt.Errorf("does not decode as a transaction: %w", err)
	}
	return tx, nil
}

// expectInstruction returns the governor instruction as type T, or a wrong_instruction error.
func expectInstruction[T governor.Instruction](s *signedTx, field string) (T, error) {
	ix, ok := s.ix.(T)
	if !ok {
		// T is a pointer type (*governor.ApproveUpgrade, ...) whose Name reads no field.
		want := reflect.New(reflect.TypeFor[T]().Elem()).Interface().(governor.Instruction).Name()
		return ix, badRequest(CodeWrongInstruction, field, "the transaction holds %s, want %s", s.ix.Name(), want)
	}
	return ix, nil
}

// checkNotReplayed refuses a transaction whose signature the audit trail or the cluster has
// already seen, and then one that can never land because its blockhash expired or was never
// issued: such a transaction must not reach a workflow (an approve update would be accepted,
// run its activity and fail, growing the proposal's history for nothing) nor be sent.
func (s *Server) checkNotReplayed(ctx context.Context, tx *signedTx, field string) error {
	actions, err := s.store.SignatureActions(ctx, tx.SignatureString())
	if err != nil {
		return fmt.Errorf("check replay of %s: %w", tx.signature, err)
	}
	if len(actions) > 0 {
		return newError(http.StatusConflict, CodeReplayed, field,
			"transaction %s was already accepted (%s)", tx.signature, strings.Join(actions, ", "))
	}
	known, err := s.chain.SignatureKnown(ctx, tx.signature)
	if err != nil {
		return fmt.Errorf("check replay of %s: %w", tx.signature, err)
	}
	if known {
		return newError(http.StatusConflict, CodeReplayed, field, "transaction %s was already processed by the cluster", tx.signature)
	}
	bh := tx.tx.Message.RecentBlockhash
	valid, err := s.chain.BlockhashValid(ctx, bh)
	if err != nil {
		return fmt.Errorf("check blockhash of %s: %w", tx.signature, err)
	}
	if !valid {
		return newError(http.StatusUnprocessableEntity, CodeBlockhashExpired, field,
			"blockhash %s has expired or was never issued, so the transaction cannot land: build and sign a new one", bh)
	}
	return nil
}

// requireMember fails unless key is a member of m (or, with guardianToo, its guardian).
func requireMember(m *governor.Multisig, key solana.PublicKey, guardianToo bool, field string) error {
	if m.IsMember(key) || (guardianToo && key.Equals(m.Guardian)) {
		return nil
	}
	who := "a member"
	if guardianToo {
		who = "a member or the guardian"
	}
	return newError(http.StatusForbidden, CodeNotAMember, field, "%s is not %s of multisig", key, who)
}
