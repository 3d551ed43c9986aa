//! Run a natively compiled Solana program (for example an Anchor 1.2.2 program, which is
//! built on the solana-program v3 crates) as a LiteSVM 0.16 builtin, under the runtime's
//! own rules.
//!
//! The program's entry function runs on the host, but everything around it is the real
//! Agave 4.2.2 runtime that LiteSVM embeds:
//!
//! * its accounts are serialized from the runtime's instruction accounts into buffers laid
//!   out like the SBF input region (so `AccountInfo::resize` and `assign` work), and copied
//!   back through the runtime's own setters after the entry returns, so changes the program
//!   may not make (data or lamports of accounts it does not own, read-only accounts, owner
//!   changes of non-empty accounts, realloc beyond 10 KiB) fail the instruction with the
//!   runtime's error instead of being skipped;
//! * `invoke`/`invoke_signed` (the solana-sysvar 3.x syscall stubs that anchor-lang and
//!   solana-invoke call on the host) go through the invoke context like an SBF program's
//!   CPI: caller changes are synced first, PDA signers are derived with
//!   `create_program_address` and the caller's program id, the runtime's privilege checks
//!   and its list of loader instructions callable by CPI apply, the callee runs through
//!   `InvokeContext::process_instruction` (so it is metered, logged and recorded as an inner
//!   instruction), and its account changes (including resize and owner change) are copied
//!   back into the caller's `AccountInfo`s;
//! * a failed CPI aborts the calling program, as the syscall does on chain, and the
//!   instruction fails with the runtime's own error (`PrivilegeEscalation`, the callee's
//!   custom error, ...);
//! * sysvars (`Clock`, `Rent`, `EpochSchedule`, `EpochRewards`, `LastRestartSlot`, and the
//!   generic `sol_get_sysvar`), return data, stack height, remaining compute units, epoch
//!   stake, processed sibling instructions and logs (`sol_log`, `sol_log_data`) are served
//!   from the invoke context.
//!
//! The invoke context of the running native program is kept per thread on a stack, saved
//! and restored around nested invocations (Anchor's `emit_cpi!` re-enters the program
//! through a self-CPI).
//!
//! # Registering a program
//!
//! * LiteSVM: `native_svm::add_native_program(&mut svm, my_program::ID, my_program::entry)`.
//! * surfpool-core (whose `SurfnetSvm` wraps a LiteSVM in `inner.svm`), before the surfnet
//!   starts: `native_svm::register_native_entry(id, entry)` then
//!   `surfnet_svm.inner.svm.add_builtin(id, native_svm::builtin_registerer())`.
//!
//! [`deploy_upgradeable`] and [`write_buffer`] place real SBF programs and buffers under the
//! upgradeable loader ([`upgradeable_program_accounts`] and [`buffer_account`] build the same
//! accounts for other account stores).
//!
//! # Limits
//!
//! * Native code is not metered; each native invocation consumes 1 compute unit (the
//!   runtime requires builtins to consume some). Callees reached by CPI are metered.
//! * On the host `solana_msg::msg!` (anchor-lang's `msg!` and error logging) prints to
//!   stdout instead of calling the stubs, so those lines are in the process's output (the
//!   localnet's log), not in the transaction's logs; the program's error code still is.
//!   `solana_sysvar::program_stubs::sol_log` lands in the transaction logs.
//! * `solana_cpi::invoke*` and `solana_cpi::set_return_data` are no-ops on the host (they do
//!   not call the stubs): use the `solana_sysvar::program_stubs` functions or
//!   `solana_invoke` (anchor-lang's `invoke`/`invoke_signed` already go through
//!   `solana-invoke`; its `set_return_data` is solana-cpi's, so Anchor return values are lost
//!   natively).
//! * The program must be built with `panic = "unwind"` (the default): a failed CPI unwinds
//!   back to the builtin.
//! * A LiteSVM that is rebuilt from scratch (surfpool's `surfnet_resetNetwork`, garbage
//!   collection of a database-backed surfnet) loses its builtins: register again.

mod adapter;
mod deploy;
mod frame;
mod stubs;

use {
    litesvm::LiteSVM,
    solana_account_info::AccountInfo,
    solana_program_error::ProgramResult,
    solana_program_runtime::invoke_context::BuiltinFunctionRegisterer,
    solana_pubkey::Pubkey,
    std::{
        collections::HashMap,
        sync::{Once, RwLock},
    },
};

pub use deploy::{
    buffer_account, deploy_upgradeable, programdata_address, upgradeable_program_accounts,
    write_buffer,
};

/// The entry function of a natively compiled program.
///
/// Anchor 1.2.2's generated `entry<'info>(&'info Pubkey, &'info [AccountInfo<'info>],
/// &'info [u8])` coerces to this type as it is (`add_native_program(&mut svm,
/// my_program::ID, my_program::entry)`), and so does a plain
/// `fn process(&Pubkey, &[AccountInfo], &[u8]) -> ProgramResult`. An entry whose signature
/// does not coerce (other lifetime bounds, another error type) needs a small wrapper:
///
/// ```
/// use {
///     native_svm::NativeEntry, solana_account_info::AccountInfo,
///     solana_program_error::ProgramResult, solana_pubkey::Pubkey,
/// };
///
/// fn process(_id: &Pubkey, _accounts: &[AccountInfo], _data: &[u8]) -> ProgramResult {
///     Ok(())
/// }
/// fn anchor_style<'info>(
///     _id: &'info Pubkey,
///     _accounts: &'info [AccountInfo<'info>],
///     _data: &'info [u8],
/// ) -> ProgramResult {
///     Ok(())
/// }
/// fn other(_id: &Pubkey, _accounts: &[AccountInfo], _data: &[u8]) -> Result<(), u64> {
///     Ok(())
/// }
/// fn wrapper<'a>(id: &'a Pubkey, accounts: &'a [AccountInfo<'a>], data: &'a [u8]) -> ProgramResult {
///     other(id, accounts, data).map_err(Into::into)
/// }
///
/// let _: NativeEntry = process;
/// let _: NativeEntry = anchor_style;
/// let _: NativeEntry = wrapper;
/// ```
pub type NativeEntry = for<'a> fn(&'a Pubkey, &'a [AccountInfo<'a>], &'a [u8]) -> ProgramResult;

static REGISTRY: RwLock<Option<HashMap<Pubkey, NativeEntry>>> = RwLock::new(None);
static INSTALL: Once = Once::new();

/// Installs the solana-sysvar 3.x syscall stubs that serve native programs (once per
/// process). [`add_native_program`] and [`register_native_entry`] call it; call it yourself
/// only if you register the builtin by other means.
///
/// The stubs are process-wide. Nothing else in the process may replace them
/// (`solana_sysvar::program_stubs::set_syscall_stubs`), and no other harness that installs
/// its own stubs (solana-program-test) can share the process.
pub fn install_syscall_stubs() {
    INSTALL.call_once(|| {
        solana_sysvar::program_stubs::set_syscall_stubs(Box::new(stubs::NativeSyscallStubs));
    });
}

/// Records `entry` as the code of the native program `program_id` and installs the syscall
/// stubs. The registry is process-wide and keyed by program id; a later registration of the
/// same id replaces the entry for every LiteSVM in the process.
///
/// Use this with [`builtin_registerer`] where [`add_native_program`] does not fit (for
/// example a surfnet, through `SurfnetSvm::inner.svm`).
pub fn register_native_entry(program_id: Pubkey, entry: NativeEntry) {
    install_syscall_stubs();
    REGISTRY
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .get_or_insert_with(HashMap::new)
        .insert(program_id, entry);
}

pub(crate) fn lookup_native_entry(program_id: &Pubkey) -> Option<NativeEntry> {
    REGISTRY
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|registry| registry.get(program_id).copied())
}

/// The builtin function that dispatches to registered native entries, by the program id
/// of the running instruction. Pass it to `LiteSVM::add_builtin` (one function serves all
/// native programs).
pub fn builtin_registerer() -> BuiltinFunctionRegisterer {
    adapter::NativeProgram::register_fn()
}

/// Registers the natively compiled program `entry` at `program_id` in `svm`.
///
/// The program account is created by LiteSVM as a builtin: executable, owned by the native
/// loader (`NativeLoader1111111111111111111111111111111`), not by the upgradeable loader.
pub fn add_native_program(svm: &mut LiteSVM, program_id: Pubkey, entry: NativeEntry) {
    register_native_entry(program_id, entry);
    svm.add_builtin(program_id, builtin_registerer());
}
