// One proposal: every field (a config proposal's changes in words), where its workflow stands,
// its migration, its audit trail, and the member's actions (approve, ask to execute, cancel),
// each signed in the wallet.
import {
  getMigration, getMultisig, getProposal, listAudit, migrationID, request,
  type ApproveResponse, type AuditEntry, type CancelResponse, type ConfigAction, type Migration, type Multisig, type Proposal, type ProposalDetail,
} from '../api';
import { config } from '../app';
import { consequences, describeChange } from '../changes';
import { announce, h, morph, replace } from '../dom';
import { countdown, percent, statusLabel, time } from '../format';
import { addressLink, txLink, workflowLink } from '../links';
import { chainNow, poll, type Page } from '../page';
import { problemView, successView } from '../problems';
import { run } from '../sign';
import { onWalletChange, walletState } from '../wallet';

interface Loaded {
  detail?: ProposalDetail;
  multisig?: Multisig;
  migration?: Migration;
  /** The newest entries of the audit trail, refreshed by polling; the reader may ask for more. */
  audit?: AuditEntry[];
  auditLimit: number;
  /** Where older entries start (the API's keyset cursor); null when there are none. */
  auditNext: number | null;
  namespace: string;
  error?: unknown;
}

export function proposalPage(address: string): Page {
  let stop = () => {};
  let offWallet = () => {};
  const data: Loaded = { namespace: 'default', auditLimit: 100, auditNext: null };
  let lastStatus = '';
  let busy = false;
  return {
    title: `Proposal ${address}`,
    mount(root) {
      const head = h('div', { id: 'proposal-head' }, h('h1', { tabindex: -1 }, 'Proposal'), h('p', {}, 'Loading…'));
      const body = h('div', { id: 'proposal-body' });
      const actions = actionsSection(address);
      root.append(head, actions.el, body);
      const refresh = async () => {
        try {
          const cfg = await config();
          data.namespace = cfg.temporal_namespace;
          data.detail = await getProposal(address);
          const p = data.detail.proposal;
          const [ms, audit, migration] = await Promise.all([
            p.multisig ? getMultisig(p.multisig).catch(() => undefined) : Promise.resolve(undefined),
            listAudit(address, data.auditLimit).then((a) => {
              data.auditNext = a.next;
              return a.entries;
            }).catch(() => data.audit),
            wantsMigration(data.detail) ? getMigration(migrationID(address)).catch(() => undefined) : Promise.resolve(undefined),
          ]);
          data.multisig = ms;
          data.audit = audit;
          data.migration = migration;
          data.error = undefined;
          const status = p.status;
          if (lastStatus && status !== lastStatus) announce(`The proposal is now ${statusLabel(status).toLowerCase()}.`);
          lastStatus = status;
        } catch (e) {
          data.error = e;
        }
        morph(head, renderHead(address, data));
        morph(body, renderBody(data));
        actions.update(data, busy);
      };
      actions.onAction = async (fn) => {
        busy = true;
        actions.update(data, busy);
        try {
          await fn();
        } finally {
          busy = false;
          await refresh();
        }
      };
      body.addEventListener('click', (ev) => {
        const b = (ev.target as Element).closest('[data-action="older-audit"]') as HTMLButtonElement | null;
        if (!b) return;
        b.disabled = true;
        data.auditLimit = Math.min(maxAuditLimit, data.auditLimit * 4);
        void refresh();
      });
      // Faster while accounts migrate, so the progress moves as it happens.
      stop = poll(refresh, () => (migrating(data) ? 1000 : 2500));
      offWallet = onWalletChange(() => actions.update(data, busy));
    },
    unmount() {
      stop();
      offWallet();
    },
  };
}

function migrating(d: Loaded): boolean {
  const status = d.migration?.job?.status ?? d.migration?.state?.status ?? d.migration?.workflow_status;
  return d.detail?.workflow?.state?.step === 'migrating' || (status !== undefined && status !== 'completed' && status !== 'failed' && status !== 'cancelled');
}

function wantsMigration(d: ProposalDetail): boolean {
  return d.proposal.migration_target_version !== null &&
    (d.proposal.status === 'executed' || d.workflow?.state?.step === 'migrating' || !!d.workflow?.state?.migration_workflow_id);
}

function renderHead(address: string, d: Loaded): HTMLElement {
  const p = d.detail?.proposal;
  if (!p) {
    return h('div', { id: 'proposal-head' },
      h('h1', { tabindex: -1 }, 'Proposal'),
      h('p', { class: 'mono' }, address),
      d.error ? problemView(d.error, 'Could not load the proposal') : h('p', {}, 'Loading…'));
  }
  const st = d.detail?.workflow?.state;
  // The API's word (open proposals only): the workflow's own flag also holds for a proposal
  // that executed before the change, or the change itself.
  const stale = !!p.stale;
  return h('div', { id: 'proposal-head' },
    h('h1', { tabindex: -1 }, p.index ? `Proposal #${p.index}` : 'Proposal', ' ',
      h('span', { class: `badge status-${p.status}`, id: 'proposal-status' }, statusLabel(p.status)),
      stale ? [' ', h('span', { class: 'badge status-stale', id: 'proposal-stale' }, 'Stale')] : null),
    h('p', { class: 'mono address' }, address),
    p.kind === 'config' ? h('p', { class: 'kind' }, 'A change of the multisig itself') : null,
    p.description ? h('p', { class: 'lead' }, p.description) : null,
    stale ? h('div', { class: 'banner stale', id: 'stale-reason', role: 'note' },
      h('p', {}, h('strong', {}, 'Stale: no further approvals or execution. '), p.stale_reason ?? 'a config change of the members or threshold executed after this proposal was created.'),
      h('p', {}, 'It can still be cancelled, to close it.')) : null,
    d.detail?.paused ? h('p', { class: 'banner paused', role: 'note' }, 'The multisig is paused: nothing executes or migrates until the members resume it.') : null,
    d.error ? problemView(d.error, 'Could not refresh (showing the last answer)') : null,
    h('div', { class: 'summary-grid' },
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Approvals'),
        h('span', { class: 'stat-value', id: 'approval-count' }, `${p.approval_count} of ${p.threshold || '?'}`),
        h('progress', { max: p.threshold || 1, value: Math.min(p.approval_count, p.threshold || 1), 'aria-label': 'Approvals toward the threshold' })),
      timelockStat(p),
      h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, 'Workflow step'),
        h('span', { class: 'stat-value', id: 'workflow-step' }, st?.step ?? d.detail?.workflow?.status ?? '—'),
        st?.last_error ? h('span', { class: 'stat-note error-text' }, st.last_error) : null)),
    // What a config proposal changes comes before the actions: it is what a member approves.
    p.kind === 'config' ? changesSection(p.actions ?? [], p.status, !!stale) : null);
}

// timelockStat says where the timelock stands; a proposal that ended says how it ended, not a
// timelock end that never came.
function timelockStat(p: Proposal): HTMLElement {
  const stat = (label: string, ...value: (Node | string | null)[]) =>
    h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), ...value);
  const at = (iso: string | null, note = '') => [h('span', { class: 'stat-value' }, h('time', { datetime: iso ?? '' }, time(iso))),
    note ? h('span', { class: 'stat-note' }, note) : null];
  switch (p.status) {
    case 'approved':
      return p.eta
        ? stat('Executable', h('span', { class: 'stat-value' }, h('time', { id: 'eta-countdown', datetime: p.eta, 'data-eta': p.eta }, countdown(p.eta, chainNow()))),
          h('span', { class: 'stat-note' }, 'at ', time(p.eta), ' by the chain clock', p.execute_by ? `; expires unexecuted after ${time(p.execute_by)}` : ''))
        : stat('Executable', h('span', { class: 'stat-value' }, 'after the timelock'));
    case 'executed':
      return stat('Executed', ...at(p.executed_at));
    case 'cancelled':
      return stat('Cancelled', ...at(p.closed_at, p.eta ? 'before its timelock ended' : 'before approval'));
    case 'expired':
      return stat('Expired', ...at(p.expires_at, 'before it reached the threshold'));
    default:
      return stat('Timelock', h('span', { class: 'stat-value' }, 'starts at the threshold'));
  }
}

function renderBody(d: Loaded): HTMLElement {
  const detail = d.detail;
  if (!detail) return h('div', { id: 'proposal-body' });
  const p = detail.proposal;
  const wf = detail.workflow;
  const st = wf?.state;
  const idx = detail.indexed;
  const members = d.multisig?.members ?? [];
  const config = p.kind === 'config';
  return h('div', { id: 'proposal-body' },
    p.migration_target_version !== null ? migrationSection(p.status, p.migration_target_version, d.migration, d.namespace) : null,
    h('section', { 'aria-labelledby': 'approvals-title' },
      h('h2', { id: 'approvals-title' }, 'Approvals'),
      members.length
        ? h('ul', { class: 'members' }, members.map((m) => h('li', {},
          h('span', { class: p.approvals.includes(m) ? 'yes' : 'no', 'aria-hidden': 'true' }, p.approvals.includes(m) ? '✔' : '○'), ' ',
          addressLink(m, true), ' ', p.approvals.includes(m) ? h('span', { class: 'tag' }, 'approved') : h('span', { class: 'tag muted' }, 'not yet'))))
        : h('p', {}, `${p.approval_count} approval(s).`),
      detail.approval_history.length
        ? h('table', { class: 'cards', id: 'approval-history' },
          h('caption', {}, 'Recorded approval transactions'),
          h('thead', {}, h('tr', {}, ['Member', 'When', 'Slot', 'Transaction'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, detail.approval_history.map((a) => h('tr', {},
            h('td', { 'data-label': 'Member' }, addressLink(a.member)),
            h('td', { 'data-label': 'When' }, time(a.approved_at)),
            h('td', { 'data-label': 'Slot' }, a.slot ? String(a.slot) : '—'),
            h('td', { 'data-label': 'Transaction' }, txLink(a.signature))))))
        : null),
    h('section', { 'aria-labelledby': 'fields-title' },
      h('h2', { id: 'fields-title' }, 'Every field'),
      h('p', { class: 'note' }, `Read from ${detail.source === 'chain' ? 'the chain (the source of truth)' : detail.source === 'index' ? 'the index (the chain no longer has the account)' : 'its workflow (not on chain yet)'}.`),
      h('dl', { class: 'fields', id: 'proposal-fields' },
        field('Address', addressLink(p.address, true)),
        field('Multisig', h('span', {}, addressLink(p.multisig, true), ' ', h('a', { href: `#/system/${p.multisig}` }, 'state'))),
        field('Index', String(p.index)),
        field('Status', statusLabel(p.status) + (p.stale ? ', stale' : '')),
        field('Kind', config ? 'change of the multisig (config)' : 'upgrade of a program'),
        config ? null : [
          field('Target program', addressLink(p.target_program, true)),
          field('Buffer', addressLink(p.buffer, true)),
          field('Buffer hash', h('code', { class: 'hash', id: 'buffer-hash' }, p.buffer_hash || '—')),
        ],
        field('Proposer', addressLink(p.proposer, true)),
        field('Description', p.description || '—'),
        field('Approvals', `${p.approval_count} of ${p.threshold}`),
        config ? null : field('Migration', migrationPlan(p)),
        field('Created', time(p.created_at)),
        field('Approved', time(p.approved_at)),
        field('ETA', time(p.eta)),
        field('Expires', time(p.expires_at)),
        p.execute_by ? field('Execute by', time(p.execute_by)) : null,
        field('Executed', time(p.executed_at)),
        field('Closed', time(p.closed_at)),
      )),
    h('section', { 'aria-labelledby': 'workflow-title' },
      h('h2', { id: 'workflow-title' }, 'Workflow and transactions'),
      h('dl', { class: 'fields', id: 'workflow-fields' },
        field('Workflow (Temporal Web UI)', wf ? workflowLink(d.namespace, wf.id) : 'none yet'),
        field('Workflow status', wf ? wf.status : '—'),
        field('Step', st?.step ?? '—'),
        st?.paused ? field('Paused', 'yes') : null,
        st?.last_error ? field('Last error', h('span', { class: 'error-text' }, st.last_error)) : null,
        wf?.query_error ? field('Live status', h('span', { class: 'error-text' }, wf.query_error)) : null,
        field('Propose transaction', txLink(idx?.propose_signature || st?.propose_signature, true)),
        field('Execute transaction', txLink(idx?.execute_signature || st?.execute_signature, true)),
        st?.cancel_signature ? field('Cancel transaction', txLink(st.cancel_signature, true)) : null,
        st?.migration_workflow_id ? field('Migration workflow', workflowLink(d.namespace, st.migration_workflow_id)) : null,
      )),
    auditSection(d));
}

// What a config proposal changes, each change in words with its keys linked; what cannot be
// undone is said beside it.
function changesSection(actions: ConfigAction[], status: string, stale: boolean): HTMLElement {
  // What executing it would do, while it still may execute.
  const open = !stale && (status === 'pending' || status === 'active' || status === 'approved');
  const notes = consequences(actions);
  return h('section', { 'aria-labelledby': 'changes-title', id: 'changes' },
    h('h2', { id: 'changes-title' }, actions.length === 1 ? 'Change' : `Changes (${actions.length}, applied together or not at all)`),
    h('ol', { class: 'changes', id: 'change-list' }, actions.map((a) => {
      const w = describeChange(a);
      return h('li', { 'data-kind': a.kind, title: a.summary ?? null },
        h('span', { class: 'change-text' }, w.parts.map((part) => (typeof part === 'string' ? part : addressLink(part.key, true)))),
        w.explain ? h('span', { class: 'change-explain' }, `: ${w.explain}`) : null,
        w.warning ? h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'Warning: '), w.warning) : null);
    })),
    open && notes.length ? h('ul', { class: 'notes' }, notes.map((n) => h('li', { class: 'note' }, n))) : null);
}

function field(label: string, value: Node | string): Node[] {
  return [h('dt', {}, label), h('dd', {}, value)];
}

function migrationSection(status: string, version: number, m: Migration | undefined, namespace: string): HTMLElement {
  const job = m?.job;
  const live = m?.state;
  const total = job?.total ?? live?.total ?? 0;
  const migrated = job?.migrated ?? live?.migrated ?? 0;
  const failed = job?.failed ?? live?.failed ?? 0;
  // The job table says running while the workflow waits out a pause: the workflow knows it is held.
  const state = live?.status === 'paused' ? 'paused, waiting for the members to resume' : job?.status ?? live?.status ?? m?.workflow_status ?? '';
  let text: string;
  if (status !== 'executed' && !m) text = `Declared: accounts move to layout version ${version} after execution.`;
  else if (!m || total === 0) text = 'Listing the accounts to migrate…';
  else text = `Migrated ${migrated} of ${total} accounts (${percent(migrated, total)} %)${failed ? `, ${failed} failed` : ''}: ${state}.`;
  return h('section', { 'aria-labelledby': 'migration-title', id: 'migration' },
    h('h2', { id: 'migration-title' }, `Migration to layout v${version}`),
    total > 0 ? h('progress', { max: total, value: migrated, 'aria-labelledby': 'migration-title' }) : null,
    h('p', { id: 'migration-text' }, text),
    m ? h('dl', { class: 'fields' },
      field('Job', workflowLink(namespace, m.id)),
      live && live.rate_per_sec > 0 ? field('Rate', `${live.rate_per_sec.toFixed(1)} accounts/s, ${live.transactions} transactions`) : null,
      live?.last_error ? field('Last error', h('span', { class: 'error-text' }, live.last_error)) : null,
      job?.stopped_at ? field('Stopped at', job.stopped_at) : null) : null);
}

// The API returns at most this many entries at once.
const maxAuditLimit = 1000;

function auditSection(d: Loaded): HTMLElement {
  const entries = d.audit;
  const more = d.auditNext !== null;
  return h('section', { 'aria-labelledby': 'audit-title' },
    h('h2', { id: 'audit-title' }, 'Audit trail'),
    !entries ? h('p', {}, 'Loading…') : entries.length === 0 ? h('p', {}, 'Nothing recorded yet.') :
      h('table', { class: 'cards', id: 'audit' },
        h('caption', {}, `${more ? 'The newest ' : ''}${entries.length} entries, newest recorded first; repeated actions are grouped. ` +
          '"Recorded" is when the row was written; "happened" is the chain\'s clock for what the chain did.'),
        h('thead', {}, h('tr', {}, ['Recorded', 'Happened', 'Action', 'Actor', 'Source', 'Transaction', 'Details'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', {}, runs(entries).map((run) => run.length === 1 ? auditRow(run[0]) : runRow(run)))),
    more && d.auditLimit < maxAuditLimit
      ? h('button', { type: 'button', 'data-action': 'older-audit', id: 'older-audit' }, 'Show older entries')
      : more ? h('p', { class: 'note' }, 'Older entries: ', h('code', {}, `GET /audit?proposal=…&before=${d.auditNext}`)) : null);
}

// A migration writes a row per batch from the worker and per transaction from the indexer,
// interleaved: three or more rows of one action by one actor from one source are one row, at
// the place of the newest, each listed on demand.
function runs(entries: AuditEntry[]): AuditEntry[][] {
  const key = (e: AuditEntry) => `${e.action}\u0000${e.source}\u0000${e.actor}`;
  const groups = new Map<string, AuditEntry[]>();
  for (const e of entries) {
    const g = groups.get(key(e));
    if (g) g.push(e);
    else groups.set(key(e), [e]);
  }
  const out: AuditEntry[][] = [];
  for (const e of entries) {
    const g = groups.get(key(e))!;
    if (g.length < 3) out.push([e]);
    else if (g[0] === e) out.push(g);
  }
  return out;
}

function auditRow(e: AuditEntry): HTMLElement {
  return h('tr', { 'data-action-name': e.action },
    h('td', { 'data-label': 'Recorded', class: 'nowrap' }, time(e.recorded_at)),
    h('td', { 'data-label': 'Happened', class: 'nowrap' }, happened(e)),
    h('td', { 'data-label': 'Action' }, h('code', { class: 'nowrap' }, e.action)),
    h('td', { 'data-label': 'Actor', title: e.actor }, actor(e.actor)),
    h('td', { 'data-label': 'Source' }, e.source),
    h('td', { 'data-label': 'Transaction' }, txLink(e.signature)),
    h('td', { 'data-label': 'Details', class: 'details' }, details(e)));
}

function runRow(run: AuditEntry[]): HTMLElement {
  const e = run[0];
  const newest = run[0].recorded_at;
  const oldest = run[run.length - 1].recorded_at;
  return h('tr', { 'data-action-name': e.action, 'data-run': run.length },
    h('td', { 'data-label': 'Recorded' }, h('span', {}, time(oldest), newest !== oldest ? [' to ', time(newest)] : null)),
    h('td', { 'data-label': 'Happened' }, happened(run[run.length - 1])),
    h('td', { 'data-label': 'Action' }, h('span', {}, h('code', { class: 'nowrap' }, e.action), ` × ${run.length}`)),
    h('td', { 'data-label': 'Actor', title: e.actor }, actor(e.actor)),
    h('td', { 'data-label': 'Source' }, e.source),
    h('td', { 'data-label': 'Transaction' }, `${run.filter((x) => x.signature).length} transactions`),
    h('td', { 'data-label': 'Details', class: 'details' },
      h('details', { id: `audit-run-${e.id}` },
        h('summary', {}, `${run.length} rows`),
        h('ul', { class: 'run' }, run.map((x) => h('li', {}, time(x.at), ' ', txLink(x.signature), ' ', summaryLine(x)))))));
}

// happened is when the action happened, saying whose clock that is.
function happened(e: AuditEntry): string {
  return e.at_clock === 'chain' ? `${time(e.at)} (chain clock)` : time(e.at);
}

// An actor is a member's address, or a name (worker, indexer, a token's name).
function actor(a: string): Node | string {
  return a.length > 20 ? addressLink(a) : a;
}

function summaryLine(e: AuditEntry): string {
  return Object.entries(e.details).filter(([k]) => k !== 'request_id' && k !== 'accounts' && k !== 'event')
    .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ');
}

// Details can be large (an indexed event carries every field): a line to scan, the rest on demand.
function details(e: AuditEntry): Node | string {
  const entries = Object.entries(e.details).filter(([k]) => k !== 'request_id');
  if (entries.length === 0) return '—';
  const line = entries.map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`).join('; ');
  if (line.length <= 90) return line;
  return h('details', { id: `audit-details-${e.id}` },
    h('summary', {}, entries.map(([k]) => k).join(', ')),
    h('pre', {}, JSON.stringify(Object.fromEntries(entries), null, 1)));
}

// The actions are rendered once (their input keeps what the member typed) and only enabled,
// disabled and annotated as the proposal changes.
function actionsSection(address: string) {
  const result = h('div', { id: 'action-result', class: 'action-result' });
  const approve = h('button', { type: 'button', id: 'approve', class: 'primary' }, 'Approve');
  const execute = h('button', { type: 'button', id: 'execute' }, 'Ask to execute');
  const cancel = h('button', { type: 'button', id: 'cancel', class: 'danger' }, 'Cancel proposal');
  const reason = h('input', { id: 'cancel-reason', name: 'reason', type: 'text', maxlength: 512, autocomplete: 'off' });
  const who = h('p', { id: 'action-who', class: 'note' });
  const el = h('section', { class: 'actions', 'aria-labelledby': 'actions-title' },
    h('h2', { id: 'actions-title' }, 'Act on this proposal'),
    who,
    h('div', { class: 'buttons' }, approve, execute),
    h('div', { class: 'cancel-row' },
      h('label', { for: 'cancel-reason' }, 'Reason for cancelling (optional, goes into the audit trail)'),
      h('div', { class: 'inline' }, reason, cancel)),
    result);
  // What the proposal changes: an upgrade, or the multisig itself (words in the review and results).
  let config = false;
  const self = {
    el,
    onAction: async (_fn: () => Promise<void>) => {},
    update(d: Loaded, busy: boolean) {
      const p = d.detail?.proposal;
      config = p?.kind === 'config';
      const { account, wallet } = walletState();
      const status = p?.status ?? '';
      const ms = d.multisig;
      const me = account?.address;
      const isMember = !!me && !!ms?.members.includes(me);
      const isGuardian = !!me && ms?.guardian === me;
      // The server says what is open now (internal/lifecycle): the page does not work it out.
      const allowed = (a: string) => p?.allowed_actions?.find((x) => x.action === a);
      const cancelBy = allowed('cancel')?.by ?? [];
      // A proposal replacing the guardian: the server offers its cancel to members only.
      const guardianBarred = isGuardian && !isMember && !cancelBy.includes('guardian');
      approve.disabled = busy || !allowed('approve');
      execute.disabled = busy || !allowed('execute');
      cancel.disabled = busy || !allowed('cancel') || guardianBarred;
      let text: string;
      if (!wallet || !me) text = 'Connect a wallet holding a member key to act. Your wallet signs; the server never sees your key.';
      else if (ms && !isMember && !isGuardian) text = `The connected account ${me} is not a member or the guardian of this multisig; the server will refuse its signature.`;
      else {
        text = `Signing as ${me}${isGuardian ? ' (guardian: may cancel, not approve)' : ''}.`;
        if (p?.approvals.includes(me)) text += ' This account has approved already.';
      }
      if (status === 'pending') text += ' Waiting for the proposal to land on chain.';
      if (p?.stale) text += ' The proposal is stale: it can no longer be approved or executed, only cancelled.';
      if (cancelBy.length && !cancelBy.includes('guardian')) {
        text += guardianBarred
          ? ' It replaces the guardian: the guardian cannot cancel it.'
          : ' It replaces the guardian: only members can cancel it (by a threshold of cancel votes).';
      }
      if (status === 'executed' || status === 'cancelled' || status === 'expired') text += ` The proposal is ${status}: nothing is left to sign.`;
      const executeNote = allowed('execute')?.note;
      if (executeNote) text += ` Execution: ${executeNote}; asking early only makes the worker check the chain now.`;
      if (who.textContent !== text) who.textContent = text;
    },
  };
  const act = (name: string, fn: () => Promise<string>) => () =>
    self.onAction(async () => {
      replace(result, h('p', { role: 'status' }, `${name}…`));
      try {
        const done = await fn();
        replace(result, successView(done));
        announce(done);
      } catch (e) {
        replace(result, problemView(e, `${name} failed`));
      }
    });
  const progress = (t: string) => replace(result, h('p', { role: 'status' }, t));
  approve.addEventListener('click', act('Approve', async () => {
    const res = await run({
      title: config ? 'Approve this change of the multisig' : 'Approve this proposal',
      expect: { proposal: address },
      build: (member) => request('POST', '/tx/approve', { proposal: address, member }),
      submit: (transaction) => request<ApproveResponse>('POST', `/proposals/${address}/approve`, { transaction }),
    }, progress);
    return `Approved: ${res.approvals} of ${res.threshold}, status ${statusLabel(res.status).toLowerCase()}.`;
  }));
  execute.addEventListener('click', act('Ask to execute', async () => {
    await run({
      title: config ? 'Ask the worker to execute this change of the multisig' : 'Ask the worker to execute this upgrade',
      expect: { proposal: address },
      build: (member) => request('POST', '/tx/execute', { proposal: address, member }),
      submit: (transaction) => request('POST', `/proposals/${address}/execute`, { transaction }),
    }, progress);
    return config
      ? 'Asked: the worker executes the change once the timelock has passed on chain.'
      : 'Asked: the worker re-checks the buffer and executes once the timelock has passed on chain.';
  }));
  cancel.addEventListener('click', act('Cancel', async () => {
    const why = reason.value.trim();
    const res = await run({
      title: 'Cancel this proposal',
      expect: { proposal: address },
      extra: why ? [['Reason (audit trail)', why]] : [],
      build: (member) => request('POST', '/tx/cancel', { proposal: address, member }),
      submit: (transaction) => request<CancelResponse>('POST', `/proposals/${address}/cancel`, why ? { transaction, reason: why } : { transaction }),
    }, progress);
    reason.value = '';
    // A member's cancel is a vote: threshold votes cancel; the guardian cancels alone.
    return res.status === 'cancel_voted'
      ? `Your vote to cancel is on chain: ${res.votes} of ${res.threshold} members; it is cancelled at ${res.threshold}.`
      : 'Cancelled on chain.';
  }));
  return self;
}

// The signed plan, when the chain has it: which accounts migrate and what the migrate
// instruction receives.
function migrationPlan(p: Proposal): string {
  if (p.migration_target_version === null) return 'none';
  const m = p.migration;
  if (!m) return `to layout version ${p.migration_target_version}`;
  const plan = `accounts at layout version ${m.from_version} (version byte at offset ${m.version_offset}, ` +
    `${m.data_size ? m.data_size + ' bytes' : 'any size'}) to version ${m.target_version}; instruction data ${m.instruction_data || 'empty'}`;
  return p.migration_superseded_by ? `${plan}. Superseded: proposal ${p.migration_superseded_by} upgraded the program since, so this plan can no longer run` : plan;
}
