package api

// Fuzz targets of what the API does with a request before it touches anything: the strict JSON
// decoding of every write and builder body (bind.go) and the vetting of member-signed
// transactions (txcheck.go). `go test ./internal/api` runs their seed corpus; `make fuzz` (or
// the `fuzz` drill of bench/cmd/faults) runs each for a bounded time. FuzzLiveAPI posts the
// mutated bodies to a running API server when UG_FUZZ_API_URL is set (bench/cmd/faults sets it
// to the stack it started, and checks PostgreSQL, Temporal and the chain are unchanged after).

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	computebudget "github.com/gagliardetto/solana-go/programs/compute-budget"
	"github.com/gagliardetto/solana-go/programs/system"
	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
	"github.com/upgrade-governor/upgrade-governor/internal/governor/loader"
)

// fuzzBodyLimit is the body limit the decoding target runs under: small, so the fuzzer reaches
// it.
const fuzzBodyLimit = 2048

// bindTargets are the request bodies the handlers decode with bindJSON.
var bindTargets = []struct {
	name string
	new  func() any
}{
	{"createProposalBody", func() any { return new(createProposalBody) }},
	{"transactionBody", func() any { return new(transactionBody) }},
	{"cancelBody", func() any { return new(cancelBody) }},
	{"startMigrationBody", func() any { return new(startMigrationBody) }},
	{"buildProposeBody", func() any { return new(buildProposeBody) }},
	{"buildProposalActionBody", func() any { return new(buildProposalActionBody) }},
	{"buildSystemBody", func() any { return new(buildSystemBody) }},
}

// decodeCodes are the only codes bindJSON may answer with.
var decodeCodes = []string{CodeMalformedJSON, CodeInvalidField, CodeUnknownField, CodeBodyTooLarge}

// bindBody runs bindJSON on body as a handler would, under limitBody's reader.
func bindBody(body []byte, v any) error {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, fuzzBodyLimit)
	return bindJSON(&gin.Context{Request: req}, v)
}

// jsonPaths lists the dotted JSON names of t's fields, nested structs included, as
// encoding/json names them in UnmarshalTypeError.Field.
func jsonPaths(t reflect.Type, prefix string, out map[string]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return
	}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		out[prefix+name] = true
		ft := f.Type
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		jsonPaths(ft, prefix+name+".", out)
	}
}

func FuzzBindJSON(f *testing.F) {
	tx := base64.StdEncoding.EncodeToString([]byte("not really a transaction"))
	seeds := []string{
		`{"transaction":"` + tx + `"}`,
		`{"transaction":"` + tx + `","description":"v2","migration":{"target_version":2,"from_version":1,"data_size":64,"version_offset":0}}`,
		`{"transaction":"` + tx + `","reason":"stop"}`,
		`{"proposal":"11111111111111111111111111111111","plan":{"target_version":2,"from_version":1}}`,
		`{"multisig":"11111111111111111111111111111111","proposer":"x","target_program":"y","buffer":"z","migration":{"target_version":3,"instruction_data":"AQ=="}}`,
		`{"proposal":"a","member":"b","fee_payer":"c"}`,
		`{"multisig":"a","signers":["b","c"],"fee_payer":"d"}`,
		`{"transaction":`,
		`{"transaction":42}`,
		`{"transaction":"a","admin":true}`,
		`{"migration":{"target_version":"2"}}`,
		`{"migration":{"nested":{}}}`,
		`{"signers":[1,2]}`,
		`{"a":1}{"b":2}`,
		`[1,2,3]`,
		`"just a string"`,
		`null`,
		`{}`,
		` `,
		``,
		`{"transaction":"\ud800"}`,
		"{\"transaction\":\"\xff\xfe\"}",
		`{"TRANSACTION":"x","Transaction":"y"}`,
		`{"":""}`,
		`{"plan":{"target_version":1e400}}`,
		`{"plan":{"data_size":-1}}`,
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
		`{"reason":"` + strings.Repeat("x", fuzzBodyLimit) + `"}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	f.Fuzz(func(t *testing.T, kind uint8, body []byte) {
		target := bindTargets[int(kind)%len(bindTargets)]
		v := target.new()
		err := bindBody(body, v)
		if err != nil {
			e := toError(err)
			if e.Status < 400 || e.Status > 499 {
				t.Fatalf("%s: status %d for %q: %v", target.name, e.Status, body, err)
			}
			if !slices.Contains(decodeCodes, e.Code) {
				t.Fatalf("%s: code %q for %q: %v", target.name, e.Code, body, err)
			}
			if e.Message == "" {
				t.Fatalf("%s: no message for %q", target.name, body)
			}
			var tooLarge *http.MaxBytesError
			if (e.Code == CodeBodyTooLarge) != (errors.As(err, &tooLarge) && e.Status == http.StatusRequestEntityTooLarge) {
				t.Fatalf("%s: body_too_large and 413 must go together: %v", target.name, err)
			}
			if e.Code == CodeBodyTooLarge && len(body) <= fuzzBodyLimit {
				t.Fatalf("%s: %d bytes called too large (limit %d)", target.name, len(body), fuzzBodyLimit)
			}
			switch e.Code {
			case CodeInvalidField:
				paths := map[string]bool{}
				jsonPaths(reflect.TypeOf(v), "", paths)
				if !paths[e.Field] {
					t.Fatalf("%s: invalid_field names %q, not a field of the body (%v); input %q", target.name, e.Field, paths, body)
				}
			case CodeUnknownField:
				// The one unknown field without a name is the empty key ({"": 1}).
				if e.Field == "" && e.Message != `unknown field ""` {
					t.Fatalf("%s: unknown_field without the field: %v", target.name, err)
				}
			case CodeMalformedJSON, CodeBodyTooLarge:
				if e.Field != "" {
					t.Fatalf("%s: %s names field %q", target.name, e.Code, e.Field)
				}
			}
			return
		}
		// Accepted: one JSON value, an object (or null), within the limit, that decodes the
		// same after a round trip.
		if len(body) > fuzzBodyLimit {
			t.Fatalf("%s: accepted %d bytes over the %d limit", target.name, len(body), fuzzBodyLimit)
		}
		if !json.Valid(body) {
			t.Fatalf("%s: accepted invalid JSON %q", target.name, body)
		}
		if trimmed := bytes.TrimSpace(body); trimmed[0] != '{' && string(trimmed) != "null" {
			t.Fatalf("%s: accepted a non-object %q", target.name, body)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("%s: marshal accepted value: %v", target.name, err)
		}
		v2 := target.new()
		if err := bindBody(again, v2); err != nil && len(again) <= fuzzBodyLimit {
			t.Fatalf("%s: re-encoded body %s refused: %v", target.name, again, err)
		} else if err == nil && !reflect.DeepEqual(v, v2) {
			t.Fatalf("%s: round trip changed the value: %#v vs %#v", target.name, v, v2)
		}
	})
}

// fuzzKey is a deterministic key, so the seed corpus is the same on every run.
func fuzzKey(seed byte) solana.PrivateKey {
	return solana.PrivateKey(ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize)))
}

// fuzzTx builds and signs a transaction of ixs on a fixed blockhash, paid by payer; signers
// not given keep an empty signature.
func fuzzTx(f testing.TB, ixs []solana.Instruction, payer solana.PublicKey, signers ...solana.PrivateKey) *solana.Transaction {
	f.Helper()
	tx, err := solana.NewTransaction(ixs, solana.Hash{7, 7, 7}, solana.TransactionPayer(payer))
	if err != nil {
		f.Fatal(err)
	}
	msg, err := tx.Message.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	n := int(tx.Message.Header.NumRequiredSignatures)
	tx.Signatures = make([]solana.Signature, n)
	for i, k := range tx.Message.AccountKeys[:n] {
		for _, s := range signers {
			if s.PublicKey().Equals(k) {
				sig, err := s.Sign(msg)
				if err != nil {
					f.Fatal(err)
				}
				tx.Signatures[i] = sig
			}
		}
	}
	return tx
}

func wire(f testing.TB, tx *solana.Transaction) []byte {
	f.Helper()
	raw, err := tx.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	return raw
}

// txCodes are the only codes parseSignedTx may answer with.
var txCodes = []string{CodeMissingField, CodeMalformedTx, CodeMissingSignature, CodeInvalidSignature, CodeWrongProgram, CodeWrongInstruction}

// txSeeds are signed and hostile transactions of every governor instruction, by name.
func txSeeds(f testing.TB) map[string]*solana.Transaction {
	m1, m2, m3, outsider := fuzzKey(1), fuzzKey(2), fuzzKey(3), fuzzKey(9)
	multisig, program, buffer := fuzzKey(20).PublicKey(), fuzzKey(21).PublicKey(), fuzzKey(22).PublicKey()
	proposal, _ := governor.FindProposalAddress(multisig, 1)
	p := &governor.Proposal{Multisig: multisig, Index: 1, Proposer: m1.PublicKey(), TargetProgram: program,
		ProgramData: loader.FindProgramDataAddress(program), Buffer: buffer}
	approve := governor.NewApproveUpgradeInstruction(multisig, proposal, m1.PublicKey())
	txs := map[string]*solana.Transaction{
		"approve": fuzzTx(f, []solana.Instruction{approve}, m1.PublicKey(), m1),
		"propose": fuzzTx(f, []solana.Instruction{governor.NewProposeUpgradeInstruction(multisig, 1, m1.PublicKey(), m1.PublicKey(),
			program, buffer, governor.ProposeUpgradeArgs{Description: "v2", Migration: &governor.MigrationPlan{TargetVersion: 2, InstructionData: []byte{2}, FromVersion: 1}})}, m1.PublicKey(), m1),
		"cancel":  fuzzTx(f, []solana.Instruction{governor.NewCancelUpgradeInstruction(multisig, proposal, m2.PublicKey())}, m2.PublicKey(), m2),
		"execute": fuzzTx(f, []solana.Instruction{governor.NewExecuteUpgradeInstructionFor(p, m3.PublicKey())}, m3.PublicKey(), m3),
		"pause":   fuzzTx(f, []solana.Instruction{governor.NewPauseSystemInstruction(multisig, m1.PublicKey())}, m1.PublicKey(), m1),
		"resume":  fuzzTx(f, []solana.Instruction{governor.NewResumeSystemInstruction(multisig, m1.PublicKey())}, m1.PublicKey(), m1),
		"compute budget + approve": fuzzTx(f, []solana.Instruction{
			computebudget.NewSetComputeUnitPriceInstruction(1000).Build(), approve}, m1.PublicKey(), m1),
		"other fee payer":    fuzzTx(f, []solana.Instruction{approve}, outsider.PublicKey(), m1, outsider),
		"unsigned":           fuzzTx(f, []solana.Instruction{approve}, m1.PublicKey()),
		"fee payer unsigned": fuzzTx(f, []solana.Instruction{approve}, outsider.PublicKey(), m1),
		"foreign instruction": fuzzTx(f, []solana.Instruction{approve,
			system.NewTransferInstruction(1, m1.PublicKey(), outsider.PublicKey()).Build()}, m1.PublicKey(), m1),
		"two governor instructions": fuzzTx(f, []solana.Instruction{approve,
			governor.NewApproveUpgradeInstruction(multisig, proposal, m2.PublicKey())}, m1.PublicKey(), m1, m2),
		"no instruction": fuzzTx(f, []solana.Instruction{computebudget.NewSetComputeUnitLimitInstruction(1).Build()}, m1.PublicKey(), m1),
	}
	return txs
}

func FuzzParseSignedTx(f *testing.F) {
	txs := txSeeds(f)
	names := make([]string, 0, len(txs))
	for n := range txs {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		raw := wire(f, txs[n])
		f.Add(raw, false)
		f.Add(raw[:len(raw)-1], false)
		f.Add(append(slices.Clone(raw), 0), false)
	}
	// A signature that belongs to another signer, and a message changed after signing.
	swapped := wire(f, txs["approve"])
	copy(swapped[1:65], wire(f, txs["cancel"])[1:65])
	f.Add(swapped, false)
	tampered := wire(f, txs["approve"])
	tampered[len(tampered)-1] ^= 1
	f.Add(tampered, false)
	f.Add([]byte{}, false)
	f.Add([]byte{0}, false)
	f.Add(bytes.Repeat([]byte{0xff}, maxTransactionSize+1), false)
	f.Add([]byte("!!! not base64 !!!"), true)
	f.Add([]byte(base58Of(wire(f, txs["approve"]))), true)
	f.Add([]byte(base64.URLEncoding.EncodeToString(wire(f, txs["approve"]))), true)
	f.Add([]byte("   "), true)

	f.Fuzz(func(t *testing.T, data []byte, asText bool) {
		b64 := base64.StdEncoding.EncodeToString(data)
		if asText {
			b64 = string(data)
		}
		s, err := parseSignedTx(b64, "transaction")
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			if e.Status < 400 || e.Status > 499 || e.Field != "transaction" || !slices.Contains(txCodes, e.Code) || e.Message == "" {
				t.Fatalf("bad refusal %+v", e)
			}
			return
		}
		checkAcceptedTx(t, b64, s)
	})
}

// TestFuzzSeedsCoverBothOutcomes pins what the transaction seeds are, so the fuzz properties
// run on accepted transactions as well as on each kind of refusal.
func TestFuzzSeedsCoverBothOutcomes(t *testing.T) {
	want := map[string]string{
		"approve": "", "propose": "", "cancel": "", "execute": "", "pause": "", "resume": "",
		"compute budget + approve": "", "other fee payer": "",
		"unsigned":                  CodeMissingSignature,
		"fee payer unsigned":        CodeMissingSignature,
		"foreign instruction":       CodeWrongProgram,
		"two governor instructions": CodeWrongInstruction,
		"no instruction":            CodeWrongInstruction,
	}
	txs := txSeeds(t)
	require.Len(t, txs, len(want))
	for name, tx := range txs {
		b64 := base64.StdEncoding.EncodeToString(wire(t, tx))
		s, err := parseSignedTx(b64, "transaction")
		if want[name] == "" {
			require.NoError(t, err, name)
			checkAcceptedTx(t, b64, s)
			continue
		}
		var e *Error
		require.ErrorAs(t, err, &e, name)
		require.Equal(t, want[name], e.Code, name)
		require.Equal(t, "transaction", e.Field, name)
	}
	// A signature moved to another transaction, and a byte changed after signing.
	raw := wire(t, txs["approve"])
	raw[len(raw)-1] ^= 1
	_, err := parseSignedTx(base64.StdEncoding.EncodeToString(raw), "transaction")
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, CodeInvalidSignature, e.Code)

	// And the body seeds: one of each outcome.
	for body, code := range map[string]string{
		`{"transaction":"x","reason":"r"}`: "", `{"transaction":`: CodeMalformedJSON,
		`{"transaction":42}`: CodeInvalidField, `{"transaction":"a","admin":true}`: CodeUnknownField,
		`{"reason":"` + strings.Repeat("x", fuzzBodyLimit) + `"}`: CodeBodyTooLarge,
	} {
		err := bindBody([]byte(body), new(cancelBody))
		if code == "" {
			require.NoError(t, err, body)
			continue
		}
		require.Equal(t, code, toError(err).Code, body)
	}
}

// TestChainRefusalNamesTheTransaction: the API sends only the request's signed transaction,
// so the cluster refusing it is answered naming that field (found by the bad-input drill: a
// cancel or pause on a dead blockhash named no field).
func TestChainRefusalNamesTheTransaction(t *testing.T) {
	for _, err := range []error{
		&chain.ProgramError{Program: governor.ProgramID, Code: 6012, Name: "TimelockNotPassed"},
		&chain.TransactionError{Instruction: 0, Kind: "MissingRequiredSignature"},
		&chain.TransactionError{Kind: "AlreadyProcessed"},
		fmt.Errorf("submit cancel: %w", chain.ErrBlockhashExpired),
	} {
		e := toError(err)
		require.Equal(t, "transaction", e.Field, "%v", err)
		require.True(t, e.Status >= 400 && e.Status < 500, "%v", err)
	}
}

// checkAcceptedTx asserts what parseSignedTx promises of a transaction it accepts.
func checkAcceptedTx(t *testing.T, b64 string, s *signedTx) {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("accepted text that is not base64: %v", err)
	}
	if len(raw) > maxTransactionSize || !bytes.Equal(raw, s.raw) {
		t.Fatalf("accepted %d bytes; raw kept %d", len(raw), len(s.raw))
	}
	again, err := s.tx.MarshalBinary()
	if err != nil || !bytes.Equal(again, raw) {
		t.Fatalf("accepted bytes that do not re-encode the same: %v", err)
	}
	msg, err := s.tx.Message.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	n := int(s.tx.Message.Header.NumRequiredSignatures)
	if n == 0 || len(s.tx.Signatures) != n || !slices.Equal(s.signers, s.tx.Message.AccountKeys[:n]) || s.signature != s.tx.Signatures[0] {
		t.Fatalf("signers %v do not match the header's %d", s.signers, n)
	}
	for i, sig := range s.tx.Signatures {
		if !ed25519.Verify(s.signers[i][:], msg, sig[:]) {
			t.Fatalf("accepted signature %d that does not verify", i)
		}
	}
	if len(s.tx.Message.AddressTableLookups) > 0 {
		t.Fatal("accepted address table lookups")
	}
	governed := 0
	for i, ci := range s.tx.Message.Instructions {
		program, err := s.tx.Message.Program(ci.ProgramIDIndex)
		if err != nil {
			t.Fatalf("instruction %d: %v", i, err)
		}
		switch {
		case program.Equals(computeBudgetProgram):
		case program.Equals(governor.ProgramID):
			governed++
			// The decoded instruction encodes back to the bytes and accounts that were signed.
			data, err := s.ix.Data()
			if err != nil || !bytes.Equal(data, ci.Data) {
				t.Fatalf("instruction %d data does not round-trip: %v", i, err)
			}
			metas, err := ci.ResolveInstructionAccounts(&s.tx.Message)
			if err != nil {
				t.Fatal(err)
			}
			want := s.ix.Accounts()
			if len(metas) != len(want) {
				t.Fatalf("instruction %d: %d accounts, the decoded one has %d", i, len(metas), len(want))
			}
			for j := range want {
				if !metas[j].PublicKey.Equals(want[j].PublicKey) {
					t.Fatalf("instruction %d account %d: %s, decoded %s", i, j, metas[j].PublicKey, want[j].PublicKey)
				}
				// Whoever the instruction needs as a signer did sign.
				if want[j].IsSigner && !s.signedBy(want[j].PublicKey) {
					t.Fatalf("instruction %d: %s must sign but did not", i, want[j].PublicKey)
				}
			}
		default:
			t.Fatalf("accepted instruction %d of program %s", i, program)
		}
	}
	if governed != 1 {
		t.Fatalf("accepted %d governor instructions", governed)
	}
}

func base58Of(b []byte) string { return solana.Base58(b).String() }

// liveRoute is one route FuzzLiveAPI posts to. write routes must never answer 2xx to a
// fuzzed body: nothing the fuzzer makes is signed by a member (no member key is given) and
// the only token given is an operator's, sent only to POST /migration/start for a proposal
// that has not executed.
type liveRoute struct {
	method, path string
	write        bool
	token        bool
	// query puts the input into the query string, path into the last path segment.
	query, pathArg bool
}

func liveRoutes(proposal string) []liveRoute {
	return []liveRoute{
		{method: "POST", path: "/proposals", write: true},
		{method: "POST", path: "/proposals/" + proposal + "/approve", write: true},
		{method: "POST", path: "/proposals/" + proposal + "/cancel", write: true},
		{method: "POST", path: "/proposals/" + proposal + "/execute", write: true},
		{method: "POST", path: "/migration/start", write: true, token: true},
		{method: "POST", path: "/system/pause", write: true},
		{method: "POST", path: "/system/resume", write: true},
		{method: "POST", path: "/tx/propose"},
		{method: "POST", path: "/tx/approve"},
		{method: "POST", path: "/tx/cancel"},
		{method: "POST", path: "/tx/execute"},
		{method: "POST", path: "/tx/pause"},
		{method: "POST", path: "/tx/resume"},
		{method: "GET", path: "/proposals", query: true},
		{method: "GET", path: "/audit", query: true},
		{method: "GET", path: "/proposals/", pathArg: true},
		{method: "GET", path: "/migration/", pathArg: true},
		{method: "GET", path: "/multisig/", pathArg: true},
	}
}

// fuzzQuery turns arbitrary bytes into a well-formed query string with the same keys and
// values, so the request reaches the API rather than Go's HTTP parser.
func fuzzQuery(b []byte) string {
	var parts []string
	for _, kv := range strings.Split(string(b), "&") {
		k, v, _ := strings.Cut(kv, "=")
		parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(v))
	}
	return strings.Join(parts, "&")
}

// FuzzLiveAPI posts fuzzed bodies (and query strings, and path ids) to a running API server:
// UG_FUZZ_API_URL, UG_FUZZ_PROPOSAL (a proposal id for the path routes) and UG_FUZZ_API_TOKEN
// (an operator token, sent only to POST /migration/start). Without UG_FUZZ_API_URL it skips.
// No answer may be 5xx, a write route may not answer 2xx, and every error is the JSON error.
func FuzzLiveAPI(f *testing.F) {
	base := os.Getenv("UG_FUZZ_API_URL")
	proposal := os.Getenv("UG_FUZZ_PROPOSAL")
	token := os.Getenv("UG_FUZZ_API_TOKEN")
	routes := liveRoutes(proposal)
	tx := base64.StdEncoding.EncodeToString([]byte("garbage that is not a transaction"))
	seeds := []string{
		`{"transaction":"` + tx + `"}`,
		`{"transaction":"` + tx + `","description":"x","migration":{"target_version":2,"from_version":1}}`,
		`{"transaction":"` + tx + `","reason":"r"}`,
		`{"proposal":"` + proposal + `","plan":{"target_version":2,"from_version":1}}`,
		`{"proposal":"` + proposal + `","member":"11111111111111111111111111111111"}`,
		`{"multisig":"11111111111111111111111111111111","signers":["11111111111111111111111111111111"]}`,
		`{"multisig":"11111111111111111111111111111111","pauser":"x"}`,
		`{"transaction":`, `[]`, `null`, `{"x":1}`,
		`status=active&limit=-1`, `limit=500&offset=1073741824`, `actor=a b&action=DROP TABLE`,
		`since=2026-13-01T00:00:00Z&before=0`, `program=' OR 1=1 --`,
		proposal, "migration-" + proposal, "../../etc/passwd", "%00",
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	hc := &http.Client{Timeout: 2 * time.Minute, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	f.Fuzz(func(t *testing.T, route uint8, input []byte) {
		if base == "" {
			t.Skip("UG_FUZZ_API_URL is not set")
		}
		r := routes[int(route)%len(routes)]
		u := base + r.path
		var body io.Reader
		switch {
		case r.query:
			u += "?" + fuzzQuery(input)
		case r.pathArg:
			u += url.PathEscape(string(input))
		default:
			body = bytes.NewReader(input)
		}
		req, err := http.NewRequest(r.method, u, body)
		if err != nil {
			t.Skipf("not a request: %v", err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if r.token && token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		out, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			t.Fatalf("%s %s: read answer: %v", r.method, r.path, err)
		}
		if err := checkLiveAnswer(r, resp, out); err != nil {
			t.Fatalf("%s %s with %q: %v", r.method, u, input, err)
		}
	})
}

func checkLiveAnswer(r liveRoute, resp *http.Response, body []byte) error {
	switch {
	case resp.StatusCode >= 500:
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	case resp.StatusCode < 300 && r.write:
		return fmt.Errorf("a fuzzed body was accepted (%d): %s", resp.StatusCode, body)
	case resp.StatusCode < 400:
		return nil // a read, a builder, or gin's redirect of a path with a trailing slash
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return fmt.Errorf("status %d with content type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Code == "" || e.Message == "" {
		return fmt.Errorf("status %d without the JSON error (%v): %s", resp.StatusCode, err, body)
	}
	return nil
}
