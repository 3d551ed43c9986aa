// The proposals: where each one stands, at a glance, kept current.
import { getMigration, listProposals, listServed, migrationID, type Migration, type Proposal, type ServedMultisig } from '../api';
import { changeText } from '../changes';
import { h, morph } from '../dom';
import { countdown, percent, short, shortHash, statusLabel } from '../format';
import { chainNow, poll, type Page } from '../page';
import { problemView } from '../problems';

const statuses = ['active', 'approved', 'executed', 'cancelled', 'expired'];

export function listPage(status: string, multisig = ''): Page {
  let stop = () => {};
  let served: ServedMultisig[] = [];
  // Finished migrations do not change: ask once.
  const migrations = new Map<string, Migration>();
  return {
    title: 'Proposals',
    mount(root) {
      const region = h('div', { id: 'proposals-region' }, h('p', {}, 'Loading proposals…'));
      const filter = h('select', { id: 'status-filter', name: 'status' },
        h('option', { value: '' }, 'All'),
        statuses.map((s) => h('option', { value: s, selected: s === status }, statusLabel(s))));
      // One deployment serves several multisigs: each has its own proposal numbers.
      const msFilter = h('select', { id: 'multisig-filter', name: 'multisig' },
        h('option', { value: '' }, 'All multisigs'),
        multisig ? h('option', { value: multisig, selected: true }, short(multisig)) : null);
      const go = () => {
        const q = new URLSearchParams();
        if (filter.value) q.set('status', filter.value);
        if (msFilter.value) q.set('multisig', msFilter.value);
        location.hash = q.toString() ? `#/?${q}` : '#/';
      };
      filter.addEventListener('change', go);
      msFilter.addEventListener('change', go);
      void listServed().then((r) => {
        served = r.multisigs;
        morph(msFilter, h('select', { id: 'multisig-filter', name: 'multisig' },
          h('option', { value: '' }, 'All multisigs'),
          served.map((m) => h('option', { value: m.address, selected: m.address === multisig }, label(m)))));
      }).catch(() => {});
      root.append(
        h('div', { class: 'page-head' },
          h('h1', { tabindex: -1 }, 'Proposals'),
          h('a', { href: '#/new', class: 'button' }, 'New proposal')),
        h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter proposals' },
          h('label', { for: 'status-filter' }, 'Status'), filter,
          h('label', { for: 'multisig-filter' }, 'Multisig'), msFilter),
        region,
      );
      root.querySelector('form')!.addEventListener('submit', (e) => e.preventDefault());
      stop = poll(async () => {
        try {
          const list = await listProposals({ status, multisig });
          await Promise.all(list.proposals.filter(hasMigrationToShow).map(async (p) => {
            const cached = migrations.get(p.address);
            if (cached && cached.job?.status === 'completed') return;
            try {
              migrations.set(p.address, await getMigration(migrationID(p.address)));
            } catch {
              // Not started yet: the row says so.
            }
          }));
          morph(region, render(list.proposals, list.total, migrations, served));
        } catch (e) {
          morph(region, h('div', { id: 'proposals-region' }, problemView(e, 'Could not load the proposals')));
        }
      }, 3000);
    },
    unmount() {
      stop();
    },
  };
}

function hasMigrationToShow(p: Proposal): boolean {
  return p.migration_target_version !== null && p.status === 'executed';
}

function label(m: ServedMultisig): string {
  return m.label ? `${m.label} (${short(m.address)})` : short(m.address);
}

function render(proposals: Proposal[], total: number, migrations: Map<string, Migration>, served: ServedMultisig[]): HTMLElement {
  if (proposals.length === 0) {
    return h('div', { id: 'proposals-region' },
      h('p', { class: 'empty' }, 'No proposals yet. ', h('a', { href: '#/new' }, 'Propose an upgrade'), '.'));
  }
  return h('div', { id: 'proposals-region' },
    h('table', { class: 'cards' },
      h('caption', {}, `${total} proposal${total === 1 ? '' : 's'}, newest first`),
      h('thead', {}, h('tr', {},
        ['Proposal', 'Multisig', 'Status', 'Program', 'Buffer hash', 'Approvals', 'Timelock', 'Migration'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, proposals.map((p) => row(p, migrations.get(p.address), served.find((m) => m.address === p.multisig))))));
}

function row(p: Proposal, m: Migration | undefined, ms: ServedMultisig | undefined): HTMLElement {
  return h('tr', { 'data-proposal': p.address },
    h('th', { scope: 'row', 'data-label': 'Proposal' },
      h('a', { href: `#/proposals/${p.address}`, 'aria-label': `Proposal ${p.index} ${p.address}` }, `#${p.index} `, h('span', { class: 'mono' }, short(p.address))),
      p.description ? h('div', { class: 'desc' }, p.description) : null),
    h('td', { 'data-label': 'Multisig', class: 'mono', title: p.multisig },
      h('a', { href: `#/?multisig=${p.multisig}` }, ms ? label(ms) : short(p.multisig))),
    h('td', { 'data-label': 'Status', class: 'status' }, h('span', {}, h('span', { class: `badge status-${p.status}` }, statusLabel(p.status)),
      p.stale ? [' ', h('span', { class: 'badge status-stale', title: p.stale_reason ?? null }, 'stale')] : null)),
    p.kind === 'config'
      ? h('td', { 'data-label': 'Program', class: 'config-changes' }, configChanges(p))
      : h('td', { 'data-label': 'Program', class: 'mono', title: p.target_program }, short(p.target_program)),
    h('td', { 'data-label': 'Buffer hash', class: 'mono', title: p.buffer_hash || null }, p.buffer_hash ? shortHash(p.buffer_hash) : '—'),
    h('td', { 'data-label': 'Approvals', class: 'approvals' }, `${p.approval_count} / ${p.threshold}`),
    h('td', { 'data-label': 'Timelock' }, etaCell(p)),
    h('td', { 'data-label': 'Migration' }, migrationCell(p, m)));
}

// A config proposal changes the multisig itself: where an upgrade names its program, it says
// what changes (keys shortened; the proposal page has them in full).
function configChanges(p: Proposal): string {
  return `config: ${(p.actions ?? []).map((a) => changeText(a, short)).join('; ')}`;
}

function etaCell(p: Proposal): Node | string {
  if (!p.eta) return '—';
  if (p.status !== 'approved') return h('time', { datetime: p.eta }, new Date(p.eta).toLocaleString());
  return h('time', { datetime: p.eta, 'data-eta': p.eta, class: 'countdown' }, countdown(p.eta, chainNow()));
}

export function migrationCell(p: Proposal, m: Migration | undefined): Node | string {
  if (p.migration_target_version === null) return 'none';
  if (p.status !== 'executed') return `to v${p.migration_target_version}, after execution`;
  const job = m?.job;
  const total = job?.total ?? m?.state?.total ?? 0;
  const migrated = job?.migrated ?? m?.state?.migrated ?? 0;
  if (!m || total === 0) return `to v${p.migration_target_version}: starting`;
  const status = job?.status ?? m.state?.status ?? m.workflow_status ?? '';
  return h('span', { class: 'migration-cell' },
    h('progress', { max: total, value: migrated, 'aria-label': `Migration of proposal ${p.index}` }),
    ` ${migrated} / ${total} (${percent(migrated, total)} %) ${status}`);
}
