package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/chain"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

// tripwire is an HTTP endpoint that counts every request it gets: given as --rpc-url and
// --api-url, it proves that a command refused its input before reaching the network.
type tripwire struct {
	*httptest.Server
	hits atomic.Int32
}

func newTripwire(t *testing.T) *tripwire {
	tw := &tripwire{}
	tw.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		tw.hits.Add(1)
		http.Error(w, "tripwire", http.StatusServiceUnavailable)
	}))
	t.Cleanup(tw.Close)
	return tw
}

type outcome struct {
	code           int
	stdout, stderr string
}

// ugov runs the CLI in-process with HOME set to an empty directory (no default keypair).
func ugov(t *testing.T, env map[string]string, args ...string) outcome {
	t.Helper()
	home := t.TempDir()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "HOME" {
			return home
		}
		return ""
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, getenv, &stdout, &stderr)
	return outcome{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

var (
	keyA = solana.NewWallet().PublicKey().String()
	keyB = solana.NewWallet().PublicKey().String()
)

func writeKeypair(t *testing.T) (*chain.Keypair, string) {
	t.Helper()
	kp, err := chain.NewKeypair()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "id.json")
	require.NoError(t, kp.WriteFile(path))
	return kp, path
}

func TestBadInputIsRefusedBeforeAnythingIsSent(t *testing.T) {
	rpc, api := newTripwire(t), newTripwire(t)
	_, keyFile := writeKeypair(t)
	net := []string{"--rpc-url", rpc.URL, "--api-url", api.URL}
	propose := func(extra ...string) []string {
		return append([]string{"propose", "--keypair", keyFile, "--multisig", keyA, "--program", keyB, "--buffer", keyA}, extra...)
	}
	change := func(extra ...string) []string {
		return append([]string{"multisig", "propose-change", "--keypair", keyFile, "--multisig", keyA}, extra...)
	}
	tests := []struct {
		name string
		args []string
		code int
		// want is the start of the error line after "ugov: ".
		want string
	}{
		{"unknown command", []string{"frobnicate"}, 2, "frobnicate: unknown command"},
		{"no command", []string{}, 2, "missing command"},
		{"unknown multisig subcommand", []string{"multisig", "delete"}, 2, "multisig delete: unknown subcommand"},
		{"unknown flag", []string{"approve", keyA, "--frob"}, 2, "--frob: unknown flag"},
		{"flag without value", []string{"propose", "--rpc-url", rpc.URL, "--api-url", api.URL, "--buffer"}, 2, "--buffer: needs a value"},
		{"bad buffer key", propose("--buffer", "not-a-key"), 2, `--buffer: not a public key (base58): "not-a-key"`},
		{"bad multisig key", []string{"pause", "--multisig", "0OIl"}, 2, `--multisig: not a public key`},
		{"bad proposal argument", []string{"approve", "xyz"}, 2, `PROPOSAL: not a public key`},
		{"missing proposal argument", []string{"approve"}, 2, "PROPOSAL: missing"},
		{"extra argument", []string{"show", keyA, keyB}, 2, keyB + ": unexpected argument"},
		{"missing required flag", []string{"propose", "--multisig", keyA, "--program", keyB}, 2, "--buffer: missing (required)"},
		{"bad hash, not hex", propose("--hash", "zz"), 2, `--hash: want the 64 hex digits of a solana-verify hash, got "zz"`},
		{"bad hash, short", propose("--hash", strings.Repeat("ab", 31)), 2, "--hash: want the 64 hex digits"},
		{"migration data without version", propose("--migration-data", "02"), 2, "--migration-version: required with --migration-data"},
		{"migration version out of range", propose("--migration-version", "300", "--migration-from", "1"), 2, "--migration-version: want 1 to 255"},
		{"migration from missing", propose("--migration-version", "2", "--migration-data", "02"), 2, "--migration-from: required"},
		{"description too long", propose("--description", strings.Repeat("x", governor.MaxDescriptionLen+1)), 2, "--description: 257 bytes"},
		{"missing default keypair", []string{"approve", keyA}, 1, "--keypair: read keypair file: open "},
		{"missing keypair file", []string{"approve", keyA, "--keypair", "/nonexistent/member.json"}, 1, "--keypair: read keypair file: open /nonexistent/member.json"},
		{"global flag before the command", []string{"--keypair", "/nonexistent/first.json", "approve", keyA}, 1, "--keypair: read keypair file: open /nonexistent/first.json"},
		{"co-signing is gone", []string{"resume", "--multisig", keyA, "--keypair", keyFile, "--signer", "/nonexistent/b.json"}, 2, "--signer"},
		{"max pause too short", []string{"multisig", "create", "--members", keyA, "--threshold", "1", "--guardian", keyA, "--max-pause", "30m"}, 2, "--max-pause: want whole seconds, from 1h0m0s to 720h0m0s"},
		{"negative pause cooldown", []string{"multisig", "create", "--members", keyA, "--threshold", "1", "--guardian", keyA, "--pause-cooldown", "-1h"}, 2, "--pause-cooldown: want whole seconds, from 0s to 2160h0m0s"},
		{"threshold above members", []string{"multisig", "create", "--members", keyA + "," + keyB, "--threshold", "3", "--guardian", keyA}, 2, "--threshold: want 1 to 2"},
		{"duplicate member", []string{"multisig", "create", "--members", keyA + "," + keyA, "--threshold", "1", "--guardian", keyA}, 2, "--members: " + keyA + " is listed twice"},
		{"timelock too short", []string{"multisig", "create", "--members", keyA, "--threshold", "1", "--guardian", keyA, "--timelock", "10m"}, 2, "--timelock: want whole seconds, from 1h0m0s to 2160h0m0s"},
		{"timelock too long", []string{"multisig", "create", "--members", keyA, "--threshold", "1", "--guardian", keyA, "--timelock", "2161h"}, 2, "--timelock: want whole seconds, from 1h0m0s to 2160h0m0s"},
		{"grace too short", []string{"multisig", "create", "--members", keyA, "--threshold", "1", "--guardian", keyA, "--grace", "59m"}, 2, "--grace: want whole seconds, from 1h0m0s to 8760h0m0s"},
		{"lifetime too long", []string{"multisig", "create", "--members", keyA, "--threshold", "1", "--guardian", keyA, "--proposal-lifetime", "8761h"}, 2, "--proposal-lifetime: want whole seconds, from 1s to 8760h0m0s"},
		{"bad member key", []string{"multisig", "create", "--members", keyA + ",nope", "--threshold", "1", "--guardian", keyA}, 2, `--members: member 2: not a public key`},
		{"bad threshold value", []string{"multisig", "create", "--threshold", "three"}, 2, `--threshold: invalid value "three"`},
		{"two hash sources", []string{"hash", "--buffer", keyA, "--program", keyB}, 2, "give exactly one of --buffer, --program, --file"},
		{"missing ELF file", []string{"hash", "--file", "/nonexistent/p.so"}, 1, "--file: open /nonexistent/p.so"},
		{"bad output", []string{"show", keyA, "--output", "yaml"}, 2, `--output: want text or json, got "yaml"`},
		{"other program id", []string{"show", keyA, "--program-id", keyB}, 2, "--program-id: this build of ugov signs for the governor"},
		{"bad api url", []string{"show", keyA, "--api-url", "localhost:8080"}, 2, `--api-url: want http(s)://host[:port]`},
		{"bad status", []string{"list", "--multisig", keyA, "--status", "done"}, 2, "--status: want one of active, approved, executed, cancelled, expired"},
		{"resume without multisig", []string{"resume", "--keypair", keyFile}, 2, "--multisig: missing"},
		{"change without changes", change(), 2, "nothing to change"},
		{"change with a bad member", change("--add-member", "nope"), 2, `--add-member: not a public key`},
		{"change with a bad removal", change("--remove-member", keyA+",0OIl"), 2, `--remove-member: not a public key`},
		{"change threshold zero", change("--threshold", "0"), 2, "--threshold: want 1 to 16, got 0"},
		{"change timelock too short", change("--timelock", "30m"), 2, "--timelock: want whole seconds, from 1h0m0s"},
		{"change grace fractional", change("--grace", "1h30m500ms"), 2, "--grace: want whole seconds"},
		{"change hand-off without authority", change("--hand-off", keyB), 2, "--hand-off: want PROGRAM=AUTHORITY"},
		{"change immutable bad program", change("--make-immutable", "xyz"), 2, `--make-immutable: not a public key`},
		{"change too many", change("--add-member", strings.Repeat(keyB+",", 9)+keyB), 2, "10 changes; at most 8"},
		{"change without multisig", []string{"multisig", "propose-change", "--keypair", keyFile, "--threshold", "2"}, 2, "--multisig: missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			// Network flags go last, so the tests also cover flags after arguments; a test
			// that sets one of them itself comes first and wins.
			if !strings.Contains(strings.Join(args, " "), "--api-url") {
				args = append(append([]string{}, args...), net...)
			}
			o := ugov(t, nil, args...)
			require.Equal(t, tc.code, o.code, "stdout: %s\nstderr: %s", o.stdout, o.stderr)
			require.Contains(t, o.stderr, "ugov: "+tc.want)
			require.Empty(t, o.stdout)
			require.Zero(t, rpc.hits.Load(), "nothing may reach RPC")
			require.Zero(t, api.hits.Load(), "nothing may reach the API")
		})
	}
}

func TestErrorsAreJSONWithOutputJSON(t *testing.T) {
	rpc := newTripwire(t)
	for _, args := range [][]string{
		{"--output", "json", "frobnicate"},
		{"hash", "--buffer", "nope", "--output=json", "--rpc-url", rpc.URL},
	} {
		o := ugov(t, nil, args...)
		require.Equal(t, 2, o.code)
		require.Empty(t, o.stderr, "a JSON error goes to stdout only")
		var body struct {
			Error struct {
				Code, Message, Field string
			} `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(o.stdout), &body), o.stdout)
		require.NotEmpty(t, body.Error.Code)
		require.NotEmpty(t, body.Error.Message)
		require.NotEmpty(t, body.Error.Field)
	}
	require.Zero(t, rpc.hits.Load())
}

func TestUnreachableRPCIsReportedWithoutKeyMaterial(t *testing.T) {
	kp, keyFile := writeKeypair(t)
	raw, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	rpc := newTripwire(t)
	o := ugov(t, nil, "approve", keyA, "--keypair", keyFile, "--rpc-url", rpc.URL, "--output", "json")
	require.Equal(t, 1, o.code)
	require.NotZero(t, rpc.hits.Load(), "this one does reach RPC")
	var body struct {
		Error struct{ Code, Field string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal([]byte(o.stdout), &body), o.stdout)
	require.Equal(t, "PROPOSAL", body.Error.Field)
	for _, out := range []string{o.stdout, o.stderr} {
		require.NotContains(t, out, strings.TrimSpace(string(raw)))
		require.NotContains(t, out, string(raw[1:20]))
	}
	_ = kp
}

func TestHelpIsNotAFailure(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"approve", "--help"}, {"multisig", "help"}} {
		o := ugov(t, nil, args...)
		require.Equal(t, 0, o.code, "%v: %s", args, o.stderr)
		require.Contains(t, o.stdout, "usage: ugov")
	}
}

func TestHashOfAnELFFileMatchesSolanaVerify(t *testing.T) {
	// solana-verify get-executable-hash: SHA-256 of the ELF with trailing zeros stripped,
	// so zero padding does not change it.
	elf, err := os.ReadFile("../../program/examples/governed-counter/elf/governed_counter_v1.so")
	require.NoError(t, err)
	padded := filepath.Join(t.TempDir(), "padded.so")
	require.NoError(t, os.WriteFile(padded, append(append([]byte{}, elf...), make([]byte, 4096)...), 0o644))
	a := ugov(t, nil, "hash", "--file", "../../program/examples/governed-counter/elf/governed_counter_v1.so")
	b := ugov(t, nil, "hash", "--file", padded)
	require.Equal(t, 0, a.code, a.stderr)
	require.Equal(t, a.stdout, b.stdout)
	require.Regexp(t, `^[0-9a-f]{64}\n$`, a.stdout)
}

func TestFlagsMayFollowArguments(t *testing.T) {
	fs := newEnv(func(string) string { return "" }, nil, nil).flagSet("x")
	v := fs.String("v", "", "")
	rest, err := parseFlags(fs, []string{"A", "--v", "1", "B", "--", "--v"}, true)
	require.NoError(t, err)
	require.Equal(t, "1", *v)
	require.Equal(t, []string{"A", "B", "--v"}, rest)
}

func TestKeygenWritesASolanaKeypairOnceAndAddressReadsIt(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/keys/member.json"
	o := ugov(t, nil, "keygen", "--outfile", path)
	require.Equal(t, 0, o.code, o.stderr)
	kp, err := chain.LoadKeypair(path)
	require.NoError(t, err, "the file is in the Solana CLI's format")
	assert.Contains(t, o.stdout, kp.PublicKey().String())
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "only its owner reads a secret key")

	before, err := os.ReadFile(path)
	require.NoError(t, err)
	o = ugov(t, nil, "keygen", "--outfile", path)
	assert.Equal(t, 1, o.code)
	assert.Contains(t, o.stderr, "--outfile")
	assert.Contains(t, o.stderr, "--force")
	after, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, before, after, "an existing key is never replaced without --force")

	o = ugov(t, nil, "address", "--keypair", path)
	require.Equal(t, 0, o.code, o.stderr)
	assert.Equal(t, kp.PublicKey().String()+"\n", o.stdout)
	o = ugov(t, nil, "address", "--keypair", dir+"/missing.json")
	assert.Equal(t, 1, o.code)
	assert.Contains(t, o.stderr, "--keypair")

	o = ugov(t, nil, "keygen", "--outfile", path, "--force")
	require.Equal(t, 0, o.code, o.stderr)
	replaced, err := chain.LoadKeypair(path)
	require.NoError(t, err)
	assert.NotEqual(t, kp.PublicKey(), replaced.PublicKey())
}

// A deployment of the governor under another address builds ugov for it: with -ldflags the
// build signs for that id (its --program-id check passes and it goes to the network), while
// the default build refuses the id before any request.
func TestABuildForAnotherProgramIDSignsForIt(t *testing.T) {
	other := solana.NewWallet().PublicKey().String()
	bin := filepath.Join(t.TempDir(), "ugov")
	build := exec.Command("go", "build", "-o", bin,
		"-ldflags", "-X github.com/upgrade-governor/upgrade-governor/internal/governor.programID="+other, ".")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)

	rpc := newTripwire(t)
	o := ugov(t, nil, "show", keyA, "--program-id", other, "--rpc-url", rpc.URL)
	require.Equal(t, 2, o.code, "the default build refuses another id: %s", o.stderr)
	require.Contains(t, o.stderr, "--program-id: this build of ugov signs for the governor")
	require.Zero(t, rpc.hits.Load())

	cmd := exec.Command(bin, "show", keyA, "--program-id", other, "--rpc-url", rpc.URL)
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}
	out, _ = cmd.CombinedOutput()
	require.NotContains(t, string(out), "--program-id", "the build for %s accepts it", other)
	require.Positive(t, rpc.hits.Load(), "it went on to the network: %s", out)
}
