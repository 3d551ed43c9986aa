//! A test chain for the governance program: LiteSVM (the Agave runtime) with the program
//! compiled natively and registered through `native-svm`, plus builders for every instruction.
//! Tests drive real transactions: real signer checks, real CPI into the loader, real Clock.
// LiteSVM's failure type carries the logs; tests want it whole, not boxed.
#![allow(clippy::result_large_err)]
use anchor_lang::{AccountDeserialize, InstructionData, ToAccountMetas};
use litesvm::types::{FailedTransactionMetadata, TransactionMetadata};
use litesvm::LiteSVM;
use solana_account::Account;
use solana_clock::Clock;
use solana_instruction::{AccountMeta, Instruction};
use solana_keypair::Keypair;
use solana_message::Message;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use upgrade_governor::state::{
    ConfigAction, ConfigActionKind, GovernedProgram, MigrationPlan, Multisig, Proposal,
    AUTHORITY_SEED, GOVERNED_PROGRAM_SEED, MIGRATION_SEED, MULTISIG_SEED, PROPOSAL_SEED,
};
use upgrade_governor::GovernorError;

pub use anchor_lang::prelude::Pubkey;
pub use solana_instruction_error::InstructionError;

/// The example governed program (sBPF assembly), v1 and v2: real SBF ELFs.
pub const COUNTER_V1: &[u8] =
    include_bytes!("../../examples/governed-counter/elf/governed_counter_v1.so");
pub const COUNTER_V2: &[u8] =
    include_bytes!("../../examples/governed-counter/elf/governed_counter_v2.so");

pub const LOADER: Pubkey = anchor_lang::solana_program::bpf_loader_upgradeable::ID;
const SYSTEM: Pubkey = anchor_lang::solana_program::system_program::ID;

pub const HOUR: i64 = 3600;
pub const TIMELOCK: i64 = 48 * HOUR;
pub const LIFETIME: i64 = 7 * 24 * HOUR;
/// Default grace period after the eta (Compound's timelock uses 14 days).
pub const GRACE: i64 = 14 * 24 * HOUR;
/// Default longest pause fewer than `threshold` members can hold.
pub const MAX_PAUSE: i64 = 72 * HOUR;
/// Default cool-down of a key whose pause lapsed or was overruled.
pub const PAUSE_COOLDOWN: i64 = 7 * 24 * HOUR;
/// Start of the test chain's clock (any realistic unix time).
pub const GENESIS_TIME: i64 = 1_780_000_000;

pub type TxResult = Result<TransactionMetadata, FailedTransactionMetadata>;

pub struct Chain {
    pub svm: LiteSVM,
    pub payer: Keypair,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    pub fn new() -> Self {
        let mut svm = LiteSVM::new();
        native_svm::add_native_program(&mut svm, upgrade_governor::ID, upgrade_governor::entry);
        let payer = Keypair::new();
        svm.airdrop(&payer.pubkey(), 1_000_000_000_000).unwrap();
        let mut chain = Chain { svm, payer };
        chain.set_time(GENESIS_TIME);
        chain
    }

    pub fn funded(&mut self) -> Keypair {
        let k = Keypair::new();
        self.svm.airdrop(&k.pubkey(), 10_000_000_000).unwrap();
        k
    }

    pub fn now(&self) -> i64 {
        self.svm.get_sysvar::<Clock>().unix_timestamp
    }

    pub fn set_time(&mut self, unix: i64) {
        let mut clock = self.svm.get_sysvar::<Clock>();
        clock.unix_timestamp = unix;
        self.svm.set_sysvar(&clock);
    }

    /// Moves the clock forward and the slot by at least one, as a real chain would.
    pub fn advance(&mut self, seconds: i64) {
        let mut clock = self.svm.get_sysvar::<Clock>();
        clock.unix_timestamp += seconds;
        clock.slot += 1 + (seconds.max(0) as u64) * 5 / 2;
        self.svm.set_sysvar(&clock);
        self.svm.expire_blockhash();
    }

    pub fn send(&mut self, ixs: &[Instruction], signers: &[&Keypair]) -> TxResult {
        let mut all: Vec<&Keypair> = vec![&self.payer];
        all.extend(signers.iter().copied());
        let msg = Message::new(ixs, Some(&self.payer.pubkey()));
        let tx = Transaction::new(&all, msg, self.svm.latest_blockhash());
        let res = self.svm.send_transaction(tx);
        // Vary the blockhash so an identical later transaction is not "AlreadyProcessed".
        self.svm.expire_blockhash();
        res
    }

    pub fn account(&self, key: &Pubkey) -> Option<Account> {
        self.svm.get_account(key)
    }

    pub fn anchor<T: AccountDeserialize>(&self, key: &Pubkey) -> T {
        let acc = self.account(key).expect("account exists");
        T::try_deserialize(&mut acc.data.as_slice()).expect("account decodes")
    }
}

/// The Anchor error code of a governor rule, as it appears in `InstructionError::Custom`.
pub fn code(e: GovernorError) -> u32 {
    anchor_lang::error::ERROR_CODE_OFFSET + e as u32
}

/// Asserts that a transaction failed with the given governor error in some instruction.
#[track_caller]
pub fn assert_rule(res: TxResult, e: GovernorError) {
    match res {
        Ok(meta) => panic!("expected {e:?}, transaction succeeded: {:#?}", meta.logs),
        Err(f) => match f.err {
            TransactionError::InstructionError(_, InstructionError::Custom(c)) if c == code(e) => {}
            other => panic!(
                "expected {e:?} ({}), got {other:?}\nlogs: {:#?}",
                code(e),
                f.meta.logs
            ),
        },
    }
}

#[track_caller]
pub fn assert_ok(res: TxResult) -> TransactionMetadata {
    match res {
        Ok(meta) => meta,
        Err(f) => panic!("transaction failed: {:?}\nlogs: {:#?}", f.err, f.meta.logs),
    }
}

/// The governor's events of type `T` a transaction emitted (`emit_cpi!`: inner instructions
/// whose data is Anchor's event tag, `T`'s discriminator, then Borsh), in order.
pub fn events<T: anchor_lang::Discriminator + anchor_lang::AnchorDeserialize>(
    meta: &TransactionMetadata,
) -> Vec<T> {
    meta.inner_instructions
        .iter()
        .flatten()
        .filter_map(|inner| {
            let data = inner.instruction.data.as_slice();
            let data = data.strip_prefix(anchor_lang::event::EVENT_IX_TAG_LE)?;
            let data = data.strip_prefix(T::DISCRIMINATOR)?;
            T::try_from_slice(data).ok()
        })
        .collect()
}

pub fn multisig_pda(create_key: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[MULTISIG_SEED, create_key.as_ref()], &upgrade_governor::ID).0
}

pub fn authority_pda(multisig: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[AUTHORITY_SEED, multisig.as_ref()], &upgrade_governor::ID).0
}

pub fn proposal_pda(multisig: &Pubkey, index: u64) -> Pubkey {
    Pubkey::find_program_address(
        &[PROPOSAL_SEED, multisig.as_ref(), &index.to_le_bytes()],
        &upgrade_governor::ID,
    )
    .0
}

/// The record of `program` under `multisig`: created by its first proposal, updated by every
/// executed upgrade.
pub fn governed_program_pda(multisig: &Pubkey, program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[GOVERNED_PROGRAM_SEED, multisig.as_ref(), program.as_ref()],
        &upgrade_governor::ID,
    )
    .0
}

/// The signer of `program`'s migrate instruction: the authority of nothing.
pub fn migration_signer_pda(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[MIGRATION_SEED, program.as_ref()], &upgrade_governor::ID).0
}

pub fn event_authority() -> Pubkey {
    Pubkey::find_program_address(&[b"__event_authority"], &upgrade_governor::ID).0
}

pub fn program_data_pda(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[program.as_ref()], &LOADER).0
}

/// SHA-256 of an ELF with trailing zero bytes stripped, as `solana-verify` computes it.
pub fn elf_hash(elf: &[u8]) -> [u8; 32] {
    let end = elf.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    solana_sha256_hasher::hash(&elf[..end]).to_bytes()
}

fn ix(accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: upgrade_governor::ID,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

use upgrade_governor::accounts as acc;
use upgrade_governor::instruction as ins;

pub fn initialize_multisig_ix(
    payer: &Pubkey,
    create_key: &Pubkey,
    members: Vec<Pubkey>,
    threshold: u8,
    timelock_seconds: i64,
    guardian: &Pubkey,
) -> Instruction {
    initialize_multisig_with_lifetime_ix(
        payer,
        create_key,
        members,
        threshold,
        timelock_seconds,
        LIFETIME,
        guardian,
    )
}

pub fn initialize_multisig_with_lifetime_ix(
    payer: &Pubkey,
    create_key: &Pubkey,
    members: Vec<Pubkey>,
    threshold: u8,
    timelock_seconds: i64,
    proposal_lifetime_seconds: i64,
    guardian: &Pubkey,
) -> Instruction {
    initialize_multisig_with_grace_ix(
        payer,
        create_key,
        members,
        threshold,
        timelock_seconds,
        proposal_lifetime_seconds,
        guardian,
        GRACE,
    )
}

#[allow(clippy::too_many_arguments)]
pub fn initialize_multisig_with_grace_ix(
    payer: &Pubkey,
    create_key: &Pubkey,
    members: Vec<Pubkey>,
    threshold: u8,
    timelock_seconds: i64,
    proposal_lifetime_seconds: i64,
    guardian: &Pubkey,
    grace_seconds: i64,
) -> Instruction {
    initialize_multisig_full_ix(
        payer,
        create_key,
        upgrade_governor::InitializeMultisigArgs {
            members,
            threshold,
            timelock_seconds,
            proposal_lifetime_seconds,
            guardian: *guardian,
            grace_seconds,
            max_pause_seconds: MAX_PAUSE,
            pause_cooldown_seconds: PAUSE_COOLDOWN,
        },
    )
}

/// Every setting of the multisig, as given.
pub fn initialize_multisig_full_ix(
    payer: &Pubkey,
    create_key: &Pubkey,
    args: upgrade_governor::InitializeMultisigArgs,
) -> Instruction {
    let multisig = multisig_pda(create_key);
    ix(
        acc::InitializeMultisig {
            create_key: *create_key,
            multisig,
            authority: authority_pda(&multisig),
            payer: *payer,
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::InitializeMultisig { args },
    )
}

/// The settings every test starts from: `threshold` of `members`, the default timelock,
/// lifetime, grace, maximum pause and cool-down.
pub fn default_args(
    members: Vec<Pubkey>,
    threshold: u8,
    guardian: &Pubkey,
) -> upgrade_governor::InitializeMultisigArgs {
    upgrade_governor::InitializeMultisigArgs {
        members,
        threshold,
        timelock_seconds: TIMELOCK,
        proposal_lifetime_seconds: LIFETIME,
        guardian: *guardian,
        grace_seconds: GRACE,
        max_pause_seconds: MAX_PAUSE,
        pause_cooldown_seconds: PAUSE_COOLDOWN,
    }
}

#[allow(clippy::too_many_arguments)]
pub fn propose_ix(
    payer: &Pubkey,
    multisig: &Pubkey,
    index: u64,
    proposer: &Pubkey,
    target_program: &Pubkey,
    buffer: &Pubkey,
    buffer_hash: [u8; 32],
    migration: Option<MigrationPlan>,
) -> Instruction {
    ix(
        acc::ProposeUpgrade {
            multisig: *multisig,
            proposal: proposal_pda(multisig, index),
            proposer: *proposer,
            payer: *payer,
            target_program: *target_program,
            program_data: program_data_pda(target_program),
            buffer: *buffer,
            authority: authority_pda(multisig),
            governed_program: governed_program_pda(multisig, target_program),
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::ProposeUpgrade {
            args: upgrade_governor::ProposeUpgradeArgs {
                buffer_hash,
                description: "upgrade the counter to v2".into(),
                migration,
            },
        },
    )
}

pub fn approve_ix(multisig: &Pubkey, proposal: &Pubkey, member: &Pubkey) -> Instruction {
    ix(
        acc::ApproveUpgrade {
            multisig: *multisig,
            proposal: *proposal,
            member: *member,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::ApproveUpgrade {},
    )
}

pub fn execute_ix(
    multisig: &Pubkey,
    proposal: &Pubkey,
    p: &Proposal,
    executor: &Pubkey,
    spill: &Pubkey,
) -> Instruction {
    ix(
        acc::ExecuteUpgrade {
            multisig: *multisig,
            proposal: *proposal,
            governed_program: governed_program_pda(multisig, &p.target_program),
            executor: *executor,
            authority: authority_pda(multisig),
            target_program: p.target_program,
            program_data: p.program_data,
            buffer: p.buffer,
            spill: *spill,
            rent: solana_sdk_ids::sysvar::rent::ID,
            clock: solana_sdk_ids::sysvar::clock::ID,
            bpf_loader_upgradeable: LOADER,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::ExecuteUpgrade {},
    )
}

pub fn cancel_ix(multisig: &Pubkey, proposal: &Pubkey, canceller: &Pubkey) -> Instruction {
    ix(
        acc::CancelUpgrade {
            multisig: *multisig,
            proposal: *proposal,
            canceller: *canceller,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::CancelUpgrade {},
    )
}

pub fn migrate_ix(
    multisig: &Pubkey,
    proposal: &Pubkey,
    p: &Proposal,
    cranker: &Pubkey,
    accounts: &[Pubkey],
) -> Instruction {
    let mut i = ix(
        acc::MigrateAccount {
            multisig: *multisig,
            proposal: *proposal,
            governed_program: governed_program_pda(multisig, &p.target_program),
            migration_signer: migration_signer_pda(&p.target_program),
            target_program: p.target_program,
            program_data: p.program_data,
            cranker: *cranker,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::MigrateAccount {},
    );
    i.accounts
        .extend(accounts.iter().map(|a| AccountMeta::new(*a, false)));
    i
}

pub fn pause_ix(multisig: &Pubkey, pauser: &Pubkey) -> Instruction {
    ix(
        acc::PauseSystem {
            multisig: *multisig,
            pauser: *pauser,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::PauseSystem {},
    )
}

/// One member's vote to resume.
pub fn resume_ix(multisig: &Pubkey, member: &Pubkey) -> Instruction {
    ix(
        acc::ResumeSystem {
            multisig: *multisig,
            member: *member,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::ResumeSystem {},
    )
}

/// A member proposes `actions` as the proposal with this index.
pub fn propose_config_ix(
    payer: &Pubkey,
    multisig: &Pubkey,
    index: u64,
    proposer: &Pubkey,
    actions: Vec<ConfigAction>,
    description: &str,
) -> Instruction {
    ix(
        acc::ProposeConfig {
            multisig: *multisig,
            proposal: proposal_pda(multisig, index),
            proposer: *proposer,
            payer: *payer,
            authority: authority_pda(multisig),
            system_program: SYSTEM,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::ProposeConfig {
            args: upgrade_governor::ProposeConfigArgs {
                actions,
                description: description.into(),
            },
        },
    )
}

/// execute_config with exactly the given remaining accounts.
pub fn execute_config_ix_with(
    multisig: &Pubkey,
    proposal: &Pubkey,
    executor: &Pubkey,
    remaining: Vec<AccountMeta>,
) -> Instruction {
    let mut i = ix(
        acc::ExecuteConfig {
            multisig: *multisig,
            proposal: *proposal,
            executor: *executor,
            authority: authority_pda(multisig),
            bpf_loader_upgradeable: LOADER,
            event_authority: event_authority(),
            program: upgrade_governor::ID,
        },
        ins::ExecuteConfig {},
    );
    i.accounts.extend(remaining);
    i
}

/// execute_config's remaining accounts for `actions`: for each SetProgramAuthority, in order,
/// the program (read-only), its ProgramData (writable) and the new authority when there is one.
pub fn hand_off_accounts(actions: &[ConfigAction]) -> Vec<AccountMeta> {
    actions
        .iter()
        .filter(|a| a.kind == ConfigActionKind::SetProgramAuthority)
        .flat_map(|a| {
            let mut metas = vec![
                AccountMeta::new_readonly(a.key, false),
                AccountMeta::new(program_data_pda(&a.key), false),
            ];
            metas.extend(a.new_authority.map(|k| AccountMeta::new_readonly(k, false)));
            metas
        })
        .collect()
}

/// Builders of config actions, each with the fields its kind does not use left empty.
pub mod action {
    use super::*;

    fn action(kind: ConfigActionKind, key: Pubkey, value: i64) -> ConfigAction {
        ConfigAction {
            kind,
            key,
            value,
            new_authority: None,
        }
    }

    pub fn add_member(key: Pubkey) -> ConfigAction {
        action(ConfigActionKind::AddMember, key, 0)
    }
    pub fn remove_member(key: Pubkey) -> ConfigAction {
        action(ConfigActionKind::RemoveMember, key, 0)
    }
    pub fn set_threshold(value: i64) -> ConfigAction {
        action(ConfigActionKind::SetThreshold, Pubkey::default(), value)
    }
    pub fn set_timelock(seconds: i64) -> ConfigAction {
        action(ConfigActionKind::SetTimelock, Pubkey::default(), seconds)
    }
    pub fn set_proposal_lifetime(seconds: i64) -> ConfigAction {
        action(
            ConfigActionKind::SetProposalLifetime,
            Pubkey::default(),
            seconds,
        )
    }
    pub fn set_grace(seconds: i64) -> ConfigAction {
        action(ConfigActionKind::SetGrace, Pubkey::default(), seconds)
    }
    pub fn set_guardian(key: Pubkey) -> ConfigAction {
        action(ConfigActionKind::SetGuardian, key, 0)
    }
    /// Hands `program` to `new_authority`; None makes it immutable.
    pub fn set_program_authority(program: Pubkey, new_authority: Option<Pubkey>) -> ConfigAction {
        ConfigAction {
            new_authority,
            ..action(ConfigActionKind::SetProgramAuthority, program, 0)
        }
    }
}

/// The governed counter's instructions (see examples/governed-counter/README.md).
pub mod counter {
    use super::*;

    pub const STATE_LEN: usize = 64;
    /// Byte 0 of a state account is its layout version.
    pub const VERSION_OFFSET: u32 = 0;
    pub const TAG_INIT: u8 = 0;
    pub const TAG_MIGRATE: u8 = 2;
    pub const TAG_TOUCH: u8 = 3;

    pub fn create_state_ixs(
        payer: &Pubkey,
        state: &Pubkey,
        program: &Pubkey,
        owner: &Pubkey,
        balance: u64,
        rent: u64,
    ) -> Vec<Instruction> {
        let mut data = vec![TAG_INIT];
        data.extend_from_slice(&balance.to_le_bytes());
        vec![
            solana_system_interface::instruction::create_account(
                payer,
                state,
                rent,
                STATE_LEN as u64,
                program,
            ),
            Instruction {
                program_id: *program,
                accounts: vec![
                    AccountMeta::new(*state, false),
                    AccountMeta::new_readonly(*owner, true),
                ],
                data,
            },
        ]
    }

    pub fn touch_ix(program: &Pubkey, state: &Pubkey) -> Instruction {
        Instruction {
            program_id: *program,
            accounts: vec![AccountMeta::new(*state, false)],
            data: vec![TAG_TOUCH],
        }
    }

    /// v1 -> v2: the governed counter's migrate instruction, for its 64-byte state accounts.
    pub fn plan() -> MigrationPlan {
        MigrationPlan {
            target_version: 2,
            instruction_data: vec![TAG_MIGRATE],
            from_version: 1,
            version_offset: VERSION_OFFSET,
            data_size: STATE_LEN as u64,
        }
    }
}

/// A 3-of-5 multisig with a guardian, a governed counter program at v1 and a buffer holding v2:
/// the starting point of most tests.
pub struct Fixture {
    pub chain: Chain,
    pub members: Vec<Keypair>,
    pub guardian: Keypair,
    pub stranger: Keypair,
    pub multisig: Pubkey,
    pub authority: Pubkey,
    pub program: Pubkey,
    pub buffer: Pubkey,
}

impl Default for Fixture {
    fn default() -> Self {
        Self::new()
    }
}

impl Fixture {
    pub fn new() -> Self {
        Self::with_grace(GRACE)
    }

    /// The same fixture with the multisig's grace period after the eta set to `grace_seconds`.
    pub fn with_grace(grace_seconds: i64) -> Self {
        Self::with_settings(5, 3, |a| a.grace_seconds = grace_seconds)
    }

    /// A `threshold`-of-`n` multisig with the default settings as changed by `settings`
    /// (members and guardian are filled in).
    pub fn with_settings(
        n: usize,
        threshold: u8,
        settings: impl FnOnce(&mut upgrade_governor::InitializeMultisigArgs),
    ) -> Self {
        let mut chain = Chain::new();
        let members: Vec<Keypair> = (0..n).map(|_| chain.funded()).collect();
        let guardian = chain.funded();
        let stranger = chain.funded();
        let create_key = Keypair::new();
        let payer = chain.payer.pubkey();
        let mut args = default_args(
            members.iter().map(|m| m.pubkey()).collect(),
            threshold,
            &guardian.pubkey(),
        );
        settings(&mut args);
        let ix = initialize_multisig_full_ix(&payer, &create_key.pubkey(), args);
        assert_ok(chain.send(&[ix], &[&create_key]));
        let multisig = multisig_pda(&create_key.pubkey());
        let authority = authority_pda(&multisig);
        let program = Pubkey::new_unique();
        native_svm::deploy_upgradeable(&mut chain.svm, program, COUNTER_V1, Some(authority));
        let buffer = Pubkey::new_unique();
        native_svm::write_buffer(&mut chain.svm, buffer, COUNTER_V2, Some(authority));
        // The loader refuses to run a program in the slot it was deployed in.
        chain.advance(1);
        Fixture {
            chain,
            members,
            guardian,
            stranger,
            multisig,
            authority,
            program,
            buffer,
        }
    }

    pub fn multisig_state(&self) -> Multisig {
        self.chain.anchor(&self.multisig)
    }

    pub fn proposal_state(&self, proposal: &Pubkey) -> Proposal {
        self.chain.anchor(proposal)
    }

    /// The governed counter's record under the multisig.
    pub fn governed_program_state(&self) -> GovernedProgram {
        self.chain
            .anchor(&governed_program_pda(&self.multisig, &self.program))
    }

    /// Proposes an upgrade of the counter to the buffer's ELF; returns the proposal address.
    pub fn propose_with(
        &mut self,
        buffer: Pubkey,
        hash: [u8; 32],
        migration: Option<MigrationPlan>,
    ) -> (Pubkey, TxResult) {
        let index = self.multisig_state().proposal_index + 1;
        let proposal = proposal_pda(&self.multisig, index);
        let proposer = &self.members[0];
        let ix = propose_ix(
            &self.chain.payer.pubkey(),
            &self.multisig,
            index,
            &proposer.pubkey(),
            &self.program,
            &buffer,
            hash,
            migration,
        );
        let res = self.chain.send(&[ix], &[proposer]);
        (proposal, res)
    }

    pub fn propose(&mut self) -> Pubkey {
        let (p, res) = self.propose_with(self.buffer, elf_hash(COUNTER_V2), Some(counter::plan()));
        assert_ok(res);
        p
    }

    /// Member 0 proposes `actions`; returns the proposal address.
    pub fn propose_config_with(&mut self, actions: Vec<ConfigAction>) -> (Pubkey, TxResult) {
        let proposer = self.members[0].insecure_clone();
        self.propose_config_as(&proposer, actions)
    }

    pub fn propose_config_as(
        &mut self,
        proposer: &Keypair,
        actions: Vec<ConfigAction>,
    ) -> (Pubkey, TxResult) {
        let index = self.multisig_state().proposal_index + 1;
        let proposal = proposal_pda(&self.multisig, index);
        let ix = propose_config_ix(
            &self.chain.payer.pubkey(),
            &self.multisig,
            index,
            &proposer.pubkey(),
            actions,
            "change the multisig",
        );
        let res = self.chain.send(&[ix], &[proposer]);
        (proposal, res)
    }

    pub fn propose_config(&mut self, actions: Vec<ConfigAction>) -> Pubkey {
        let (p, res) = self.propose_config_with(actions);
        assert_ok(res);
        p
    }

    /// A config proposal approved by the first `threshold` members, its timelock passed.
    pub fn config_approved_and_due(&mut self, actions: Vec<ConfigAction>) -> Pubkey {
        let p = self.propose_config(actions);
        let threshold = self.multisig_state().threshold as usize;
        let approvers: Vec<usize> = (0..threshold).collect();
        self.approve_by(&p, &approvers);
        self.chain.advance(TIMELOCK);
        p
    }

    /// A stranger executes the config proposal with the remaining accounts its actions need.
    pub fn execute_config(&mut self, proposal: &Pubkey) -> TxResult {
        let actions = self.proposal_state(proposal).actions;
        self.execute_config_with(proposal, hand_off_accounts(&actions))
    }

    pub fn execute_config_with(
        &mut self,
        proposal: &Pubkey,
        remaining: Vec<AccountMeta>,
    ) -> TxResult {
        let executor = self.stranger.insecure_clone();
        let ix = execute_config_ix_with(&self.multisig, proposal, &executor.pubkey(), remaining);
        self.chain.send(&[ix], &[&executor])
    }

    /// `member`, any key, approves.
    pub fn approve_as(&mut self, proposal: &Pubkey, member: &Keypair) -> TxResult {
        let ix = approve_ix(&self.multisig, proposal, &member.pubkey());
        self.chain.send(&[ix], &[member])
    }

    pub fn approve(&mut self, proposal: &Pubkey, member: usize) -> TxResult {
        let m = &self.members[member];
        let ix = approve_ix(&self.multisig, proposal, &m.pubkey());
        self.chain.send(&[ix], &[m])
    }

    pub fn approve_by(&mut self, proposal: &Pubkey, members: &[usize]) {
        for &m in members {
            assert_ok(self.approve(proposal, m));
        }
    }

    /// What the worker does before executing: the loader cannot extend ProgramData by CPI, so
    /// a top-level ExtendProgram (permissionless, paid by the sender) makes room for the new
    /// ELF first, in an earlier slot.
    pub fn extend_for(&mut self, elf_len: usize) {
        let pd = self
            .chain
            .account(&program_data_pda(&self.program))
            .unwrap();
        let capacity = pd.data.len() - 45;
        if elf_len <= capacity {
            return;
        }
        #[allow(deprecated)]
        let ix = solana_loader_v3_interface::instruction::extend_program(
            &self.program,
            Some(&self.chain.payer.pubkey()),
            // SIMD-0431: extensions of at least 10 KiB (or to the maximum size).
            ((elf_len - capacity) as u32).max(10_240),
        );
        assert_ok(self.chain.send(&[ix], &[]));
        self.chain.advance(1);
    }

    /// Executes after making room for the new ELF, as the worker does.
    pub fn execute(&mut self, proposal: &Pubkey) -> TxResult {
        self.extend_for(COUNTER_V2.len());
        self.execute_as_is(proposal)
    }

    /// Executes without extending ProgramData first.
    pub fn execute_as_is(&mut self, proposal: &Pubkey) -> TxResult {
        let p = self.proposal_state(proposal);
        let executor = self.stranger.insecure_clone();
        let ix = execute_ix(
            &self.multisig,
            proposal,
            &p,
            &executor.pubkey(),
            &p.proposer,
        );
        self.chain.send(&[ix], &[&executor])
    }

    pub fn cancel(&mut self, proposal: &Pubkey, canceller: &Keypair) -> TxResult {
        let ix = cancel_ix(&self.multisig, proposal, &canceller.pubkey());
        self.chain.send(&[ix], &[canceller])
    }

    /// Member `member`'s cancel vote.
    pub fn cancel_by(&mut self, proposal: &Pubkey, member: usize) -> TxResult {
        let m = self.members[member].insecure_clone();
        self.cancel(proposal, &m)
    }

    /// `pauser` (a member, the guardian or anyone) calls pause_system.
    pub fn pause(&mut self, pauser: &Keypair) -> TxResult {
        let ix = pause_ix(&self.multisig, &pauser.pubkey());
        self.chain.send(&[ix], &[pauser])
    }

    /// Member `member` calls pause_system (starts a pause or votes to extend it).
    pub fn pause_by(&mut self, member: usize) -> TxResult {
        let m = self.members[member].insecure_clone();
        self.pause(&m)
    }

    /// `voter` calls resume_system, one vote in a transaction of its own.
    pub fn resume(&mut self, voter: &Keypair) -> TxResult {
        let ix = resume_ix(&self.multisig, &voter.pubkey());
        self.chain.send(&[ix], &[voter])
    }

    /// Member `member`'s resume vote.
    pub fn resume_by(&mut self, member: usize) -> TxResult {
        let m = self.members[member].insecure_clone();
        self.resume(&m)
    }

    /// Whether the system is effectively paused at the chain's current time.
    pub fn is_paused(&self) -> bool {
        self.multisig_state().is_paused(self.chain.now())
    }

    /// Proposal approved by three members and its timelock passed.
    pub fn approved_and_due(&mut self) -> Pubkey {
        let p = self.propose();
        self.approve_by(&p, &[0, 1, 2]);
        self.chain.advance(TIMELOCK);
        p
    }

    /// Creates `n` counter accounts under the current program code.
    pub fn create_counters(&mut self, n: usize) -> Vec<Pubkey> {
        let owner = self.members[4].insecure_clone();
        let rent = self
            .chain
            .svm
            .minimum_balance_for_rent_exemption(counter::STATE_LEN);
        (0..n)
            .map(|i| {
                let state = Keypair::new();
                let ixs = counter::create_state_ixs(
                    &self.chain.payer.pubkey(),
                    &state.pubkey(),
                    &self.program,
                    &owner.pubkey(),
                    100 + i as u64,
                    rent,
                );
                assert_ok(self.chain.send(&ixs, &[&state, &owner]));
                state.pubkey()
            })
            .collect()
    }

    pub fn migrate(&mut self, proposal: &Pubkey, accounts: &[Pubkey]) -> TxResult {
        let p = self.proposal_state(proposal);
        let cranker = self.stranger.insecure_clone();
        let ix = migrate_ix(&self.multisig, proposal, &p, &cranker.pubkey(), accounts);
        self.chain.send(&[ix], &[&cranker])
    }
}
