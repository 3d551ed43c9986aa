use anchor_lang::prelude::*;
use anchor_lang::solana_program::{bpf_loader_upgradeable, program::invoke_signed};

use crate::errors::GovernorError;
use crate::events::{ConfigActionExecuted, ConfigExecuted};
use crate::loader;
use crate::state::*;

/// Remaining accounts: for each `SetProgramAuthority` action, in action order, the program
/// (read-only), its ProgramData (writable) and, only when the action names a new authority,
/// that authority (read-only). Nothing else.
#[event_cpi]
#[derive(Accounts)]
pub struct ExecuteConfig<'info> {
    #[account(
        mut,
        seeds = [MULTISIG_SEED, multisig.create_key.as_ref()],
        bump = multisig.bump,
    )]
    pub multisig: Account<'info, Multisig>,
    #[account(
        mut,
        has_one = multisig,
        seeds = [PROPOSAL_SEED, multisig.key().as_ref(), &proposal.index.to_le_bytes()],
        bump = proposal.bump,
    )]
    pub proposal: Account<'info, Proposal>,
    /// Anyone may execute once the timelock has passed.
    pub executor: Signer<'info>,
    /// CHECK: the governor's authority PDA; signs the loader's SetAuthority of hand-offs.
    #[account(seeds = [AUTHORITY_SEED, multisig.key().as_ref()], bump = multisig.authority_bump)]
    pub authority: UncheckedAccount<'info>,
    /// CHECK: the BPF Upgradeable Loader, invoked by CPI.
    #[account(address = bpf_loader_upgradeable::ID)]
    pub bpf_loader_upgradeable: UncheckedAccount<'info>,
}

/// The accounts of one program hand-off, taken from the remaining accounts.
struct HandOff<'a, 'info> {
    action: &'a ConfigAction,
    program: &'a AccountInfo<'info>,
    program_data: &'a AccountInfo<'info>,
    new_authority: Option<&'a AccountInfo<'info>>,
}

/// Splits the remaining accounts into one `HandOff` per `SetProgramAuthority` action, in
/// order; any missing or extra account, or a program in another action's place, is refused.
fn hand_offs<'a, 'info>(
    actions: &'a [ConfigAction],
    remaining: &'a [AccountInfo<'info>],
) -> Result<Vec<HandOff<'a, 'info>>> {
    let actions: Vec<&ConfigAction> = actions
        .iter()
        .filter(|a| a.kind == ConfigActionKind::SetProgramAuthority)
        .collect();
    let expected: usize = actions
        .iter()
        .map(|a| 2 + usize::from(a.new_authority.is_some()))
        .sum();
    require!(
        remaining.len() == expected,
        GovernorError::MissingConfigAccounts
    );
    let mut rest = remaining;
    let mut out = Vec::with_capacity(actions.len());
    for action in &actions {
        let (program, program_data) = (&rest[0], &rest[1]);
        rest = &rest[2..];
        // The loader writes the new authority into ProgramData.
        require!(
            program_data.is_writable,
            GovernorError::MissingConfigAccounts
        );
        if program.key() != action.key {
            // Another hand-off's program here: the accounts are in the wrong order.
            let misplaced = actions.iter().any(|a| a.key == program.key());
            return Err(if misplaced {
                GovernorError::MissingConfigAccounts
            } else {
                GovernorError::WrongTargetProgram
            }
            .into());
        }
        let new_authority = match action.new_authority {
            Some(_) => {
                let account = &rest[0];
                rest = &rest[1..];
                Some(account)
            }
            None => None,
        };
        out.push(HandOff {
            action,
            program,
            program_data,
            new_authority,
        });
    }
    Ok(out)
}

/// Applies an approved config proposal: every action or none. The result is validated again
/// here, since another config proposal may have executed since this one was proposed.
pub fn handler<'info>(ctx: Context<'info, ExecuteConfig<'info>>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    // The effective pause: a pause that lapsed no longer holds executions back.
    require!(
        !ctx.accounts.multisig.is_paused(now),
        GovernorError::SystemPaused
    );
    let proposal = &ctx.accounts.proposal;
    require!(
        proposal.kind == ProposalKind::Config,
        GovernorError::NotAConfigProposal
    );
    proposal.check_executable(&ctx.accounts.multisig, now)?;

    let authority = ctx.accounts.authority.key();
    let before = ctx.accounts.multisig.config();
    let mut after = before.clone();
    after.apply(&proposal.actions, &authority)?;

    let multisig_key = ctx.accounts.multisig.key();
    let bump = [ctx.accounts.multisig.authority_bump];
    let seeds = Multisig::authority_seeds(&multisig_key, &bump);
    for hand_off in hand_offs(&proposal.actions, ctx.remaining_accounts)? {
        // The ProgramData of the program the members named, not of another program this
        // multisig governs.
        require_keys_eq!(
            loader::program_data_address(hand_off.program)?,
            hand_off.program_data.key(),
            GovernorError::WrongProgramData
        );
        require!(
            loader::program_data_upgrade_authority(hand_off.program_data)? == Some(authority),
            GovernorError::ProgramNotGoverned
        );
        require!(
            hand_off.new_authority.map(|a| a.key()) == hand_off.action.new_authority,
            GovernorError::WrongNewAuthority
        );
        // SetAuthority, not SetAuthorityChecked: the new authority may be a PDA (another
        // multisig's) that cannot sign. None makes the program immutable.
        let ix = bpf_loader_upgradeable::set_upgrade_authority(
            hand_off.program.key,
            &authority,
            hand_off.action.new_authority.as_ref(),
        );
        let mut infos = vec![
            hand_off.program_data.clone(),
            ctx.accounts.authority.to_account_info(),
        ];
        infos.extend(hand_off.new_authority.cloned());
        infos.push(ctx.accounts.bpf_loader_upgradeable.to_account_info());
        invoke_signed(&ix, &infos, &[&seeds])?;
    }

    let membership_changed = !after.same_membership(&before);
    let multisig = &mut ctx.accounts.multisig;
    multisig.store_config(after);
    if membership_changed {
        // Every proposal created so far; this one is executed below.
        multisig.mark_proposals_stale();
    }
    let proposal = &mut ctx.accounts.proposal;
    proposal.status = ProposalStatus::Executed;
    proposal.executed_at = now;

    for action in &proposal.actions {
        emit_cpi!(ConfigActionExecuted {
            multisig: multisig_key,
            proposal: proposal.key(),
            action: *action,
        });
    }
    emit_cpi!(ConfigExecuted {
        multisig: multisig_key,
        proposal: proposal.key(),
        executor: ctx.accounts.executor.key(),
        members: multisig.members.clone(),
        threshold: multisig.threshold,
        timelock_seconds: multisig.timelock_seconds,
        proposal_lifetime_seconds: multisig.proposal_lifetime_seconds,
        grace_seconds: multisig.grace_seconds,
        guardian: multisig.guardian,
        stale_proposal_index: multisig.stale_proposal_index,
        executed_at: now,
    });
    Ok(())
}
