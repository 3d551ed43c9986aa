package clitools

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gagliardetto/solana-go"
	"github.com/stretchr/testify/require"

	"github.com/upgrade-governor/upgrade-governor/internal/api"
	"github.com/upgrade-governor/upgrade-governor/internal/governor"
)

const ciProposePath = repoRoot + "/examples/ci-propose.sh"

// TestExampleCIProposeScript runs examples/ci-propose.sh, the CI job of the examples, with the
// real tools and a freshly built ugov against the stack: a governed program, a member as the
// CI deployer, v2 as the release. The proposal it prints exists in the API with solana-verify's
// hash of the ELF; an invalid MULTISIG fails with a message before anything is paid or proposed.
func TestExampleCIProposeScript(t *testing.T) {
	e := newEnv(t)
	g := e.newGovernance()
	team := e.wallet("team")
	program := e.deploy(team, elfPath(1), len(readELF(t, 2)))
	e.onboardResults(team.Path, g.Multisig, "govern", program.String())
	ci := g.Members[0]

	binDir := t.TempDir()
	out, err := exec.Command("go", "build", "-o", binDir+"/", repoRoot+"/cmd/ugov").CombinedOutput()
	require.NoError(t, err, "go build ugov: %s", out)

	script := func(multisig string) cliResult {
		t.Helper()
		return e.exec("bash", []string{ciProposePath},
			"RPC_URL="+e.stack.RPCURL, "WS_URL="+e.wsURL(), "API_URL="+e.stack.APIURL,
			"KEYPAIR="+ci.Path, "MULTISIG="+multisig, "PROGRAM_ID="+program.String(),
			"ELF="+elfPath(2), "DESCRIPTION=counter v2 from CI",
			"GOVERNOR_PROGRAM_ID="+governor.ProgramID.String(),
			"SOLANA="+e.solana, "SOLANA_VERIFY="+e.verify, "UGOV="+filepath.Join(binDir, "ugov"))
	}
	proposals := func() api.ProposalListResponse {
		t.Helper()
		var l api.ProposalListResponse
		require.NoError(t, e.get("/proposals?program="+program.String(), &l))
		return l
	}

	// A MULTISIG that is not an address: a clear failure, no fee spent, nothing proposed.
	before, err := e.stack.Chain.Balance(e.ctx, ci.PublicKey())
	require.NoError(t, err)
	bad := script("not-a-multisig")
	require.Error(t, bad.Err, "%s", bad)
	require.Contains(t, bad.Stderr, "MULTISIG=not-a-multisig is not a valid address", "%s", bad)
	require.Empty(t, strings.TrimSpace(bad.Stdout), "no proposal printed")
	after, err := e.stack.Chain.Balance(e.ctx, ci.PublicKey())
	require.NoError(t, err)
	require.Equal(t, before, after, "nothing was written or paid for")
	require.Zero(t, proposals().Total, "nothing was proposed")

	// The release: the script prints the proposal, which the API shows with solana-verify's hash.
	r := script(g.Multisig.String())
	require.NoError(t, r.Err, "%s", r)
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	require.Len(t, lines, 1, "stdout is the proposal address only: %q", r.Stdout)
	proposal, err := solana.PublicKeyFromBase58(lines[0])
	require.NoError(t, err, "stdout: %q", r.Stdout)

	var d api.ProposalDetailResponse
	require.NoError(t, e.get("/proposals/"+proposal.String(), &d))
	require.Equal(t, "chain", d.Source, "ugov waited for the workflow to propose on chain")
	p := d.Proposal
	require.Equal(t, e.verifyHash("get-executable-hash", elfPath(2)), p.BufferHash, "the proposal's hash is solana-verify's hash of the ELF")
	require.Equal(t, hexHash(readELF(t, 2)), p.BufferHash)
	require.Equal(t, g.Multisig.String(), p.Multisig)
	require.Equal(t, program.String(), p.TargetProgram)
	require.Equal(t, ci.PublicKey().String(), p.Proposer)
	require.Equal(t, "active", p.Status)
	buf, err := e.stack.Chain.GetBuffer(e.ctx, solana.MustPublicKeyFromBase58(p.Buffer))
	require.NoError(t, err)
	require.Equal(t, g.Authority, *buf.Authority, "the buffer belongs to the multisig's PDA")
	// The index (GET /proposals) lists it with the CI's description once the worker recorded it.
	require.Eventually(t, func() bool { return proposals().Total == 1 }, time.Minute, 300*time.Millisecond)
	listed := proposals().Proposals[0]
	require.Equal(t, proposal.String(), listed.Address)
	require.Equal(t, "counter v2 from CI", listed.Description)
}
