package governor

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorFromCode(t *testing.T) {
	cases := map[uint32]string{
		6000: "NoMembers",
		6012: "TimelockNotPassed",
		6013: "SystemPaused",
		6025: "ProgramDataTooSmall",
		6037: "Overflow",
		6038: "TimelockTooLong",
		6039: "ProposalLifetimeTooLong",
		6040: "InvalidGracePeriod",
		6041: "ApprovalExpired",
		6045: "AlreadyVoted",
		6046: "InvalidMigrationPlan",
		6047: "MigrationPlanSuperseded",
		6048: "ProposalStale",
		6054: "GuardianCannotCancelGuardianChange",
		6056: "MissingConfigAccounts",
		2006: "ConstraintSeeds",
		3012: "AccountNotInitialized",
		101:  "InstructionFallbackNotFound",
	}
	for code, name := range cases {
		e, ok := ErrorFromCode(code)
		if !ok || e.Name != name || e.Code != code {
			t.Errorf("ErrorFromCode(%d) = %+v, %v; want %s", code, e, ok, name)
		}
	}
	if _, ok := ErrorFromCode(6057); ok {
		t.Error("6057 is past the last GovernorError")
	}
	if len(governorErrors) != 57 {
		t.Errorf("%d governor errors, errors.rs has 57", len(governorErrors))
	}
	for i, e := range governorErrors {
		if e.Code != ErrorCodeOffset+uint32(i) {
			t.Errorf("%s has code %d, want %d", e.Name, e.Code, ErrorCodeOffset+i)
		}
	}
}

func TestErrorsMatchByCode(t *testing.T) {
	e, _ := ErrorFromCode(6012)
	wrapped := fmt.Errorf("execute: %w", e)
	if !errors.Is(wrapped, ErrTimelockNotPassed) || errors.Is(wrapped, ErrSystemPaused) {
		t.Fatal("errors.Is does not match by code")
	}
	if got := ErrSystemPaused.Error(); got != "program error 6013 SystemPaused: System is paused" {
		t.Fatalf("Error() = %q", got)
	}
}
