//! Lets a governed program accept a migration only when it is signed by the program's current
//! upgrade authority — under upgrade-governor, the multisig's authority PDA, which signs the
//! `migrate_account` CPI. The rule needs no knowledge of the governor: whoever may upgrade the
//! program may also migrate its accounts.
//!
//! ```text
//! // accounts: [state (writable), authority (signer), program_data]
//! governed_auth::check_migration_authority(program_id, &accounts[1], &accounts[2])?;
//! ```
use solana_account_info::AccountInfo;
use solana_program_error::ProgramError;
use solana_pubkey::Pubkey;

/// u32 tag (3 = ProgramData) + u64 slot + Option<Pubkey>.
const PROGRAM_DATA_METADATA_LEN: usize = 4 + 8 + 1 + 32;
const TAG_PROGRAM_DATA: u32 = 3;

/// Why a migration signer was refused. Each maps to a distinct custom program error so a
/// caller can tell them apart in transaction logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationAuthError {
    /// The authority account did not sign.
    MissingSignature = 0x4741_0001,
    /// The account passed as ProgramData is not this program's ProgramData.
    WrongProgramData = 0x4741_0002,
    /// The program has no upgrade authority (it is immutable) or it is another key.
    NotUpgradeAuthority = 0x4741_0003,
}

impl From<MigrationAuthError> for ProgramError {
    fn from(e: MigrationAuthError) -> Self {
        ProgramError::Custom(e as u32)
    }
}

/// The ProgramData address of `program_id` under the BPF Upgradeable Loader.
pub fn program_data_address(program_id: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(
        &[program_id.as_ref()],
        &solana_sdk_ids::bpf_loader_upgradeable::ID,
    )
    .0
}

/// Checks that `authority` signed and is the upgrade authority recorded in `program_data`,
/// which must be `program_id`'s own ProgramData account.
pub fn check_migration_authority(
    program_id: &Pubkey,
    authority: &AccountInfo,
    program_data: &AccountInfo,
) -> Result<(), ProgramError> {
    if !authority.is_signer {
        return Err(MigrationAuthError::MissingSignature.into());
    }
    if *program_data.owner != solana_sdk_ids::bpf_loader_upgradeable::ID
        || *program_data.key != program_data_address(program_id)
    {
        return Err(MigrationAuthError::WrongProgramData.into());
    }
    let data = program_data.try_borrow_data()?;
    if data.len() < PROGRAM_DATA_METADATA_LEN
        || u32::from_le_bytes([data[0], data[1], data[2], data[3]]) != TAG_PROGRAM_DATA
    {
        return Err(MigrationAuthError::WrongProgramData.into());
    }
    if data[12] != 1 || data[13..45] != authority.key.as_ref()[..] {
        return Err(MigrationAuthError::NotUpgradeAuthority.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program_data_bytes(authority: Option<&Pubkey>) -> Vec<u8> {
        let mut d = vec![0u8; PROGRAM_DATA_METADATA_LEN + 8];
        d[..4].copy_from_slice(&TAG_PROGRAM_DATA.to_le_bytes());
        d[4..12].copy_from_slice(&42u64.to_le_bytes());
        if let Some(a) = authority {
            d[12] = 1;
            d[13..45].copy_from_slice(a.as_ref());
        }
        d
    }

    struct Fixture {
        program_id: Pubkey,
        pd_key: Pubkey,
        loader: Pubkey,
        authority: Pubkey,
        pd_lamports: u64,
        auth_lamports: u64,
        pd_data: Vec<u8>,
        auth_data: Vec<u8>,
    }

    impl Fixture {
        fn new(recorded: Option<Pubkey>, authority: Pubkey) -> Self {
            let program_id = Pubkey::new_unique();
            Fixture {
                pd_key: program_data_address(&program_id),
                program_id,
                loader: solana_sdk_ids::bpf_loader_upgradeable::ID,
                authority,
                pd_lamports: 1,
                auth_lamports: 1,
                pd_data: program_data_bytes(recorded.as_ref()),
                auth_data: vec![],
            }
        }

        fn check(&mut self, signer: bool) -> Result<(), ProgramError> {
            let system = Pubkey::default();
            let auth = AccountInfo::new(
                &self.authority,
                signer,
                false,
                &mut self.auth_lamports,
                &mut self.auth_data,
                &system,
                false,
            );
            let pd = AccountInfo::new(
                &self.pd_key,
                false,
                false,
                &mut self.pd_lamports,
                &mut self.pd_data,
                &self.loader,
                false,
            );
            check_migration_authority(&self.program_id, &auth, &pd)
        }
    }

    #[test]
    fn the_recorded_upgrade_authority_may_migrate() {
        let a = Pubkey::new_unique();
        assert_eq!(Fixture::new(Some(a), a).check(true), Ok(()));
    }

    #[test]
    fn an_unsigned_authority_is_refused() {
        let a = Pubkey::new_unique();
        assert_eq!(
            Fixture::new(Some(a), a).check(false),
            Err(MigrationAuthError::MissingSignature.into())
        );
    }

    #[test]
    fn another_signer_is_refused() {
        let mut f = Fixture::new(Some(Pubkey::new_unique()), Pubkey::new_unique());
        assert_eq!(
            f.check(true),
            Err(MigrationAuthError::NotUpgradeAuthority.into())
        );
    }

    #[test]
    fn an_immutable_program_cannot_be_migrated() {
        let mut f = Fixture::new(None, Pubkey::new_unique());
        assert_eq!(
            f.check(true),
            Err(MigrationAuthError::NotUpgradeAuthority.into())
        );
    }

    #[test]
    fn another_programs_program_data_is_refused() {
        let a = Pubkey::new_unique();
        let mut f = Fixture::new(Some(a), a);
        f.pd_key = Pubkey::new_unique();
        assert_eq!(
            f.check(true),
            Err(MigrationAuthError::WrongProgramData.into())
        );
    }

    #[test]
    fn an_account_not_owned_by_the_loader_is_refused() {
        let a = Pubkey::new_unique();
        let mut f = Fixture::new(Some(a), a);
        f.loader = Pubkey::new_unique();
        assert_eq!(
            f.check(true),
            Err(MigrationAuthError::WrongProgramData.into())
        );
    }
}
