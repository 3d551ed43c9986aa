pub mod approve_upgrade;
pub mod cancel_upgrade;
pub mod execute_config;
pub mod execute_upgrade;
pub mod initialize_multisig;
pub mod migrate_account;
pub mod pause_system;
pub mod propose_config;
pub mod propose_upgrade;
pub mod resume_system;

// Anchor's #[program] needs the accounts structs at the crate root; each module's `handler`
// is reached by its path, so the clash between the glob-imported names is harmless.
#[allow(ambiguous_glob_reexports)]
pub use approve_upgrade::*;
#[allow(ambiguous_glob_reexports)]
pub use cancel_upgrade::*;
#[allow(ambiguous_glob_reexports)]
pub use execute_config::*;
#[allow(ambiguous_glob_reexports)]
pub use execute_upgrade::*;
#[allow(ambiguous_glob_reexports)]
pub use initialize_multisig::*;
#[allow(ambiguous_glob_reexports)]
pub use migrate_account::*;
#[allow(ambiguous_glob_reexports)]
pub use pause_system::*;
#[allow(ambiguous_glob_reexports)]
pub use propose_config::*;
#[allow(ambiguous_glob_reexports)]
pub use propose_upgrade::*;
#[allow(ambiguous_glob_reexports)]
pub use resume_system::*;
