//! Lets a governed program accept a migration only from upgrade-governor's `migrate_account`.
//!
//! `migrate_account` calls the governed program's migrate instruction once per account with
//! `[state (writable), migration signer (signer), ProgramData]`. The migration signer is the
//! PDA `["migration", program_id]` of the governor's program id: the governor signs with it
//! only inside `migrate_account`, and only after checking that the program's upgrade authority
//! is the authority PDA of the multisig whose executed upgrade declared the migration. So a
//! valid signature means: the multisig that governs this program now runs the migration plan
//! its members approved with the upgrade.
//!
//! The migration signer is the authority of nothing: it holds no program, buffer or account,
//! so governed code that misuses its signature (by bug or by design) cannot upgrade, hand off
//! or close any program or buffer of the multisig. The multisig's authority PDA, which is the
//! upgrade authority of every program it governs, never signs for governed code.
//!
//! ```text
//! // accounts: [state (writable), migration signer (signer), program_data]
//! governed_auth::check_migration_signer(program_id, &governed_auth::UPGRADE_GOVERNOR_ID, &accounts[1])?;
//! ```
//!
//! The check derives the PDA with `find_program_address`: on chain that costs one
//! `create_program_address` (1,500 compute units) per bump tried, two on average. It does not
//! need the ProgramData account (the governor has checked the upgrade authority), and accepts
//! only the governor: a key that can upgrade the program directly deploys code that accepts it.
use solana_account_info::AccountInfo;
use solana_program_error::ProgramError;
use solana_pubkey::Pubkey;

/// The first seed of the migration signer, `["migration", governed program id]`.
pub const MIGRATION_SEED: &[u8] = b"migration";

/// upgrade-governor's program id as this repository deploys it (its `declare_id!`). A program
/// governed by a deployment under another id passes that id instead.
pub const UPGRADE_GOVERNOR_ID: Pubkey =
    Pubkey::from_str_const("EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5");

/// Why a migration signer was refused. Each maps to a distinct custom program error so a
/// caller can tell them apart in transaction logs. (Codes 0x4741_0002 and 0x4741_0003 belonged
/// to the earlier upgrade-authority check and are not reused.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationAuthError {
    /// The migration signer account did not sign.
    MissingSignature = 0x4741_0001,
    /// The account is not this program's migration signer under the governor.
    NotMigrationSigner = 0x4741_0004,
}

impl From<MigrationAuthError> for ProgramError {
    fn from(e: MigrationAuthError) -> Self {
        ProgramError::Custom(e as u32)
    }
}

/// The migration signer of `program_id` under the governor `governor_id`, and its bump.
pub fn migration_signer_address(program_id: &Pubkey, governor_id: &Pubkey) -> (Pubkey, u8) {
    Pubkey::find_program_address(&[MIGRATION_SEED, program_id.as_ref()], governor_id)
}

/// Checks that `signer` signed and is `program_id`'s migration signer under `governor_id`
/// (usually [`UPGRADE_GOVERNOR_ID`]).
pub fn check_migration_signer(
    program_id: &Pubkey,
    governor_id: &Pubkey,
    signer: &AccountInfo,
) -> Result<(), ProgramError> {
    if !signer.is_signer {
        return Err(MigrationAuthError::MissingSignature.into());
    }
    if *signer.key != migration_signer_address(program_id, governor_id).0 {
        return Err(MigrationAuthError::NotMigrationSigner.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixture {
        program_id: Pubkey,
        signer: Pubkey,
        lamports: u64,
        data: Vec<u8>,
    }

    impl Fixture {
        fn new(signer: impl FnOnce(&Pubkey) -> Pubkey) -> Self {
            let program_id = Pubkey::new_unique();
            Fixture {
                signer: signer(&program_id),
                program_id,
                lamports: 0,
                data: vec![],
            }
        }

        fn check(&mut self, governor_id: &Pubkey, signed: bool) -> Result<(), ProgramError> {
            let system = Pubkey::default();
            let info = AccountInfo::new(
                &self.signer,
                signed,
                false,
                &mut self.lamports,
                &mut self.data,
                &system,
                false,
            );
            check_migration_signer(&self.program_id, governor_id, &info)
        }
    }

    fn own_signer(program_id: &Pubkey) -> Pubkey {
        migration_signer_address(program_id, &UPGRADE_GOVERNOR_ID).0
    }

    #[test]
    fn the_migration_signer_of_this_program_may_migrate() {
        let mut f = Fixture::new(own_signer);
        assert_eq!(f.check(&UPGRADE_GOVERNOR_ID, true), Ok(()));
    }

    #[test]
    fn the_signer_is_the_pda_of_the_migration_seed_and_the_program_under_the_governor() {
        let program_id = Pubkey::new_unique();
        let (address, bump) = migration_signer_address(&program_id, &UPGRADE_GOVERNOR_ID);
        assert_eq!(
            Pubkey::create_program_address(
                &[b"migration", program_id.as_ref(), &[bump]],
                &UPGRADE_GOVERNOR_ID
            ),
            Ok(address)
        );
    }

    #[test]
    fn an_unsigned_migration_signer_is_refused() {
        let mut f = Fixture::new(own_signer);
        assert_eq!(
            f.check(&UPGRADE_GOVERNOR_ID, false),
            Err(MigrationAuthError::MissingSignature.into())
        );
    }

    #[test]
    fn another_signer_is_refused() {
        let mut f = Fixture::new(|_| Pubkey::new_unique());
        assert_eq!(
            f.check(&UPGRADE_GOVERNOR_ID, true),
            Err(MigrationAuthError::NotMigrationSigner.into())
        );
    }

    #[test]
    fn the_migration_signer_of_another_program_is_refused() {
        let other = Pubkey::new_unique();
        let mut f = Fixture::new(|_| own_signer(&other));
        assert_eq!(
            f.check(&UPGRADE_GOVERNOR_ID, true),
            Err(MigrationAuthError::NotMigrationSigner.into())
        );
    }

    #[test]
    fn the_same_seeds_under_another_program_id_are_refused() {
        // Anyone can deploy a program that signs with ["migration", program_id] under its own id.
        let impostor = Pubkey::new_unique();
        let mut f = Fixture::new(|program_id| migration_signer_address(program_id, &impostor).0);
        assert_eq!(
            f.check(&UPGRADE_GOVERNOR_ID, true),
            Err(MigrationAuthError::NotMigrationSigner.into())
        );
        // A program governed by that deployment names it.
        assert_eq!(f.check(&impostor, true), Ok(()));
    }

    #[test]
    fn the_governors_authority_pda_is_refused() {
        // The multisig's authority PDA is the program's upgrade authority, not its migration
        // signer: a program that still accepts it would accept what the governor no longer sends.
        let multisig = Pubkey::new_unique();
        let mut f = Fixture::new(|_| {
            Pubkey::find_program_address(&[b"authority", multisig.as_ref()], &UPGRADE_GOVERNOR_ID).0
        });
        assert_eq!(
            f.check(&UPGRADE_GOVERNOR_ID, true),
            Err(MigrationAuthError::NotMigrationSigner.into())
        );
    }
}
