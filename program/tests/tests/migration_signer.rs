//! The rule "governed code never receives a signer with authority over any program or buffer"
//! (DESIGN.md section 3), attacked with a hostile governed program.
//!
//! `tests/fixtures/migrate_thief.so` is a real SBF ELF (sBPF assembly, assembled by
//! `make elfs`): the governed counter is upgraded to it through governance with a migration
//! plan, so `migrate_account` calls it exactly as it calls any governed program, and its CPIs go
//! through the runtime's real CPI syscall, privilege checks and loader. Its `record` migrate
//! writes down the signer it was given; its `forward` instruction hands every account it holds,
//! with the privileges it holds them with, to the BPF Upgradeable Loader.
//!
//! Two lines of defence, each tested: the runtime lets governed code name only the accounts
//! `migrate_account` passes it (state, signer, its own ProgramData), so it cannot even reach the
//! loader; and the signer it receives is the migration signer, which the loader refuses for
//! every program and buffer of the multisig, so a migrate instruction that is given more
//! accounts (a bug that forwards them, a later change of the governor) still cannot upgrade,
//! hand off or close a sibling. The attack with the signer's privilege is made by a top-level
//! instruction of the thief signed as that key (LiteSVM without signature verification); the
//! same instructions signed as the authority PDA succeed, so a refusal is the signer's doing, not
//! the harness's.
#![allow(clippy::result_large_err)]
use governor_tests::*;
use solana_instruction::{AccountMeta, Instruction};
use solana_message::Message;
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;
use upgrade_governor::state::MigrationPlan;
use upgrade_governor::ProposalStatus;

const THIEF: &[u8] = include_bytes!("../fixtures/migrate_thief.so");
/// The thief's migrate: records account 1's key and flags in the state account.
const TAG_RECORD: u8 = 2;
/// The thief forwards every account it holds to the loader, with the data after this tag.
const TAG_FORWARD: u8 = 5;

/// The BPF Upgradeable Loader's instructions (bincode u32 tags) that the runtime lets a program
/// call by CPI, and Write, which it does not.
const LOADER_WRITE: [u8; 4] = [1, 0, 0, 0];
const LOADER_UPGRADE: [u8; 4] = [3, 0, 0, 0];
const LOADER_SET_AUTHORITY: [u8; 4] = [4, 0, 0, 0];
const LOADER_CLOSE: [u8; 4] = [5, 0, 0, 0];

/// The signer the governor passes to governed code, by the design's seeds.
fn migration_signer_of(program: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[b"migration", program.as_ref()], &upgrade_governor::ID).0
}

fn thief_plan(instruction_data: Vec<u8>) -> MigrationPlan {
    MigrationPlan {
        instruction_data,
        ..counter::plan()
    }
}

/// What the thief's `record` wrote into a state account: the key of account 1, whether it
/// signed, whether it was writable, how many accounts the instruction had.
fn recorded(f: &Fixture, state: &Pubkey) -> (Pubkey, bool, bool, u64) {
    let d = f.chain.account(state).unwrap().data;
    (
        Pubkey::new_from_array(d[0..32].try_into().unwrap()),
        d[32] == 1,
        d[33] == 1,
        u64::from_le_bytes(d[40..48].try_into().unwrap()),
    )
}

/// The counter upgraded to the thief by an approved, timelocked, executed proposal that
/// declares `plan`; returns the proposal. The thief runs from the next slot on.
fn governance_upgrades_the_counter_to_the_thief(f: &mut Fixture, plan: MigrationPlan) -> Pubkey {
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, buffer, THIEF, Some(f.authority));
    let (p, res) = f.propose_with(buffer, elf_hash(THIEF), Some(plan));
    assert_ok(res);
    f.approve_by(&p, &[0, 1, 2]);
    f.chain.advance(TIMELOCK);
    f.extend_for(THIEF.len());
    assert_ok(f.execute_as_is(&p));
    assert_eq!(f.proposal_state(&p).status, ProposalStatus::Executed);
    f.chain.advance(1);
    p
}

/// A second program of the same multisig, its proposed upgrade still Active (no approvals, no
/// timelock), and a second buffer of the multisig.
struct Sibling {
    program: Pubkey,
    /// Holds counter v1 (B runs v2), proposed as B's upgrade.
    proposed_buffer: Pubkey,
    other_buffer: Pubkey,
    proposal: Pubkey,
}

fn sibling(f: &mut Fixture) -> Sibling {
    let program = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut f.chain.svm, program, COUNTER_V2, Some(f.authority));
    let proposed_buffer = Pubkey::new_unique();
    native_svm::write_buffer(
        &mut f.chain.svm,
        proposed_buffer,
        COUNTER_V1,
        Some(f.authority),
    );
    let other_buffer = Pubkey::new_unique();
    native_svm::write_buffer(
        &mut f.chain.svm,
        other_buffer,
        COUNTER_V1,
        Some(f.authority),
    );
    let index = f.multisig_state().proposal_index + 1;
    let ix = propose_ix(
        &f.chain.payer.pubkey(),
        &f.multisig,
        index,
        &f.members[0].pubkey(),
        &program,
        &proposed_buffer,
        elf_hash(COUNTER_V1),
        None,
    );
    let proposer = f.members[0].insecure_clone();
    assert_ok(f.chain.send(&[ix], &[&proposer]));
    let proposal = proposal_pda(&f.multisig, index);
    assert_eq!(f.proposal_state(&proposal).status, ProposalStatus::Active);
    // The loader refuses to upgrade a program in the slot it was deployed in.
    f.chain.advance(1);
    Sibling {
        program,
        proposed_buffer,
        other_buffer,
        proposal,
    }
}

/// The upgrade authority recorded in a ProgramData or Buffer account.
fn authority_of(f: &Fixture, account: &Pubkey) -> Option<Pubkey> {
    let d = f.chain.account(account).unwrap().data;
    // ProgramData: u32 tag 3, u64 slot, Option<Pubkey>; Buffer: u32 tag 1, Option<Pubkey>.
    let at = if d[0] == 3 { 12 } else { 4 };
    (d[at] == 1).then(|| Pubkey::new_from_array(d[at + 1..at + 33].try_into().unwrap()))
}

/// The thief's `forward` as a top-level instruction that `signer` signed (its signature is not
/// checked: the chain runs without signature verification, which is how a test holds the
/// privilege of a PDA outside its program), `accounts` followed by the loader.
fn forward_signed_as(
    f: &mut Fixture,
    signer: &Pubkey,
    loader_ix: &[u8],
    accounts: Vec<AccountMeta>,
) -> TxResult {
    let mut data = vec![TAG_FORWARD];
    data.extend_from_slice(loader_ix);
    let mut accounts = accounts;
    accounts.push(AccountMeta::new_readonly(LOADER, false));
    let ix = Instruction {
        program_id: f.program,
        accounts,
        data,
    };
    assert!(ix
        .accounts
        .iter()
        .any(|a| a.pubkey == *signer && a.is_signer));
    let svm = std::mem::take(&mut f.chain.svm);
    f.chain.svm = svm.with_sigverify(false);
    let payer = f.chain.payer.insecure_clone();
    let mut tx = Transaction::new_unsigned(Message::new(&[ix], Some(&payer.pubkey())));
    tx.partial_sign(&[&payer], f.chain.svm.latest_blockhash());
    let res = f.chain.svm.send_transaction(tx);
    f.chain.svm.expire_blockhash();
    let svm = std::mem::take(&mut f.chain.svm);
    f.chain.svm = svm.with_sigverify(true);
    res
}

/// The loader's instructions a governed program would use against a sibling, each as the
/// thief's `forward` with `signer`: Upgrade of the sibling with its proposed buffer, SetAuthority
/// of the sibling to `thief_key`, Close of the other buffer into `thief_key`, and Write into the
/// proposed buffer. Returns their results in that order.
fn attack_sibling(
    f: &mut Fixture,
    s: &Sibling,
    signer: &Pubkey,
    thief_key: &Pubkey,
) -> [TxResult; 4] {
    let upgrade = forward_signed_as(
        f,
        signer,
        &LOADER_UPGRADE,
        vec![
            AccountMeta::new(program_data_pda(&s.program), false),
            AccountMeta::new(s.program, false),
            AccountMeta::new(s.proposed_buffer, false),
            AccountMeta::new(*thief_key, false),
            AccountMeta::new_readonly(solana_sdk_ids::sysvar::rent::ID, false),
            AccountMeta::new_readonly(solana_sdk_ids::sysvar::clock::ID, false),
            AccountMeta::new_readonly(*signer, true),
        ],
    );
    let set_authority = forward_signed_as(
        f,
        signer,
        &LOADER_SET_AUTHORITY,
        vec![
            AccountMeta::new(program_data_pda(&s.program), false),
            AccountMeta::new_readonly(*signer, true),
            AccountMeta::new_readonly(*thief_key, false),
        ],
    );
    let close = forward_signed_as(
        f,
        signer,
        &LOADER_CLOSE,
        vec![
            AccountMeta::new(s.other_buffer, false),
            AccountMeta::new(*thief_key, false),
            AccountMeta::new_readonly(*signer, true),
        ],
    );
    // Write { offset: u32 0, bytes: Vec<u8> [0xff; 4] }
    let mut write_ix = LOADER_WRITE.to_vec();
    write_ix.extend_from_slice(&0u32.to_le_bytes());
    write_ix.extend_from_slice(&4u64.to_le_bytes());
    write_ix.extend_from_slice(&[0xff; 4]);
    let write = forward_signed_as(
        f,
        signer,
        &write_ix,
        vec![
            AccountMeta::new(s.proposed_buffer, false),
            AccountMeta::new_readonly(*signer, true),
        ],
    );
    [upgrade, set_authority, close, write]
}

/// The loader ran (reached by the thief's CPI) and refused with `IncorrectAuthority`.
#[track_caller]
fn assert_loader_refused_authority(res: TxResult, what: &str) {
    let failed = match res {
        Ok(meta) => panic!("{what}: the loader accepted it: {:#?}", meta.logs),
        Err(failed) => failed,
    };
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::IncorrectAuthority),
        "{what}: {:#?}",
        failed.meta.logs
    );
    assert!(
        failed
            .meta
            .logs
            .contains(&format!("Program {LOADER} invoke [2]")),
        "{what}: the loader was not invoked: {:#?}",
        failed.meta.logs
    );
}

/// The runtime refuses Write by CPI whoever signs ("not supported by inner instructions").
#[track_caller]
fn assert_write_refused_by_cpi_rule(res: TxResult) {
    let failed = res.expect_err("Write by CPI");
    assert!(
        failed
            .meta
            .logs
            .iter()
            .any(|l| l.contains("not supported by inner instructions")),
        "{:#?}",
        failed.meta.logs
    );
}

#[test]
fn governed_code_receives_a_migration_signer_that_no_program_or_buffer_of_the_multisig_obeys() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    let s = sibling(&mut f);
    let p = governance_upgrades_the_counter_to_the_thief(&mut f, thief_plan(vec![TAG_RECORD]));
    assert_ok(f.migrate(&p, &states));

    // What migrate_account gave the governed code: [state, signer, ProgramData], the signer
    // signed (the governor's PDA signature) and is read-only.
    let (signer, signed, writable, accounts) = recorded(&f, &states[0]);
    assert_eq!(accounts, 3);
    assert!(signed && !writable);
    assert_ne!(
        signer, f.authority,
        "governed code received the authority PDA as a signer"
    );
    assert_eq!(signer, migration_signer_of(&f.program));
    // It is the authority of nothing the multisig holds.
    for account in [
        program_data_pda(&f.program),
        program_data_pda(&s.program),
        s.proposed_buffer,
        s.other_buffer,
    ] {
        assert_eq!(authority_of(&f, &account), Some(f.authority));
    }

    // Governed code holding that signature and the sibling's accounts: the loader refuses each
    // instruction, and nothing changes.
    let sibling_before = f.chain.account(&program_data_pda(&s.program)).unwrap();
    let buffers_before = [s.proposed_buffer, s.other_buffer].map(|b| f.chain.account(&b));
    let thief_key = Pubkey::new_unique();
    let [upgrade, set_authority, close, write] = attack_sibling(&mut f, &s, &signer, &thief_key);
    assert_loader_refused_authority(upgrade, "Upgrade of the sibling");
    assert_loader_refused_authority(set_authority, "SetAuthority of the sibling");
    assert_loader_refused_authority(close, "Close of a buffer");
    assert_write_refused_by_cpi_rule(write);
    assert_eq!(
        f.chain.account(&program_data_pda(&s.program)).unwrap(),
        sibling_before
    );
    assert_eq!(
        [s.proposed_buffer, s.other_buffer].map(|b| f.chain.account(&b)),
        buffers_before
    );
    assert_eq!(f.proposal_state(&s.proposal).status, ProposalStatus::Active);
}

/// The helper governed programs use names the same signer and the same governor.
#[test]
fn governed_auth_accepts_the_signer_migrate_account_passes_and_nothing_else() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    let p = governance_upgrades_the_counter_to_the_thief(&mut f, thief_plan(vec![TAG_RECORD]));
    assert_ok(f.migrate(&p, &states));
    let (signer, signed, _, _) = recorded(&f, &states[0]);
    assert!(signed);
    assert_eq!(governed_auth::UPGRADE_GOVERNOR_ID, upgrade_governor::ID);
    assert_eq!(
        governed_auth::MIGRATION_SEED,
        upgrade_governor::state::MIGRATION_SEED
    );
    assert_eq!(
        governed_auth::migration_signer_address(&f.program, &upgrade_governor::ID).0,
        signer
    );
    let check = |key: &Pubkey, is_signer: bool| {
        let (mut lamports, mut data, owner) = (0u64, vec![], Pubkey::default());
        let info = anchor_lang::prelude::AccountInfo::new(
            key,
            is_signer,
            false,
            &mut lamports,
            &mut data,
            &owner,
            false,
        );
        governed_auth::check_migration_signer(
            &f.program,
            &governed_auth::UPGRADE_GOVERNOR_ID,
            &info,
        )
    };
    assert_eq!(check(&signer, true), Ok(()));
    assert!(check(&signer, false).is_err());
    assert!(check(&f.authority, true).is_err());
}

/// The control of the test above, and what the fix took away: signed as the authority PDA, the
/// same instructions of the same program upgrade the sibling to its proposed buffer with no
/// approval and no timelock, close the other buffer and take the sibling's upgrade authority.
#[test]
fn the_authority_pda_signature_would_upgrade_a_sibling_without_approval_or_timelock() {
    let mut f = Fixture::new();
    let s = sibling(&mut f);
    governance_upgrades_the_counter_to_the_thief(&mut f, thief_plan(vec![TAG_RECORD]));
    let thief_key = Pubkey::new_unique();
    let authority = f.authority;
    let [upgrade, set_authority, close, write] = attack_sibling(&mut f, &s, &authority, &thief_key);
    assert_ok(upgrade);
    let pd = f.chain.account(&program_data_pda(&s.program)).unwrap();
    assert_eq!(pd.data[45..45 + COUNTER_V1.len()], *COUNTER_V1);
    assert_eq!(f.proposal_state(&s.proposal).status, ProposalStatus::Active);
    assert_ok(set_authority);
    assert_eq!(
        authority_of(&f, &program_data_pda(&s.program)),
        Some(thief_key)
    );
    assert_ok(close);
    assert!(f
        .chain
        .account(&s.other_buffer)
        .is_none_or(|a| a.lamports == 0));
    assert!(f.chain.account(&thief_key).unwrap().lamports > 0);
    // Write is not callable by CPI at all: buffers are written only by top-level instructions.
    assert_write_refused_by_cpi_rule(write);
}

/// The first line of defence: governed code can name only the accounts migrate_account passes
/// it, and the loader is not one of them. The thief forwards what it was given to the loader's
/// SetAuthority; the runtime refuses before the loader runs.
#[test]
fn governed_code_cannot_reach_the_loader_with_the_accounts_migrate_passes() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    let mut data = vec![TAG_FORWARD];
    data.extend_from_slice(&LOADER_SET_AUTHORITY);
    let p = governance_upgrades_the_counter_to_the_thief(&mut f, thief_plan(data));
    let failed = f.migrate(&p, &states).unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::MissingAccount),
        "{:#?}",
        failed.meta.logs
    );
    assert!(
        failed
            .meta
            .logs
            .contains(&format!("Unknown program {LOADER}")),
        "{:#?}",
        failed.meta.logs
    );
    assert_eq!(
        authority_of(&f, &program_data_pda(&f.program)),
        Some(f.authority)
    );
}

/// The config-proposal case of issue #16: a program handed to a key, changed by that key, and
/// handed back to the multisig's PDA runs code governance never approved when its last governed
/// upgrade's migration plan runs. That code receives the migration signer, never the authority
/// PDA.
#[test]
fn a_program_handed_back_after_a_hand_off_receives_only_the_migration_signer() {
    let mut f = Fixture::new();
    let states = f.create_counters(1);
    // The counter's last governed upgrade (v1 -> v2) declared a migration: tag 2, which the
    // thief answers with `record`.
    let p = f.approved_and_due();
    assert_ok(f.execute(&p));
    f.chain.advance(1);
    // Handed to a team key, which deploys the thief and hands the program back.
    let team = f.chain.funded();
    let hand_off = f.config_approved_and_due(vec![action::set_program_authority(
        f.program,
        Some(team.pubkey()),
    )]);
    assert_ok(f.execute_config(&hand_off));
    let theirs = Pubkey::new_unique();
    native_svm::write_buffer(&mut f.chain.svm, theirs, THIEF, Some(team.pubkey()));
    let upgrade = solana_loader_v3_interface::instruction::upgrade(
        &f.program,
        &theirs,
        &team.pubkey(),
        &team.pubkey(),
    );
    assert_ok(f.chain.send(&[upgrade], &[&team]));
    let back = solana_loader_v3_interface::instruction::set_upgrade_authority(
        &f.program,
        &team.pubkey(),
        Some(&f.authority),
    );
    assert_ok(f.chain.send(&[back], &[&team]));
    f.chain.advance(1);
    assert_eq!(
        authority_of(&f, &program_data_pda(&f.program)),
        Some(f.authority)
    );

    // The old plan still runs (the program is governed again and no governed upgrade
    // superseded it), now against the team's code.
    assert_ok(f.migrate(&p, &states));
    let (signer, signed, _, _) = recorded(&f, &states[0]);
    assert!(signed);
    assert_ne!(
        signer, f.authority,
        "handed-back code received the authority PDA"
    );
    assert_eq!(signer, migration_signer_of(&f.program));
}
