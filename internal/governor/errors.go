package governor

import "fmt"

// Error is a program error: one of GovernorError's rules (codes from 6000, in the order of
// errors.rs) or one of Anchor's own (below 6000). Program errors are deterministic: sending
// the same transaction again fails the same way.
type Error struct {
	Code uint32
	Name string
	Msg  string
}

func (e *Error) Error() string {
	return fmt.Sprintf("program error %d %s: %s", e.Code, e.Name, e.Msg)
}

// Is matches errors by code, so errors.Is(err, governor.ErrTimelockNotPassed) holds for any
// error that wraps the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// ErrorCodeOffset is where GovernorError's codes start (anchor_lang ERROR_CODE_OFFSET).
const ErrorCodeOffset = 6000

// GovernorError's variants, in declaration order (code = 6000 + index).
var (
	ErrNoMembers                          = &Error{Code: 6000, Name: "NoMembers", Msg: "A multisig needs at least one member"}
	ErrTooManyMembers                     = &Error{Code: 6001, Name: "TooManyMembers", Msg: "Too many members"}
	ErrDuplicateMember                    = &Error{Code: 6002, Name: "DuplicateMember", Msg: "A member is listed twice"}
	ErrInvalidThreshold                   = &Error{Code: 6003, Name: "InvalidThreshold", Msg: "Threshold must be between 1 and the number of members"}
	ErrTimelockTooShort                   = &Error{Code: 6004, Name: "TimelockTooShort", Msg: "Timelock is shorter than the minimum"}
	ErrInvalidProposalLifetime            = &Error{Code: 6005, Name: "InvalidProposalLifetime", Msg: "Proposal lifetime must be positive"}
	ErrNotAMember                         = &Error{Code: 6006, Name: "NotAMember", Msg: "Signer is not a member of the multisig"}
	ErrNotMemberOrGuardian                = &Error{Code: 6007, Name: "NotMemberOrGuardian", Msg: "Signer is neither a member nor the guardian"}
	ErrAlreadyApproved                    = &Error{Code: 6008, Name: "AlreadyApproved", Msg: "Member has already approved this proposal"}
	ErrProposalNotActive                  = &Error{Code: 6009, Name: "ProposalNotActive", Msg: "Proposal is not active"}
	ErrProposalExpired                    = &Error{Code: 6010, Name: "ProposalExpired", Msg: "Proposal has expired"}
	ErrProposalNotApproved                = &Error{Code: 6011, Name: "ProposalNotApproved", Msg: "Proposal is not approved"}
	ErrTimelockNotPassed                  = &Error{Code: 6012, Name: "TimelockNotPassed", Msg: "Timelock has not passed"}
	ErrSystemPaused                       = &Error{Code: 6013, Name: "SystemPaused", Msg: "System is paused"}
	ErrSystemNotPaused                    = &Error{Code: 6014, Name: "SystemNotPaused", Msg: "System is not paused"}
	ErrAlreadyExecuted                    = &Error{Code: 6015, Name: "AlreadyExecuted", Msg: "Proposal was already executed"}
	ErrAlreadyCancelled                   = &Error{Code: 6016, Name: "AlreadyCancelled", Msg: "Proposal was already cancelled"}
	ErrNotUpgradeableProgram              = &Error{Code: 6017, Name: "NotUpgradeableProgram", Msg: "Account is not an upgradeable program"}
	ErrWrongProgramData                   = &Error{Code: 6018, Name: "WrongProgramData", Msg: "ProgramData account does not belong to the target program"}
	ErrProgramNotGoverned                 = &Error{Code: 6019, Name: "ProgramNotGoverned", Msg: "The target program's upgrade authority is not the governor's authority PDA"}
	ErrNotABuffer                         = &Error{Code: 6020, Name: "NotABuffer", Msg: "Account is not a loader buffer"}
	ErrBufferAuthorityMismatch            = &Error{Code: 6021, Name: "BufferAuthorityMismatch", Msg: "The buffer's authority is not the governor's authority PDA"}
	ErrBufferHashMismatch                 = &Error{Code: 6022, Name: "BufferHashMismatch", Msg: "The buffer's ELF hash does not match the proposal"}
	ErrEmptyBuffer                        = &Error{Code: 6023, Name: "EmptyBuffer", Msg: "The buffer is empty"}
	ErrProgramChangedSinceProposal        = &Error{Code: 6024, Name: "ProgramChangedSinceProposal", Msg: "The target program was upgraded after this proposal was made"}
	ErrProgramDataTooSmall                = &Error{Code: 6025, Name: "ProgramDataTooSmall", Msg: "ProgramData is smaller than the new ELF: extend the program first"}
	ErrDescriptionTooLong                 = &Error{Code: 6026, Name: "DescriptionTooLong", Msg: "Description is too long"}
	ErrMigrationDataTooLong               = &Error{Code: 6027, Name: "MigrationDataTooLong", Msg: "Migration instruction data is too long"}
	ErrNoMigrationDeclared                = &Error{Code: 6028, Name: "NoMigrationDeclared", Msg: "This proposal declares no migration"}
	ErrMigrationBeforeExecution           = &Error{Code: 6029, Name: "MigrationBeforeExecution", Msg: "Migrations run only after the proposal executed"}
	ErrNothingToMigrate                   = &Error{Code: 6030, Name: "NothingToMigrate", Msg: "No accounts to migrate"}
	ErrTooManyAccounts                    = &Error{Code: 6031, Name: "TooManyAccounts", Msg: "Too many accounts in one migration instruction"}
	ErrAccountNotOwnedByTarget            = &Error{Code: 6032, Name: "AccountNotOwnedByTarget", Msg: "Account to migrate is not owned by the target program"}
	ErrNotEnoughSignatures                = &Error{Code: 6033, Name: "NotEnoughSignatures", Msg: "Not enough distinct member signatures to resume"}
	ErrWrongTargetProgram                 = &Error{Code: 6034, Name: "WrongTargetProgram", Msg: "Wrong program account"}
	ErrWrongBuffer                        = &Error{Code: 6035, Name: "WrongBuffer", Msg: "Wrong buffer account"}
	ErrWrongSpill                         = &Error{Code: 6036, Name: "WrongSpill", Msg: "Wrong spill account: the buffer's lamports return to the proposer"}
	ErrOverflow                           = &Error{Code: 6037, Name: "Overflow", Msg: "Arithmetic overflow"}
	ErrTimelockTooLong                    = &Error{Code: 6038, Name: "TimelockTooLong", Msg: "Timelock is longer than the maximum"}
	ErrProposalLifetimeTooLong            = &Error{Code: 6039, Name: "ProposalLifetimeTooLong", Msg: "Proposal lifetime is longer than the maximum"}
	ErrInvalidGracePeriod                 = &Error{Code: 6040, Name: "InvalidGracePeriod", Msg: "Grace period must be between one hour and 365 days"}
	ErrApprovalExpired                    = &Error{Code: 6041, Name: "ApprovalExpired", Msg: "The approval expired: the proposal was not executed within its grace period after the eta"}
	ErrInvalidMaxPause                    = &Error{Code: 6042, Name: "InvalidMaxPause", Msg: "Maximum pause must be between one hour and 30 days"}
	ErrInvalidPauseCooldown               = &Error{Code: 6043, Name: "InvalidPauseCooldown", Msg: "Pause cool-down must be between 0 and 90 days"}
	ErrPauseCoolingDown                   = &Error{Code: 6044, Name: "PauseCoolingDown", Msg: "This key paused before and its pause lapsed or was overruled: it cannot pause again before its cool-down ends"}
	ErrAlreadyVoted                       = &Error{Code: 6045, Name: "AlreadyVoted", Msg: "This member has already voted"}
	ErrInvalidMigrationPlan               = &Error{Code: 6046, Name: "InvalidMigrationPlan", Msg: "The migration plan is inconsistent: from_version equals target_version, or the version offset lies outside the data size"}
	ErrMigrationPlanSuperseded            = &Error{Code: 6047, Name: "MigrationPlanSuperseded", Msg: "A later upgrade of this program executed: this proposal's migration plan no longer applies"}
	ErrProposalStale                      = &Error{Code: 6048, Name: "ProposalStale", Msg: "A config change altered the members or the threshold after this proposal was created: it can no longer be approved or executed"}
	ErrNotAnUpgradeProposal               = &Error{Code: 6049, Name: "NotAnUpgradeProposal", Msg: "This proposal changes the multisig's configuration; it does not upgrade a program"}
	ErrNotAConfigProposal                 = &Error{Code: 6050, Name: "NotAConfigProposal", Msg: "This proposal upgrades a program; it does not change the multisig's configuration"}
	ErrInvalidConfigActions               = &Error{Code: 6051, Name: "InvalidConfigActions", Msg: "A config proposal needs 1 to 8 actions"}
	ErrInvalidConfigAction                = &Error{Code: 6052, Name: "InvalidConfigAction", Msg: "Invalid config action: a field its kind does not use is set, a key is missing, it hands a program to this multisig's own authority, or it names a program twice"}
	ErrMemberNotFound                     = &Error{Code: 6053, Name: "MemberNotFound", Msg: "The member to remove is not a member"}
	ErrGuardianCannotCancelGuardianChange = &Error{Code: 6054, Name: "GuardianCannotCancelGuardianChange", Msg: "The guardian cannot cancel a proposal that replaces the guardian"}
	ErrWrongNewAuthority                  = &Error{Code: 6055, Name: "WrongNewAuthority", Msg: "The new authority account differs from the one the proposal names"}
	ErrMissingConfigAccounts              = &Error{Code: 6056, Name: "MissingConfigAccounts", Msg: "execute_config needs, for each program hand-off in order, the program, its ProgramData and the new authority when there is one, and nothing else"}
)

// governorErrors lists GovernorError's variants by index.
var governorErrors = []*Error{
	ErrNoMembers,
	ErrTooManyMembers,
	ErrDuplicateMember,
	ErrInvalidThreshold,
	ErrTimelockTooShort,
	ErrInvalidProposalLifetime,
	ErrNotAMember,
	ErrNotMemberOrGuardian,
	ErrAlreadyApproved,
	ErrProposalNotActive,
	ErrProposalExpired,
	ErrProposalNotApproved,
	ErrTimelockNotPassed,
	ErrSystemPaused,
	ErrSystemNotPaused,
	ErrAlreadyExecuted,
	ErrAlreadyCancelled,
	ErrNotUpgradeableProgram,
	ErrWrongProgramData,
	ErrProgramNotGoverned,
	ErrNotABuffer,
	ErrBufferAuthorityMismatch,
	ErrBufferHashMismatch,
	ErrEmptyBuffer,
	ErrProgramChangedSinceProposal,
	ErrProgramDataTooSmall,
	ErrDescriptionTooLong,
	ErrMigrationDataTooLong,
	ErrNoMigrationDeclared,
	ErrMigrationBeforeExecution,
	ErrNothingToMigrate,
	ErrTooManyAccounts,
	ErrAccountNotOwnedByTarget,
	ErrNotEnoughSignatures,
	ErrWrongTargetProgram,
	ErrWrongBuffer,
	ErrWrongSpill,
	ErrOverflow,
	ErrTimelockTooLong,
	ErrProposalLifetimeTooLong,
	ErrInvalidGracePeriod,
	ErrApprovalExpired,
	ErrInvalidMaxPause,
	ErrInvalidPauseCooldown,
	ErrPauseCoolingDown,
	ErrAlreadyVoted,
	ErrInvalidMigrationPlan,
	ErrMigrationPlanSuperseded,
	ErrProposalStale,
	ErrNotAnUpgradeProposal,
	ErrNotAConfigProposal,
	ErrInvalidConfigActions,
	ErrInvalidConfigAction,
	ErrMemberNotFound,
	ErrGuardianCannotCancelGuardianChange,
	ErrWrongNewAuthority,
	ErrMissingConfigAccounts,
}

var errorsByCode = func() map[uint32]*Error {
	m := make(map[uint32]*Error, len(governorErrors)+len(anchorErrors))
	for _, e := range anchorErrors {
		m[e.Code] = e
	}
	for _, e := range governorErrors {
		m[e.Code] = e
	}
	return m
}()

// ErrorFromCode maps a custom program error code (InstructionError::Custom) of the governor
// to its error: a GovernorError rule or an Anchor framework error. ok is false for a code
// neither defines.
func ErrorFromCode(code uint32) (e *Error, ok bool) {
	e, ok = errorsByCode[code]
	return e, ok
}
