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

/// The loader-owned ProgramData account's data, its header checked.
fn program_data_bytes<'a>(
    program_data: &'a AccountInfo,
) -> Result<std::cell::Ref<'a, &'a mut [u8]>> {
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
    Ok(data)
}

/// The upgrade authority recorded in a ProgramData account, without hashing the ELF (which
/// costs 1 CU per 2 bytes on chain: a 10 MB program would not fit a transaction's budget).
pub fn program_data_upgrade_authority(program_data: &AccountInfo) -> Result<Option<Pubkey>> {
    let data = program_data_bytes(program_data)?;
    Ok(option_pubkey(&data[12..]))
}

pub fn read_program_data(program_data: &AccountInfo) -> Result<ProgramDataInfo> {
    let data = program_data_bytes(program_data)?;
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
///
/// Padding can be megabytes (`--max-len`), so whole 8-byte words are checked from the end
/// first and only the last non-zero word (or a head shorter than a word) byte by byte.
pub fn trim_trailing_zeros(bytes: &[u8]) -> &[u8] {
    let mut end = bytes.len();
    while let Some(start) = end.checked_sub(8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[start..end]);
        if u64::from_ne_bytes(word) != 0 {
            break;
        }
        end = start;
    }
    while end > 0 && bytes[end - 1] == 0 {
        end -= 1;
    }
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

    /// The plain byte-at-a-time definition the word-wise version must equal.
    fn reference(bytes: &[u8]) -> &[u8] {
        let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
        &bytes[..end]
    }

    /// Compares on the slice itself and on copies starting at every offset within a word, so
    /// both the word loop's alignment and the unaligned reads are exercised.
    #[track_caller]
    fn check(bytes: &[u8]) {
        for offset in 0..8 {
            let mut backing = vec![0xEEu8; offset];
            backing.extend_from_slice(bytes);
            let slice = &backing[offset..];
            let got = trim_trailing_zeros(slice);
            assert_eq!(got, reference(slice), "input {bytes:?} at offset {offset}");
            // The same bytes, not just equal ones: a prefix of the input.
            assert_eq!(got.as_ptr(), slice.as_ptr());
        }
    }

    #[test]
    fn word_wise_trim_equals_byte_wise_on_every_short_input_shape() {
        for len in 0..=64usize {
            check(&vec![0u8; len]);
            check(&vec![0x5Au8; len]);
            for i in 0..len {
                // One non-zero byte at i in zeros, one zero byte at i in non-zeros.
                let mut one = vec![0u8; len];
                one[i] = 1 << (i % 8);
                check(&one);
                let mut hole = vec![0xFFu8; len];
                hole[i] = 0;
                check(&hole);
                // Data up to i, then zeros: every trimmed length with every padding length.
                let mut prefix = vec![0u8; len];
                prefix[..=i].fill(0x80);
                check(&prefix);
                // Two non-zero bytes, so a word is non-zero away from its last byte too.
                for j in 0..i {
                    let mut two = vec![0u8; len];
                    two[j] = 0x01;
                    two[i] = 0x80;
                    check(&two);
                }
            }
        }
    }

    #[test]
    fn word_wise_trim_equals_byte_wise_on_pseudo_random_buffers() {
        // xorshift64 with a fixed seed: the same buffers on every run, no extra crate.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..500 {
            let data_len = (next() % 3000) as usize;
            let padding = (next() % 200) as usize;
            // Sparse data (mostly zeros) so inner zero runs span whole words.
            let density = 1 + next() % 8;
            let mut bytes: Vec<u8> = (0..data_len)
                .map(|_| {
                    let r = next();
                    if r % density == 0 {
                        (r >> 32) as u8
                    } else {
                        0
                    }
                })
                .collect();
            bytes.resize(data_len + padding, 0);
            check(&bytes);
        }
    }
}
