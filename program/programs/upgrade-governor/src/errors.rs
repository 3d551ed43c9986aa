use anchor_lang::prelude::*;

/// One error per broken rule. Codes are stable: the off-chain side maps them by number.
#[error_code]
pub enum GovernorError {
    #[msg("A multisig needs at least one member")]
    NoMembers,
    #[msg("Too many members")]
    TooManyMembers,
    #[msg("A member is listed twice")]
    DuplicateMember,
    #[msg("Threshold must be between 1 and the number of members")]
    InvalidThreshold,
    #[msg("Timelock is shorter than the minimum")]
    TimelockTooShort,
    #[msg("Proposal lifetime must be positive")]
    InvalidProposalLifetime,
    #[msg("Signer is not a member of the multisig")]
    NotAMember,
    #[msg("Signer is neither a member nor the guardian")]
    NotMemberOrGuardian,
    #[msg("Member has already approved this proposal")]
    AlreadyApproved,
    #[msg("Proposal is not active")]
    ProposalNotActive,
    #[msg("Proposal has expired")]
    ProposalExpired,
    #[msg("Proposal is not approved")]
    ProposalNotApproved,
    #[msg("Timelock has not passed")]
    TimelockNotPassed,
    #[msg("System is paused")]
    SystemPaused,
    #[msg("System is not paused")]
    SystemNotPaused,
    #[msg("Proposal was already executed")]
    AlreadyExecuted,
    #[msg("Proposal was already cancelled")]
    AlreadyCancelled,
    #[msg("Account is not an upgradeable program")]
    NotUpgradeableProgram,
    #[msg("ProgramData account does not belong to the target program")]
    WrongProgramData,
    #[msg("The target program's upgrade authority is not the governor's authority PDA")]
    ProgramNotGoverned,
    #[msg("Account is not a loader buffer")]
    NotABuffer,
    #[msg("The buffer's authority is not the governor's authority PDA")]
    BufferAuthorityMismatch,
    #[msg("The buffer's ELF hash does not match the proposal")]
    BufferHashMismatch,
    #[msg("The buffer is empty")]
    EmptyBuffer,
    #[msg("The target program was upgraded after this proposal was made")]
    ProgramChangedSinceProposal,
    #[msg("ProgramData is smaller than the new ELF: extend the program first")]
    ProgramDataTooSmall,
    #[msg("Description is too long")]
    DescriptionTooLong,
    #[msg("Migration instruction data is too long")]
    MigrationDataTooLong,
    #[msg("This proposal declares no migration")]
    NoMigrationDeclared,
    #[msg("Migrations run only after the proposal executed")]
    MigrationBeforeExecution,
    #[msg("No accounts to migrate")]
    NothingToMigrate,
    #[msg("Too many accounts in one migration instruction")]
    TooManyAccounts,
    #[msg("Account to migrate is not owned by the target program")]
    AccountNotOwnedByTarget,
    /// No longer returned: resume is now voted on by members one transaction each. Kept so
    /// the codes after it do not move.
    #[msg("Not enough distinct member signatures to resume")]
    NotEnoughSignatures,
    #[msg("Wrong program account")]
    WrongTargetProgram,
    #[msg("Wrong buffer account")]
    WrongBuffer,
    #[msg("Wrong spill account: the buffer's lamports return to the proposer")]
    WrongSpill,
    #[msg("Arithmetic overflow")]
    Overflow,
    #[msg("Timelock is longer than the maximum")]
    TimelockTooLong,
    #[msg("Proposal lifetime is longer than the maximum")]
    ProposalLifetimeTooLong,
    #[msg("Grace period must be between one hour and 365 days")]
    InvalidGracePeriod,
    #[msg(
        "The approval expired: the proposal was not executed within its grace period after the eta"
    )]
    ApprovalExpired,
    #[msg("Maximum pause must be between one hour and 30 days")]
    InvalidMaxPause,
    #[msg("Pause cool-down must be between 0 and 90 days")]
    InvalidPauseCooldown,
    #[msg(
        "This key paused before and its pause lapsed or was overruled: it cannot pause again before its cool-down ends"
    )]
    PauseCoolingDown,
    #[msg("This member has already voted")]
    AlreadyVoted,
    #[msg(
        "The migration plan is inconsistent: from_version equals target_version, or the version offset lies outside the data size"
    )]
    InvalidMigrationPlan,
    #[msg(
        "A later upgrade of this program executed: this proposal's migration plan no longer applies"
    )]
    MigrationPlanSuperseded,
    #[msg(
        "A config change altered the members or the threshold after this proposal was created: it can no longer be approved or executed"
    )]
    ProposalStale,
    #[msg("This proposal changes the multisig's configuration; it does not upgrade a program")]
    NotAnUpgradeProposal,
    #[msg("This proposal upgrades a program; it does not change the multisig's configuration")]
    NotAConfigProposal,
    #[msg("A config proposal needs 1 to 8 actions")]
    InvalidConfigActions,
    #[msg(
        "Invalid config action: a field its kind does not use is set, a key is missing, it hands a program to this multisig's own authority, or it names a program twice"
    )]
    InvalidConfigAction,
    #[msg("The member to remove is not a member")]
    MemberNotFound,
    #[msg("The guardian cannot cancel a proposal that replaces the guardian")]
    GuardianCannotCancelGuardianChange,
    #[msg("The new authority account differs from the one the proposal names")]
    WrongNewAuthority,
    #[msg(
        "execute_config needs, for each program hand-off in order, the program, its ProgramData and the new authority when there is one, and nothing else"
    )]
    MissingConfigAccounts,
}
