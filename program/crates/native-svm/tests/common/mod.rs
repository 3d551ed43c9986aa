//! A small native test program in the solana-program v3 style (no Anchor), and helpers.
#![allow(dead_code, clippy::result_large_err)]

use {
    litesvm::{types::TransactionResult, LiteSVM},
    solana_account::Account,
    solana_account_info::AccountInfo,
    solana_clock::Clock,
    solana_instruction::{AccountMeta, Instruction},
    solana_keypair::Keypair,
    solana_program_error::{ProgramError, ProgramResult},
    solana_pubkey::Pubkey,
    solana_signer::Signer,
    solana_sysvar::{epoch_schedule::EpochSchedule, program_stubs, rent::Rent, Sysvar},
    solana_transaction::Transaction,
};

/// Where the tests register the native program.
pub const PROGRAM_ID: Pubkey =
    Pubkey::from_str_const("NativeTest111111111111111111111111111111111");

pub const TRANSFER_FROM_PDA: u8 = 0;
pub const RECORD_SYSVARS: u8 = 1;
pub const SCRIBBLE: u8 = 2;
pub const RESIZE: u8 = 3;
pub const RETURN_DATA: u8 = 4;
pub const LOG: u8 = 5;
pub const STEAL_LAMPORTS: u8 = 6;
pub const UPGRADE: u8 = 7;
pub const EXTEND_BY_CPI: u8 = 8;
pub const SELF_CPI: u8 = 9;
pub const CPI_RESIZE: u8 = 10;
pub const ASSIGN: u8 = 11;
pub const PANIC: u8 = 12;
pub const CUSTOM_ERROR: u8 = 13;
pub const CALL: u8 = 14;
pub const CALL_SIGNED: u8 = 15;
pub const MSG: u8 = 16;
pub const INTROSPECT: u8 = 17;

/// The test program's entry, a plain `fn(&Pubkey, &[AccountInfo], &[u8])`.
pub fn process(program_id: &Pubkey, accounts: &[AccountInfo], data: &[u8]) -> ProgramResult {
    let (tag, rest) = data
        .split_first()
        .ok_or(ProgramError::InvalidInstructionData)?;
    match *tag {
        TRANSFER_FROM_PDA => {
            // rest: seed_len u8, seed, bump u8, amount u64
            let seed_len = rest[0] as usize;
            let seed = &rest[1..1 + seed_len];
            let bump = rest[1 + seed_len];
            let amount = u64::from_le_bytes(rest[2 + seed_len..10 + seed_len].try_into().unwrap());
            let vault = &accounts[0];
            let destination = &accounts[1];
            let ix =
                solana_system_interface::instruction::transfer(vault.key, destination.key, amount);
            solana_invoke::invoke_signed(&ix, accounts, &[&[seed, &[bump]]])
        }
        RECORD_SYSVARS => {
            let clock = Clock::get()?;
            let rent = Rent::get()?;
            let schedule = EpochSchedule::get()?;
            let state = &accounts[0];
            let mut data = state.try_borrow_mut_data()?;
            data[0..8].copy_from_slice(&clock.slot.to_le_bytes());
            data[8..16].copy_from_slice(&clock.unix_timestamp.to_le_bytes());
            data[16..24].copy_from_slice(&clock.epoch.to_le_bytes());
            data[24..32].copy_from_slice(&rent.minimum_balance(100).to_le_bytes());
            data[32..40].copy_from_slice(&schedule.slots_per_epoch.to_le_bytes());
            data[40..48].copy_from_slice(&program_stubs::sol_get_stack_height().to_le_bytes());
            Ok(())
        }
        SCRIBBLE => {
            let victim = &accounts[0];
            victim.try_borrow_mut_data()?[0] ^= 0xff;
            Ok(())
        }
        RESIZE => {
            let new_len = u32::from_le_bytes(rest[0..4].try_into().unwrap()) as usize;
            let state = &accounts[0];
            let old_len = state.data_len();
            state.resize(new_len)?;
            if new_len > old_len {
                state.try_borrow_mut_data()?[old_len..].fill(0xab);
            }
            Ok(())
        }
        RETURN_DATA => {
            program_stubs::sol_set_return_data(b"native return");
            Ok(())
        }
        LOG => {
            program_stubs::sol_log("hello from native");
            program_stubs::sol_log_data(&[b"abc", b"de"]);
            Ok(())
        }
        STEAL_LAMPORTS => {
            let victim = &accounts[0];
            let thief = &accounts[1];
            **victim.try_borrow_mut_lamports()? -= 1;
            **thief.try_borrow_mut_lamports()? += 1;
            Ok(())
        }
        UPGRADE => {
            // accounts: programdata, program, buffer, spill, rent, clock, authority, loader
            let bump = rest[0];
            let ix = solana_loader_v3_interface::instruction::upgrade(
                accounts[1].key,
                accounts[2].key,
                accounts[6].key,
                accounts[3].key,
                true,
            );
            solana_invoke::invoke_signed(&ix, accounts, &[&[b"authority", &[bump]]])
        }
        EXTEND_BY_CPI => {
            // accounts: programdata, program, loader
            let ix = solana_loader_v3_interface::instruction::extend_program(
                accounts[1].key,
                None,
                1024,
            );
            solana_invoke::invoke(&ix, accounts)
        }
        SELF_CPI => {
            // accounts: this program. rest: depth
            let depth = rest[0];
            program_stubs::sol_log(&format!(
                "depth {depth} at stack height {}",
                program_stubs::sol_get_stack_height()
            ));
            if depth > 0 {
                // The callee must be an account of its own instruction to be called again.
                let ix = Instruction::new_with_bytes(
                    *program_id,
                    &[SELF_CPI, depth - 1],
                    vec![AccountMeta::new_readonly(*program_id, false)],
                );
                solana_invoke::invoke(&ix, accounts)?;
                // the callee's return data is visible to the caller
                let (from, data) = program_stubs::sol_get_return_data().unwrap();
                assert_eq!(from, *program_id);
                assert_eq!(data, vec![depth - 1]);
            }
            program_stubs::sol_set_return_data(&[depth]);
            Ok(())
        }
        CPI_RESIZE => {
            // accounts: state (owned, writable), this program. rest: new_len u32
            let state = &accounts[0];
            state.try_borrow_mut_data()?[0] = 7;
            let mut callee_data = vec![RESIZE];
            callee_data.extend_from_slice(&rest[0..4]);
            let ix = Instruction::new_with_bytes(
                *program_id,
                &callee_data,
                vec![AccountMeta::new(*state.key, false)],
            );
            solana_invoke::invoke(&ix, accounts)?;
            let new_len = u32::from_le_bytes(rest[0..4].try_into().unwrap()) as usize;
            if state.data_len() != new_len {
                return Err(ProgramError::Custom(1));
            }
            let mut data = state.try_borrow_mut_data()?;
            if data[0] != 7 {
                return Err(ProgramError::Custom(2));
            }
            data[1] = 9;
            Ok(())
        }
        ASSIGN => {
            // rest: the new owner
            let owner = Pubkey::new_from_array(rest[0..32].try_into().unwrap());
            accounts[0].assign(&owner);
            Ok(())
        }
        PANIC => panic!("the test program panics on purpose"),
        CUSTOM_ERROR => Err(ProgramError::Custom(42)),
        CALL => {
            // accounts: callee program, then the callee's accounts. rest: callee data
            let callee = &accounts[0];
            let metas = accounts[1..]
                .iter()
                .map(|a| AccountMeta {
                    pubkey: *a.key,
                    is_signer: a.is_signer,
                    is_writable: a.is_writable,
                })
                .collect();
            let ix = Instruction::new_with_bytes(*callee.key, rest, metas);
            solana_invoke::invoke(&ix, accounts)
        }
        CALL_SIGNED => {
            // Like CALL, signing as the callee's migration signer, PDA ["migration", callee]
            // of this program, as upgrade-governor's migrate_account does. rest: bump, callee
            // data
            let bump = rest[0];
            let callee = &accounts[0];
            let seeds: [&[u8]; 3] = [b"migration", callee.key.as_ref(), &[bump]];
            let signer = Pubkey::create_program_address(&seeds, program_id)?;
            let metas = accounts[1..]
                .iter()
                .map(|a| AccountMeta {
                    pubkey: *a.key,
                    is_signer: a.is_signer || *a.key == signer,
                    is_writable: a.is_writable,
                })
                .collect();
            let ix = Instruction::new_with_bytes(*callee.key, &rest[1..], metas);
            solana_invoke::invoke_signed(&ix, accounts, &[&seeds])
        }
        MSG => {
            // What anchor-lang's msg! and its error logging expand to.
            solana_msg::msg!("msg! from native, {} + {} = {}", 1, 2, 1 + 2);
            Ok(())
        }
        INTROSPECT => {
            // Return data: the previous top-level instruction's program id and data length,
            // then the compute units left.
            let sibling = program_stubs::sol_get_processed_sibling_instruction(0)
                .ok_or(ProgramError::Custom(3))?;
            let mut out = sibling.program_id.to_bytes().to_vec();
            out.extend_from_slice(&(sibling.data.len() as u64).to_le_bytes());
            out.extend_from_slice(&program_stubs::sol_remaining_compute_units().to_le_bytes());
            program_stubs::sol_set_return_data(&out);
            Ok(())
        }
        _ => Err(ProgramError::InvalidInstructionData),
    }
}

pub fn svm_with_program() -> (LiteSVM, Keypair) {
    let mut svm = LiteSVM::new();
    native_svm::add_native_program(&mut svm, PROGRAM_ID, process);
    let payer = Keypair::new();
    svm.airdrop(&payer.pubkey(), 10_000_000_000).unwrap();
    (svm, payer)
}

pub fn send(svm: &mut LiteSVM, payer: &Keypair, ixs: &[Instruction]) -> TransactionResult {
    send_signed(svm, payer, ixs, &[])
}

pub fn send_signed(
    svm: &mut LiteSVM,
    payer: &Keypair,
    ixs: &[Instruction],
    extra: &[&Keypair],
) -> TransactionResult {
    let mut signers = vec![payer];
    signers.extend_from_slice(extra);
    let tx = Transaction::new_signed_with_payer(
        ixs,
        Some(&payer.pubkey()),
        &signers,
        svm.latest_blockhash(),
    );
    let result = svm.send_transaction(tx);
    // Identical transactions in one blockhash are AlreadyProcessed: move on.
    svm.expire_blockhash();
    result
}

pub fn ix(data: &[u8], accounts: Vec<AccountMeta>) -> Instruction {
    Instruction::new_with_bytes(PROGRAM_ID, data, accounts)
}

/// A rent-exempt account owned by `owner` with `len` zero bytes.
pub fn put_account(svm: &mut LiteSVM, owner: &Pubkey, len: usize) -> Pubkey {
    let key = Pubkey::new_unique();
    svm.set_account(
        key,
        Account {
            lamports: svm.minimum_balance_for_rent_exemption(len),
            data: vec![0; len],
            owner: *owner,
            executable: false,
            rent_epoch: 0,
        },
    )
    .unwrap();
    key
}

/// upgrade-governor's program id: the governed counter accepts migrations signed by the
/// migration signer of this id only, so its test registers the test program here too.
pub const GOVERNOR_ID: Pubkey =
    Pubkey::from_str_const("EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5");

/// The migration signer of `program` under the governor's id, and its bump.
pub fn migration_signer(program: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[b"migration", program.as_ref()], &GOVERNOR_ID)
}

/// The authority PDA of the test program (upgrade authority in the upgrade tests).
pub fn authority() -> (Pubkey, u8) {
    Pubkey::find_program_address(&[b"authority"], &PROGRAM_ID)
}

pub fn logs_of(result: &TransactionResult) -> Vec<String> {
    match result {
        Ok(meta) => meta.logs.clone(),
        Err(failed) => failed.meta.logs.clone(),
    }
}
