//! Upgradeable-loader accounts (Program, ProgramData, Buffer) placed directly, with the
//! loader's own layouts, so a test or a local chain starts with a deployed program.

use {
    litesvm::LiteSVM, solana_account::Account, solana_clock::Clock,
    solana_loader_v3_interface::state::UpgradeableLoaderState, solana_pubkey::Pubkey,
    solana_sdk_ids::bpf_loader_upgradeable,
};

/// The state in the loader's fixed-size header: `None` authorities still take their 33
/// bytes (bincode alone would write one), so the ELF starts where the loader expects it.
fn header(state: &UpgradeableLoaderState, size: usize) -> Vec<u8> {
    let mut data = vec![0u8; size];
    wincode::serialize_into(&mut data[..], state).expect("UpgradeableLoaderState fits its header");
    data
}

/// The ProgramData address of an upgradeable program.
pub fn programdata_address(program_id: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[program_id.as_ref()], &bpf_loader_upgradeable::id()).0
}

/// The two accounts of an upgradeable program holding `elf`: `[(programdata address,
/// ProgramData), (program_id, Program)]`, in the order they must be stored (a Program
/// account is loaded from its ProgramData when it is stored). `slot` is the last-deploy
/// slot recorded in ProgramData; `rent_exempt(len)` gives the lamports for `len` bytes.
pub fn upgradeable_program_accounts(
    program_id: &Pubkey,
    elf: &[u8],
    upgrade_authority: Option<Pubkey>,
    slot: u64,
    rent_exempt: &dyn Fn(usize) -> u64,
) -> [(Pubkey, Account); 2] {
    let programdata_address = programdata_address(program_id);
    let mut programdata = header(
        &UpgradeableLoaderState::ProgramData {
            slot,
            upgrade_authority_address: upgrade_authority,
        },
        UpgradeableLoaderState::size_of_programdata_metadata(),
    );
    programdata.extend_from_slice(elf);
    let program = header(
        &UpgradeableLoaderState::Program {
            programdata_address,
        },
        UpgradeableLoaderState::size_of_program(),
    );
    [
        (
            programdata_address,
            Account {
                lamports: rent_exempt(programdata.len()),
                data: programdata,
                owner: bpf_loader_upgradeable::id(),
                executable: false,
                rent_epoch: u64::MAX,
            },
        ),
        (
            *program_id,
            Account {
                lamports: rent_exempt(program.len()),
                data: program,
                owner: bpf_loader_upgradeable::id(),
                executable: true,
                rent_epoch: u64::MAX,
            },
        ),
    ]
}

/// A Buffer account holding `elf`, as `solana program write-buffer` leaves it.
pub fn buffer_account(
    elf: &[u8],
    authority: Option<Pubkey>,
    rent_exempt: &dyn Fn(usize) -> u64,
) -> Account {
    let mut data = header(
        &UpgradeableLoaderState::Buffer {
            authority_address: authority,
        },
        UpgradeableLoaderState::size_of_buffer_metadata(),
    );
    data.extend_from_slice(elf);
    Account {
        lamports: rent_exempt(data.len()),
        data,
        owner: bpf_loader_upgradeable::id(),
        executable: false,
        rent_epoch: u64::MAX,
    }
}

/// Deploys `elf` at `program_id` under the upgradeable loader, as if `solana program deploy`
/// had run in the current slot: ProgramData (last-deploy slot = the current slot, the given
/// upgrade authority, `None` = immutable) and Program accounts are stored, and LiteSVM loads
/// the ELF into its program cache, so it is runnable at once. The loader itself refuses to
/// upgrade a program in the slot it was deployed in: warp at least one slot before an
/// `Upgrade`. ProgramData is exactly as large as the ELF (no `--max-len` headroom): a larger
/// ELF needs the loader's `ExtendProgram` first.
///
/// Returns the ProgramData address. Panics if LiteSVM refuses the accounts (an ELF that
/// does not load); use [`upgradeable_program_accounts`] to handle that yourself.
pub fn deploy_upgradeable(
    svm: &mut LiteSVM,
    program_id: Pubkey,
    elf: &[u8],
    upgrade_authority: Option<Pubkey>,
) -> Pubkey {
    let slot = svm.get_sysvar::<Clock>().slot;
    let [programdata, program] = {
        let rent = |len| svm.minimum_balance_for_rent_exemption(len);
        upgradeable_program_accounts(&program_id, elf, upgrade_authority, slot, &rent)
    };
    let programdata_address = programdata.0;
    svm.set_account(programdata.0, programdata.1)
        .expect("store ProgramData");
    if let Err(err) = svm.set_account(program.0, program.1) {
        panic!("LiteSVM refused to load the ELF deployed at {program_id}: {err}");
    }
    programdata_address
}

/// Stores a Buffer account at `buffer` holding `elf`, with `authority` as its authority (the
/// state `solana program write-buffer` + `set-buffer-authority` leave).
pub fn write_buffer(svm: &mut LiteSVM, buffer: Pubkey, elf: &[u8], authority: Option<Pubkey>) {
    let account = {
        let rent = |len| svm.minimum_balance_for_rent_exemption(len);
        buffer_account(elf, authority, &rent)
    };
    svm.set_account(buffer, account).expect("store the buffer");
}
