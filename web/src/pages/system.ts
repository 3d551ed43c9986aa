// The system's state, from the chain: paused or not, members, guardian, threshold, timelock.
// Also where the browser's settings live (links to the Temporal Web UI and the explorer).
import { getMultisig, listProposals, type Multisig } from '../api';
import { reloadSettings, settings } from '../app';
import { h, morph, replace } from '../dom';
import { exactDuration } from '../format';
import { addressLink } from '../links';
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
        h('span', { class: 'stat-value' }, String(m.proposal_index)))),
    h('section', { 'aria-labelledby': 'members-title' },
      h('h2', { id: 'members-title' }, `Members (${m.members.length})`),
      h('ul', { class: 'members', id: 'members' }, m.members.map((k) => h('li', {},
        addressLink(k, true), k === me ? h('span', { class: 'tag' }, ' your connected account') : null)))),
    h('section', { 'aria-labelledby': 'accounts-title' },
      h('h2', { id: 'accounts-title' }, 'Accounts'),
      h('dl', { class: 'fields' },
        h('dt', {}, 'Multisig'), h('dd', {}, addressLink(address, true)),
        h('dt', {}, 'Guardian (may cancel and pause)'), h('dd', { id: 'guardian' }, addressLink(m.guardian, true), m.guardian === me ? ' (your connected account)' : ''),
        h('dt', {}, 'Upgrade authority (PDA)'), h('dd', {}, addressLink(m.authority, true)),
        h('dt', {}, 'Proposals'), h('dd', {}, h('a', { href: '#/' }, 'All proposals')))));
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
