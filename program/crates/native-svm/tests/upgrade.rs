//! A real program upgrade: a native program signs the BPF upgradeable loader's `Upgrade`
//! with a PDA that is the upgrade authority, the loader replaces the ELF, and the new code
//! runs in later slots.

mod common;

use {
    common::*,
    litesvm::LiteSVM,
    solana_clock::Clock,
    solana_instruction::{AccountMeta, Instruction},
    solana_instruction_error::InstructionError,
    solana_keypair::Keypair,
    solana_loader_v3_interface::state::UpgradeableLoaderState,
    solana_pubkey::Pubkey,
    solana_sdk_ids::{bpf_loader_upgradeable, sysvar},
    solana_signer::Signer,
    solana_transaction_error::TransactionError,
};

const METADATA: usize = UpgradeableLoaderState::size_of_programdata_metadata();
const MEMO_1: Pubkey = Pubkey::from_str_const("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo");
const MEMO_4: Pubkey = Pubkey::from_str_const("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr");

/// LiteSVM's bundled SPL Memo builds (BPF loader v1/v2 accounts hold the ELF itself).
fn elf_of(svm: &LiteSVM, program: &Pubkey) -> Vec<u8> {
    svm.get_account(program).unwrap().data
}

fn upgrade_ix(target: &Pubkey, buffer: &Pubkey, spill: &Pubkey) -> Instruction {
    let (authority, bump) = authority();
    ix(
        &[UPGRADE, bump],
        vec![
            AccountMeta::new(native_svm::programdata_address(target), false),
            AccountMeta::new(*target, false),
            AccountMeta::new(*buffer, false),
            AccountMeta::new(*spill, false),
            AccountMeta::new_readonly(sysvar::rent::id(), false),
            AccountMeta::new_readonly(sysvar::clock::id(), false),
            AccountMeta::new_readonly(authority, false),
            AccountMeta::new_readonly(bpf_loader_upgradeable::id(), false),
        ],
    )
}

fn next_slot(svm: &mut LiteSVM, by: u64) -> u64 {
    let slot = svm.get_sysvar::<Clock>().slot + by;
    svm.warp_to_slot(slot);
    slot
}

fn programdata_state(svm: &LiteSVM, target: &Pubkey) -> (u64, Option<Pubkey>, Vec<u8>) {
    let data = svm
        .get_account(&native_svm::programdata_address(target))
        .unwrap()
        .data;
    match wincode::deserialize::<UpgradeableLoaderState>(&data[..METADATA]).unwrap() {
        UpgradeableLoaderState::ProgramData {
            slot,
            upgrade_authority_address,
        } => (slot, upgrade_authority_address, data[METADATA..].to_vec()),
        other => panic!("not ProgramData: {other:?}"),
    }
}

fn memo(svm: &mut LiteSVM, payer: &Keypair, target: &Pubkey, text: &str) -> Vec<String> {
    let ix = Instruction::new_with_bytes(*target, text.as_bytes(), vec![]);
    let result = send(svm, payer, &[ix]);
    logs_of(&result)
}

#[test]
fn pda_signed_upgrade_replaces_the_elf_and_the_new_code_runs_later() {
    let (mut svm, payer) = svm_with_program();
    let (authority, _) = authority();
    let v1 = elf_of(&svm, &MEMO_1); // 17 KB, logs nothing for valid UTF-8
    let v2 = elf_of(&svm, &MEMO_4); // 2.3 KB, logs the memo
    assert!(v2.len() <= v1.len());

    let target = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut svm, target, &v1, Some(authority));
    let deploy_slot = svm.get_sysvar::<Clock>().slot;
    let logs = memo(&mut svm, &payer, &target, "one");
    assert!(
        logs.contains(&format!("Program {target} success")),
        "{logs:?}"
    );
    assert!(!logs.iter().any(|l| l.contains("Memo (len 3)")), "{logs:?}");

    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut svm, buffer, &v2, Some(authority));

    // The loader refuses an upgrade in the slot the program was deployed in.
    let result = send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey())],
    );
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::InvalidArgument)
    );
    assert!(failed
        .meta
        .logs
        .contains(&"Program was deployed in this block already".to_string()));

    let upgrade_slot = next_slot(&mut svm, 1);
    let meta = send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey())],
    )
    .expect("the PDA-signed upgrade succeeds");
    assert!(meta.logs.contains(&format!(
        "Program {} invoke [2]",
        bpf_loader_upgradeable::id()
    )));

    let (slot, upgrade_authority, elf) = programdata_state(&svm, &target);
    assert_eq!(slot, upgrade_slot);
    assert!(slot > deploy_slot);
    assert_eq!(upgrade_authority, Some(authority));
    assert_eq!(
        &elf[..v2.len()],
        &v2[..],
        "ProgramData holds exactly the new ELF"
    );
    assert!(elf[v2.len()..].iter().all(|b| *b == 0));
    assert_eq!(elf.len(), v1.len(), "ProgramData keeps its size");
    assert!(
        svm.get_account(&buffer).is_none(),
        "the buffer is closed into the spill account"
    );

    // Same slot, next transaction: LiteSVM reloads the program from its accounts after each
    // transaction, so the new code already runs here. (Agave keeps it DelayVisibility until
    // the next slot: "Program is not deployed". Tests must not rely on either.)
    let logs = memo(&mut svm, &payer, &target, "now");
    assert!(logs.contains(&"Program log: now".to_string()), "{logs:?}");

    // New code, in the next slots and much later.
    for warp in [1, 1, 100, 10_000] {
        next_slot(&mut svm, warp);
        let logs = memo(&mut svm, &payer, &target, "two");
        assert!(
            logs.contains(&"Program log: Memo (len 3)".to_string())
                && logs.contains(&"Program log: two".to_string()),
            "after warping {warp} slots: {logs:?}"
        );
    }
}

#[test]
fn the_upgraded_program_is_not_invocable_in_the_upgrade_transaction() {
    // Records what LiteSVM does with the upgraded program in the very slot of the upgrade
    // (Agave marks it DelayVisibility for the rest of that slot: "Program is not deployed").
    let (mut svm, payer) = svm_with_program();
    let (authority, _) = authority();
    let v1 = elf_of(&svm, &MEMO_1);
    let v2 = elf_of(&svm, &MEMO_4);
    let target = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut svm, target, &v1, Some(authority));
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut svm, buffer, &v2, Some(authority));
    next_slot(&mut svm, 1);

    // Upgrade and call in one transaction: the loader's DelayVisibility applies.
    let call = Instruction::new_with_bytes(target, b"same", vec![]);
    let result = send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey()), call],
    );
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(1, InstructionError::UnsupportedProgramId)
    );
    assert!(failed
        .meta
        .logs
        .contains(&"Program is not deployed".to_string()));
}

#[test]
fn a_buffer_whose_authority_is_not_the_pda_is_incorrect_authority() {
    let (mut svm, payer) = svm_with_program();
    let (authority, _) = authority();
    let v1 = elf_of(&svm, &MEMO_1);
    let v2 = elf_of(&svm, &MEMO_4);
    let target = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut svm, target, &v1, Some(authority));
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut svm, buffer, &v2, Some(Pubkey::new_unique()));
    next_slot(&mut svm, 1);

    let result = send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey())],
    );
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::IncorrectAuthority)
    );
    assert!(failed
        .meta
        .logs
        .contains(&"Buffer and upgrade authority don't match".to_string()));
    assert_eq!(programdata_state(&svm, &target).2[..v1.len()], v1[..]);
}

#[test]
fn a_program_whose_authority_is_not_the_pda_is_incorrect_authority() {
    let (mut svm, payer) = svm_with_program();
    let (authority, _) = authority();
    let v1 = elf_of(&svm, &MEMO_1);
    let v2 = elf_of(&svm, &MEMO_4);
    let target = Pubkey::new_unique();
    native_svm::deploy_upgradeable(&mut svm, target, &v1, Some(Pubkey::new_unique()));
    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut svm, buffer, &v2, Some(authority));
    next_slot(&mut svm, 1);

    let result = send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey())],
    );
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::IncorrectAuthority)
    );
}

/// The example governed program (sBPF assembly, v1 and v2), if its ELFs are present.
fn counter_elves() -> Option<(Vec<u8>, Vec<u8>)> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/governed-counter/elf"
    );
    let v1 = std::fs::read(format!("{dir}/governed_counter_v1.so")).ok()?;
    let v2 = std::fs::read(format!("{dir}/governed_counter_v2.so")).ok()?;
    Some((v1, v2))
}

#[test]
fn governed_counter_extend_upgrade_touch_and_migrate() {
    let Some((v1, v2)) = counter_elves() else {
        eprintln!("governed-counter ELFs not built: skipped");
        return;
    };
    let (mut svm, payer) = svm_with_program();
    let (authority, _) = authority();
    let target = Pubkey::new_unique();
    let programdata = native_svm::deploy_upgradeable(&mut svm, target, &v1, Some(authority));

    // A v1 account, initialised by v1 code.
    let owner = Keypair::new();
    let state = put_account(&mut svm, &target, 64);
    let mut init = vec![0u8];
    init.extend_from_slice(&500u64.to_le_bytes());
    let init = Instruction::new_with_bytes(
        target,
        &init,
        vec![
            AccountMeta::new(state, false),
            AccountMeta::new_readonly(owner.pubkey(), true),
        ],
    );
    let meta = send_signed(&mut svm, &payer, &[init], &[&owner]).unwrap();
    assert!(meta
        .logs
        .contains(&"Program log: governed-counter v1: init".to_string()));
    assert_eq!(svm.get_account(&state).unwrap().data[0], 1);

    let touch = Instruction::new_with_bytes(target, &[3], vec![AccountMeta::new(state, false)]);
    assert_eq!(
        send(&mut svm, &payer, std::slice::from_ref(&touch))
            .unwrap_err()
            .err,
        TransactionError::InstructionError(0, InstructionError::Custom(1)),
        "v1 does not know touch"
    );

    let buffer = Pubkey::new_unique();
    native_svm::write_buffer(&mut svm, buffer, &v2, Some(authority));
    next_slot(&mut svm, 1);

    // v2 is larger than v1: an upgrade needs a larger ProgramData first.
    let result = send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey())],
    );
    let failed = result.unwrap_err();
    assert_eq!(
        failed.err,
        TransactionError::InstructionError(0, InstructionError::AccountDataTooSmall)
    );
    // ExtendProgram is permissionless but cannot be called by CPI (see native.rs), so it is
    // a top-level instruction; it asks for at least 10 KiB, and it records the slot as a
    // deploy, so the upgrade must wait for the next slot.
    let too_little = solana_loader_v3_interface::instruction::extend_program(
        &target,
        Some(&payer.pubkey()),
        (v2.len() - v1.len()) as u32,
    );
    assert_eq!(
        send(&mut svm, &payer, &[too_little]).unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::InvalidArgument),
        "ExtendProgram requires a minimum of 10240 additional bytes"
    );
    let extend = solana_loader_v3_interface::instruction::extend_program(
        &target,
        Some(&payer.pubkey()),
        solana_loader_v3_interface::instruction::MINIMUM_EXTEND_PROGRAM_BYTES,
    );
    send(&mut svm, &payer, &[extend]).unwrap();
    let result = send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey())],
    );
    assert_eq!(
        result.unwrap_err().err,
        TransactionError::InstructionError(0, InstructionError::InvalidArgument),
        "Program was deployed in this block already"
    );
    next_slot(&mut svm, 1);
    send(
        &mut svm,
        &payer,
        &[upgrade_ix(&target, &buffer, &payer.pubkey())],
    )
    .unwrap();
    let (_, _, elf) = programdata_state(&svm, &target);
    assert_eq!(elf.len(), v1.len() + 10_240);
    assert_eq!(
        &elf[..v2.len()],
        &v2[..],
        "ProgramData holds exactly the new ELF"
    );
    assert!(elf[v2.len()..].iter().all(|b| *b == 0));

    next_slot(&mut svm, 1);
    // v2 code refuses the v1 layout until migrated.
    assert_eq!(
        send(&mut svm, &payer, std::slice::from_ref(&touch))
            .unwrap_err()
            .err,
        TransactionError::InstructionError(0, InstructionError::Custom(9))
    );
    // migrate: the test program, registered at the governor's id too, signs as the counter's
    // migration signer through CPI, as upgrade-governor's migrate_account does.
    native_svm::add_native_program(&mut svm, GOVERNOR_ID, process);
    let (signer, bump) = migration_signer(&target);
    let mut migrate = vec![CALL_SIGNED, bump, 2];
    let call = |data: &[u8], signer: Pubkey| {
        Instruction::new_with_bytes(
            GOVERNOR_ID,
            data,
            vec![
                AccountMeta::new_readonly(target, false),
                AccountMeta::new(state, false),
                AccountMeta::new_readonly(signer, false),
                AccountMeta::new_readonly(programdata, false),
            ],
        )
    };
    // Any other signer, even one with a real signature, is not the migration signer: the
    // counter refuses it (WrongMigrationSigner) and the account stays v1.
    let impostor = Keypair::new();
    let mut by_impostor = call(&[CALL, 2], impostor.pubkey());
    by_impostor.accounts[2].is_signer = true;
    assert_eq!(
        send_signed(&mut svm, &payer, &[by_impostor], &[&impostor])
            .unwrap_err()
            .err,
        TransactionError::InstructionError(0, InstructionError::Custom(12))
    );
    assert_eq!(svm.get_account(&state).unwrap().data[0], 1);
    let meta = send(&mut svm, &payer, &[call(&migrate, signer)]).unwrap();
    assert!(meta
        .logs
        .contains(&"Program log: governed-counter v2: migrated v1 -> v2".to_string()));
    // The SBF callee was metered.
    assert!(meta
        .logs
        .iter()
        .any(|l| l.starts_with(&format!("Program {target} consumed ")) && !l.contains(" 0 of ")));
    let data = svm.get_account(&state).unwrap().data;
    assert_eq!(data[0], 2);
    assert_eq!(u64::from_le_bytes(data[8..16].try_into().unwrap()), 500);
    assert_eq!(&data[16..48], owner.pubkey().as_ref());

    // Without the PDA signature the counter refuses (its own MissingSigner).
    migrate[0] = CALL;
    migrate.remove(1);
    assert_eq!(
        send(&mut svm, &payer, &[call(&migrate, signer)])
            .unwrap_err()
            .err,
        TransactionError::InstructionError(0, InstructionError::Custom(7))
    );

    for warp in [1, 50, 5_000] {
        next_slot(&mut svm, warp);
        let meta = send(&mut svm, &payer, std::slice::from_ref(&touch)).unwrap();
        assert!(meta
            .logs
            .contains(&"Program log: governed-counter v2: touch".to_string()));
    }
    let data = svm.get_account(&state).unwrap().data;
    assert_eq!(u64::from_le_bytes(data[48..56].try_into().unwrap()), 3);
}
