//! Reading BPF Upgradeable Loader accounts (Program, ProgramData, Buffer) by their bincode
//! layout, and hashing a buffer's ELF the way `solana-verify get-buffer-hash` does.
use anchor_lang::prelude::*;
use anchor_lang::solana_program::bpf_loader_upgradeable;

use crate::errors::GovernorError;

/// u32 tag + Option<Pubkey>.
pub const BUFFER_METADATA_LEN: usize = 4 + 1 + 32;
/// u32 tag + u64 slot + Option<Pubkey>.
pub const PROGRAM_DATA_METADATA_LEN: usize = 4 + 8 + 1 + 32;

const TAG_BUFFER: u32 = 1;
const TAG_PROGRAM: u32 = 2;
const TAG_PROGRAM_DATA: u32 = 3;

fn tag(data: &[u8]) -> Option<u32> {
    data.get(..4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn option_pubkey(data: &[u8]) -> Option<Pubkey> {
    match data.first() {
        Some(1) if data.len() >= 33 => Some(Pubkey::new_from_array(data[1..33].try_into().ok()?)),
        _ => None,
    }
}

/// The ProgramData address a Program account points to.
pub fn program_data_address(program: &AccountInfo) -> Result<Pubkey> {
    require_keys_eq!(
        *program.owner,
        bpf_loader_upgradeable::ID,
        GovernorError::NotUpgradeableProgram
    );
    let data = program.try_borrow_data()?;
    require!(
        data.len() >= 36 && tag(&data) == Some(TAG_PROGRAM),
        GovernorError::NotUpgradeableProgram
    );
    Ok(Pubkey::new_from_array(data[4..36].try_into().unwrap()))
}

pub struct ProgramDataInfo {
    pub slot: u64,
    pub upgrade_authority: Option<Pubkey>,
    /// Bytes available for the ELF.
    pub capacity: usize,
    /// Hash of the deployed ELF, solana-verify's convention (`get-program-hash`).
    pub hash: [u8; 32],
}

pub fn read_program_data(program_data: &AccountInfo) -> Result<ProgramDataInfo> {
    require_keys_eq!(
        *program_data.owner,
        bpf_loader_upgradeable::ID,
        GovernorError::WrongProgramData
    );
    let data = program_data.try_borrow_data()?;
    require!(
        data.len() >= PROGRAM_DATA_METADATA_LEN && tag(&data) == Some(TAG_PROGRAM_DATA),
        GovernorError::WrongProgramData
    );
    Ok(ProgramDataInfo {
        slot: u64::from_le_bytes(data[4..12].try_into().unwrap()),
        upgrade_authority: option_pubkey(&data[12..]),
        capacity: data.len() - PROGRAM_DATA_METADATA_LEN,
        hash: solana_sha256_hasher::hash(trim_trailing_zeros(&data[PROGRAM_DATA_METADATA_LEN..]))
            .to_bytes(),
    })
}

pub struct BufferInfo {
    pub authority: Option<Pubkey>,
    pub hash: [u8; 32],
    /// Length of the ELF with trailing zero bytes stripped.
    pub elf_len: usize,
    /// Length of everything after the buffer header, zero padding included: what the loader's
    /// `Upgrade` requires ProgramData to hold.
    pub data_len: usize,
}

pub fn read_buffer(buffer: &AccountInfo) -> Result<BufferInfo> {
    require_keys_eq!(
        *buffer.owner,
        bpf_loader_upgradeable::ID,
        GovernorError::NotABuffer
    );
    let data = buffer.try_borrow_data()?;
    require!(
        data.len() >= BUFFER_METADATA_LEN && tag(&data) == Some(TAG_BUFFER),
        GovernorError::NotABuffer
    );
    let elf = trim_trailing_zeros(&data[BUFFER_METADATA_LEN..]);
    require!(!elf.is_empty(), GovernorError::EmptyBuffer);
    Ok(BufferInfo {
        authority: option_pubkey(&data[4..]),
        hash: solana_sha256_hasher::hash(elf).to_bytes(),
        elf_len: elf.len(),
        data_len: data.len() - BUFFER_METADATA_LEN,
    })
}

/// solana-verify hashes the ELF without the zero padding a buffer or ProgramData may carry.
pub fn trim_trailing_zeros(bytes: &[u8]) -> &[u8] {
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    &bytes[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_zeros_are_stripped_but_inner_zeros_kept() {
        assert_eq!(trim_trailing_zeros(&[1, 0, 2, 0, 0]), &[1, 0, 2]);
        assert_eq!(trim_trailing_zeros(&[0, 0]), &[] as &[u8]);
        assert_eq!(trim_trailing_zeros(&[]), &[] as &[u8]);
    }
}
