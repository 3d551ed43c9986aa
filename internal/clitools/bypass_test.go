package clitools

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestCLICannotBypassGovernance: once the PDA holds the upgrade authority, neither a member's
// key nor the team's former authority key changes the program with the CLI's own commands.
// Each attempt fails and leaves the program's bytes, deploy slot and authority as they were.
func TestCLICannotBypassGovernance(t *testing.T) {
	e := newEnv(t)
	g := e.newGovernance()
	team := e.wallet("team")
	member := g.Members[0]

	// Room for v2, so an upgrade attempt reaches the loader's authority check (a ProgramData
	// too small for the buffer is refused before the authority is looked at).
	program := e.deploy(team, elfPath(1), len(readELF(t, 2)))
	e.onboardResults(team.Path, g.Multisig, "govern", program.String())
	// A buffer staged for governance (its authority is the PDA), and the member's own buffer.
	governed := e.onboardResults(team.Path, g.Multisig, "buffer", elfPath(2))["buffer"]
	require.NotEmpty(t, governed)
	own := func(w wallet) string {
		out := e.mustSolana(w.Path, "program", "write-buffer", elfPath(2), "--use-rpc")
		addr := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(lastLine(out)), "Buffer:"))
		require.NotEmpty(t, addr, out)
		return addr
	}
	memberBuffer, teamBuffer := own(member), own(team)

	// The control: the same CLI upgrade of a v0 ELF works on an ungoverned program by its
	// authority, so what stops the attempts below is the authority, not the tool or the ELF.
	ungoverned := e.deploy(team, elfPath(1), len(readELF(t, 2)))
	e.mustSolana(team.Path, "program", "upgrade", own(team), ungoverned.String(), "--upgrade-authority", team.Path)
	require.True(t, bytes.Equal(readELF(t, 2), pdAfter(t, e, ungoverned).ELF), "the control upgrade replaced the bytes")

	before := pdAfter(t, e, program)
	shown := e.show(team.Path, program)
	require.Equal(t, g.Authority.String(), shown.Authority)
	pid := program.String()

	for _, tc := range []struct {
		name    string
		keypair string
		args    []string
		// chainRefuses is the loader's error when the transaction reaches the chain, in
		// preflight and, with --skip-preflight, landed; empty when the CLI itself refuses
		// before sending (it reads the authority from the chain first).
		chainRefuses string
	}{
		{name: "MemberUpgradesFromOwnBuffer", keypair: member.Path, chainRefuses: "Incorrect authority provided",
			args: []string{"program", "upgrade", memberBuffer, pid, "--upgrade-authority", member.Path}},
		{name: "FormerAuthorityUpgrades", keypair: team.Path, chainRefuses: "Incorrect authority provided",
			args: []string{"program", "upgrade", teamBuffer, pid, "--upgrade-authority", team.Path}},
		{name: "MemberTakesUpgradeAuthority", keypair: member.Path, chainRefuses: "Incorrect authority provided",
			args: []string{"program", "set-upgrade-authority", pid, "--upgrade-authority", member.Path,
				"--new-upgrade-authority", member.PublicKey().String(), "--skip-new-upgrade-authority-signer-check"}},
		{name: "FormerAuthorityTakesItBack", keypair: team.Path, chainRefuses: "Incorrect authority provided",
			args: []string{"program", "set-upgrade-authority", pid, "--upgrade-authority", team.Path,
				"--new-upgrade-authority", team.PublicKey().String(), "--skip-new-upgrade-authority-signer-check"}},
		{name: "MemberMakesProgramImmutable", keypair: member.Path, chainRefuses: "Incorrect authority provided",
			args: []string{"program", "set-upgrade-authority", pid, "--upgrade-authority", member.Path, "--final"}},
		{name: "MemberUpgradesFromGovernedBuffer", keypair: member.Path,
			args: []string{"program", "upgrade", governed, pid, "--upgrade-authority", member.Path}},
		{name: "MemberDeploysOverProgram", keypair: member.Path,
			args: []string{"program", "deploy", elfPath(2), "--program-id", pid, "--upgrade-authority", member.Path, "--use-rpc"}},
		{name: "MemberClosesProgram", keypair: member.Path,
			args: []string{"program", "close", pid, "--authority", member.Path, "--bypass-warning"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.solanaCLI(tc.keypair, tc.args...)
			require.Error(t, r.Err, "the CLI must fail:\n%s", r)
			if tc.chainRefuses != "" {
				require.Contains(t, r.Stdout+r.Stderr, tc.chainRefuses, "the loader refuses in preflight:\n%s", r)
				// Without preflight the transaction lands and fails in the loader.
				r = e.solanaCLI(tc.keypair, append([]string{"--skip-preflight"}, tc.args...)...)
				require.Error(t, r.Err, "the CLI must fail:\n%s", r)
				require.Contains(t, r.Stdout+r.Stderr, tc.chainRefuses, "the loader refuses the landed transaction:\n%s", r)
			}
			after := pdAfter(t, e, program)
			require.Equal(t, before.Slot, after.Slot, "last deploy slot")
			require.Equal(t, *before.UpgradeAuthority, *after.UpgradeAuthority, "upgrade authority")
			require.True(t, bytes.Equal(before.ELF, after.ELF), "program bytes")
			require.Equal(t, shown, e.show(team.Path, program), "solana program show")
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
