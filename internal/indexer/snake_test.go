package indexer

import "testing"

func TestSnakeMatchesTheAuditActionForm(t *testing.T) {
	for in, want := range map[string]string{
		"UpgradeApproved":     "upgrade_approved",
		"MultisigInitialized": "multisig_initialized",
		"SystemPaused":        "system_paused",
	} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
