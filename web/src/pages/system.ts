// The system's state, from the chain: paused or not, members, guardian, threshold, timelock,
// and the history of its configurations (who was a member when). Also where the browser's
// settings live (links to the Temporal Web UI and the explorer).
import { getMultisig, listProposals, type Multisig, type MultisigConfig } from '../api';
import { reloadSettings, settings } from '../app';
import { membersDiff } from '../changes';
import { h, morph, replace } from '../dom';
import { exactDuration, short, time } from '../format';
import { addressLink, txLink } from '../links';
import { poll, type Page } from '../page';
import { problemView, successView } from '../problems';
import { defaults, lastMultisig, rememberMultisig, reset, save } from '../settings';
import { onWalletChange, walletState } from '../wallet';

const base58 = '^[1-9A-HJ-NP-Za-km-z]{32,44}$';

export function systemPage(address: string): Page {
  let stop = () => {};
  let offWallet = () => {};
  const multisig = address || lastMultisig();
  return {
    title: 'System state',
    mount(root) {
      const input = h('input', {
        id: 'multisig-address', name: 'multisig', type: 'text', required: true, pattern: base58,
        value: multisig, autocomplete: 'off', spellcheck: 'false', list: 'known-multisigs', class: 'mono',
        'aria-describedby': 'multisig-help',
      });
      const known = h('datalist', { id: 'known-multisigs' });
      const chooser = h('form', { class: 'chooser' },
        h('label', { for: 'multisig-address' }, 'Multisig address'),
        h('div', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Show')),
        h('p', { id: 'multisig-help', class: 'note' }, 'The multisig account (base58). Multisigs with proposals are suggested.'),
        known);
      chooser.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!input.reportValidity()) return;
        location.hash = `#/system/${input.value.trim()}`;
      });
      const region = h('div', { id: 'system-region' });
      root.append(h('h1', { tabindex: -1 }, 'System state'), chooser, region, settingsSection());
      void listProposals({ limit: 200 }).then((l) => {
        const seen = [...new Set(l.proposals.map((p) => p.multisig))];
        replace(known, seen.map((m) => h('option', { value: m })));
        if (!multisig && seen.length === 1) location.hash = `#/system/${seen[0]}`;
      }).catch(() => undefined);
      if (!multisig) {
        region.append(h('p', {}, 'Enter a multisig address to see its state.'));
        return;
      }
      rememberMultisig(multisig);
      let last: Multisig | undefined;
      let error: unknown;
      const draw = () => morph(region, render(multisig, last, error));
      stop = poll(async () => {
        try {
          last = await getMultisig(multisig);
          error = undefined;
        } catch (e) {
          error = e;
        }
        draw();
      }, 5000);
      offWallet = onWalletChange(draw);
    },
    unmount() {
      stop();
      offWallet();
    },
  };
}

function render(address: string, m: Multisig | undefined, error: unknown): HTMLElement {
  if (!m) {
    return h('div', { id: 'system-region' }, error ? problemView(error, 'Could not read the multisig') : h('p', {}, 'Loading…'));
  }
  const me = walletState().account?.address;
  return h('div', { id: 'system-region' },
    error ? problemView(error, 'Could not refresh (showing the last answer)') : null,
    m.paused
      ? h('p', { class: 'banner paused', id: 'paused-state' }, h('strong', {}, 'Paused. '),
        `Nothing executes or migrates until ${m.threshold} members each vote to resume (${m.resume_votes.length} so far; `, h('code', {}, 'ugov resume'), '). ',
        m.pause_expires_at ? ['The pause lapses at ', h('time', { datetime: m.pause_expires_at }, new Date(m.pause_expires_at).toLocaleString()),
          ` unless ${m.threshold} members hold it (${m.pause_votes.length} so far; `, h('code', {}, 'ugov pause'), ').'] : `Held by ${m.threshold} members until resumed.`)
      : h('p', { class: 'banner running', id: 'paused-state' }, h('strong', {}, 'Running. '), 'Not paused: approved upgrades execute after their timelock.'),
    h('div', { class: 'summary-grid' },
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Threshold'),
        h('span', { class: 'stat-value', id: 'threshold' }, `${m.threshold} of ${m.members.length}`)),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Timelock'),
        h('span', { class: 'stat-value', id: 'timelock' }, exactDuration(m.timelock_seconds))),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Proposals expire after'),
        h('span', { class: 'stat-value' }, exactDuration(m.proposal_lifetime_seconds))),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Approvals expire unexecuted after'),
        h('span', { class: 'stat-value', id: 'grace' }, `eta + ${exactDuration(m.grace_seconds)}`)),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Proposals so far'),
        h('span', { class: 'stat-value' }, String(m.proposal_index))),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Stale proposals'),
        h('span', { class: 'stat-value', id: 'stale-index' }, m.stale_proposal_index ? `up to #${m.stale_proposal_index}` : 'none'),
        h('span', { class: 'stat-note' }, m.stale_proposal_index
          ? 'A change of the members or threshold made them stale: no further approvals or execution.'
          : 'No change of the members or threshold has executed.'))),
    h('section', { 'aria-labelledby': 'members-title' },
      h('div', { class: 'page-head' },
        h('h2', { id: 'members-title' }, `Members (${m.members.length})`),
        h('a', { href: `#/change/${address}`, class: 'button', id: 'change-link' }, 'Change the multisig')),
      h('ul', { class: 'members', id: 'members' }, m.members.map((k) => h('li', {},
        addressLink(k, true), k === me ? h('span', { class: 'tag' }, ' your connected account') : null)))),
    h('section', { 'aria-labelledby': 'accounts-title' },
      h('h2', { id: 'accounts-title' }, 'Accounts'),
      h('dl', { class: 'fields' },
        h('dt', {}, 'Multisig'), h('dd', {}, addressLink(address, true)),
        h('dt', {}, 'Guardian (may cancel and pause)'), h('dd', { id: 'guardian' }, addressLink(m.guardian, true), m.guardian === me ? ' (your connected account)' : ''),
        h('dt', {}, 'Upgrade authority (PDA)'), h('dd', {}, addressLink(m.authority, true)),
        h('dt', {}, 'Proposals'), h('dd', {}, h('a', { href: '#/' }, 'All proposals')))),
    historySection(m.history ?? []));
}

// The configurations the index recorded, newest first: each names the config proposal that
// set it, and what changed against the one before.
function historySection(history: MultisigConfig[]): HTMLElement {
  const title = h('h2', { id: 'history-title' }, 'History of the configuration');
  if (history.length === 0) {
    return h('section', { 'aria-labelledby': 'history-title' }, title,
      h('p', {}, 'Nothing recorded: this deployment does not serve the multisig, or its creation is not indexed yet.'));
  }
  return h('section', { 'aria-labelledby': 'history-title' }, title,
    h('table', { class: 'cards', id: 'history' },
      h('caption', {}, `${history.length} configuration${history.length === 1 ? '' : 's'}, newest first: the creation, then each executed change of the multisig.`),
      h('thead', {}, h('tr', {}, ['When', 'Set by', 'Members', 'Threshold', 'Timelock', 'Guardian'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, history.map((c, i) => historyRow(c, history[i + 1])))));
}

function historyRow(c: MultisigConfig, before: MultisigConfig | undefined): HTMLElement {
  const { added, removed } = membersDiff(before?.members, c.members);
  const changed = (now: unknown, was: unknown) => (before && now !== was ? h('span', { class: 'tag' }, ' changed') : null);
  // One element per cell: on a phone each cell is a grid of label and value.
  return h('tr', { 'data-proposal': c.proposal ?? 'creation' },
    h('td', { 'data-label': 'When' }, h('div', {}, h('time', { datetime: c.effective_at }, time(c.effective_at)), h('div', { class: 'note' }, txLink(c.signature)))),
    h('th', { scope: 'row', 'data-label': 'Set by' }, c.proposal
      ? h('a', { href: `#/proposals/${c.proposal}`, class: 'mono', title: c.proposal }, `proposal ${short(c.proposal)}`)
      : 'the creation of the multisig'),
    h('td', { 'data-label': 'Members', class: 'history-members' }, h('div', {},
      h('ul', { class: 'members' }, c.members.map((k) => h('li', {}, addressLink(k), added.includes(k) ? h('span', { class: 'tag' }, ' added') : null))),
      removed.length ? h('p', { class: 'note removed' }, 'Removed: ', removed.map((k, i) => [i ? ', ' : '', addressLink(k)])) : null)),
    h('td', { 'data-label': 'Threshold' }, h('span', {}, `${c.threshold} of ${c.members.length}`, changed(c.threshold, before?.threshold))),
    h('td', { 'data-label': 'Timelock' }, h('span', {}, exactDuration(c.timelock_seconds), changed(c.timelock_seconds, before?.timelock_seconds))),
    h('td', { 'data-label': 'Guardian' }, h('span', {}, addressLink(c.guardian), changed(c.guardian, before?.guardian))));
}

function settingsSection(): HTMLElement {
  const s = settings();
  const d = defaults();
  const input = (id: string, label: string, value: string, help: string) => [
    h('label', { for: id }, label),
    h('input', { id, name: id, type: 'text', value, spellcheck: 'false', autocomplete: 'off', 'aria-describedby': `${id}-help` }),
    h('p', { id: `${id}-help`, class: 'note' }, help),
  ];
  const result = h('div', { class: 'action-result' });
  const form = h('form', { class: 'settings', id: 'settings' },
    input('temporal-ui', 'Temporal Web UI', s.temporalUI, `Workflow links go there. Default ${d.temporalUI}.`),
    input('explorer-tx', 'Transaction link', s.explorerTx, '{signature} is replaced by the transaction signature.'),
    input('explorer-address', 'Account link', s.explorerAddress, '{address} is replaced by the account address.'),
    input('wallet-chain', 'Chain passed to the wallet', s.walletChain, 'For example solana:devnet or solana:mainnet; empty passes none.'),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary' }, 'Save settings'),
      h('button', { type: 'button', id: 'settings-reset' }, 'Reset to defaults')),
    result);
  const value = (id: string) => (form.querySelector(`#${id}`) as HTMLInputElement).value.trim();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    save({ temporalUI: value('temporal-ui'), explorerTx: value('explorer-tx'), explorerAddress: value('explorer-address'), walletChain: value('wallet-chain') });
    reloadSettings();
    replace(result, successView('Saved. Links use the new settings.'));
  });
  form.querySelector('#settings-reset')!.addEventListener('click', () => {
    reset();
    reloadSettings();
    location.reload();
  });
  return h('section', { 'aria-labelledby': 'settings-title' },
    h('h2', { id: 'settings-title' }, 'Settings of this browser'),
    h('p', { class: 'note' }, 'The API server does not know where your Temporal Web UI or explorer are; these are kept in this browser only.'),
    form);
}
