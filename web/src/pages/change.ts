// A change of the multisig itself (a config proposal): the member builds a list of changes
// (members, threshold, timelock, lifetime, grace, guardian, a program's upgrade authority), the
// API asks the program whether it accepts them and builds the transaction, the review shows the
// changes as the server read them, and the wallet signs. It then goes through the same
// approvals, timelock and execution as an upgrade.
import { getMultisig, request, type ConfigAction, type CreateProposalResponse, type Multisig, type UnsignedTx } from '../api';
import {
  changeFields, changeKinds, isProblem, parseActionField, toAction,
  type ActionField, type ChangeDraft, type ChangeKind, type PeriodUnit,
} from '../changes';
import { h, replace } from '../dom';
import { problem } from '../errors';
import { exactDuration } from '../format';
import { type Page } from '../page';
import { problemView } from '../problems';
import { lastMultisig, rememberMultisig } from '../settings';
import { run } from '../sign';
import { onWalletChange, walletState } from '../wallet';

const base58 = '^[1-9A-HJ-NP-Za-km-z]{32,44}$';
// The most changes one proposal carries (openapi.yaml, BuildProposeConfigRequest.actions).
const maxChanges = 8;

// The top-level fields the API may name, and their inputs.
const fieldInputs: Record<string, string> = { multisig: 'c-multisig', description: 'c-description' };

const fieldLabels: Record<ChangeKind, Partial<Record<ActionField, [string, string]>>> = {
  add_member: { member: ['Member to add', "The new member's public key (base58)."] },
  remove_member: { member: ['Member to remove', 'One of the current members (base58).'] },
  set_threshold: { threshold: ['New threshold', 'How many member approvals a proposal needs.'] },
  set_timelock: { seconds: ['New timelock', 'How long an approved proposal waits before it can execute: 1 hour to 90 days.'] },
  set_proposal_lifetime: { seconds: ['New proposal lifetime', 'How long a proposal may collect approvals before it expires.'] },
  set_grace: { seconds: ['New grace', 'How long after its eta an approved proposal may still execute: 1 hour to 365 days.'] },
  set_guardian: { guardian: ['New guardian', 'May cancel proposals and pause; the guardian being replaced cannot cancel this proposal.'] },
  hand_off: {
    program: ['Governed program', "The program whose upgrade authority the multisig's PDA holds (base58)."],
    new_authority: ['New upgrade authority', 'The key that upgrades the program afterwards; the multisig no longer governs it.'],
  },
  make_immutable: { program: ['Program to make immutable', "The program whose upgrade authority the multisig's PDA holds (base58)."] },
};

export function changePage(address: string): Page {
  let offWallet = () => {};
  return {
    title: 'Change the multisig',
    mount(root) {
      let next = 0; // each change's inputs get ids of their own, kept when another is removed
      let current: Multisig | undefined;
      const who = h('p', { id: 'proposer', class: 'note' });
      const now = h('p', { id: 'c-current', class: 'note' });
      const result = h('div', { id: 'action-result', class: 'action-result' });
      const members = h('datalist', { id: 'c-members' });
      const list = h('ol', { id: 'change-list', class: 'change-list' });
      const kind = h('select', { id: 'c-add-kind', name: 'add_kind' }, changeKinds.map((k) => h('option', { value: k.kind }, k.label)));
      const add = h('button', { type: 'button', id: 'c-add' }, 'Add this change');
      const multisig = h('input', {
        id: 'c-multisig', name: 'multisig', type: 'text', required: true, pattern: base58, value: address || lastMultisig(),
        autocomplete: 'off', spellcheck: 'false', class: 'mono', 'aria-describedby': 'c-multisig-help c-multisig-error',
      });
      const form = h('form', { id: 'change-multisig', novalidate: true },
        h('h1', { tabindex: -1 }, 'Change the multisig'),
        h('p', { class: 'lead' }, 'The multisig governs itself: a change of its members, threshold, periods, guardian or of a program\'s upgrade authority ' +
          'goes through the same approvals and timelock as an upgrade. The changes of one proposal apply together or not at all.'),
        who,
        h('div', { class: 'field' },
          h('label', { for: 'c-multisig' }, 'Multisig'),
          multisig,
          h('p', { id: 'c-multisig-help', class: 'note' }, 'The multisig account to change (base58).'),
          h('p', { id: 'c-multisig-error', class: 'field-error', hidden: true })),
        now,
        members,
        h('fieldset', { id: 'changes-fieldset', 'aria-describedby': 'c-changes-error' },
          h('legend', {}, 'Changes'),
          list,
          h('p', { id: 'c-changes-error', class: 'field-error', hidden: true, role: 'alert' }),
          h('div', { class: 'add-change' },
            h('label', { for: 'c-add-kind' }, 'Add a change'),
            h('div', { class: 'inline' }, kind, add))),
        h('div', { class: 'field' },
          h('label', { for: 'c-description' }, 'Description'),
          h('textarea', { id: 'c-description', name: 'description', maxlength: 256, rows: 3, 'aria-describedby': 'c-description-help c-description-error' }),
          h('p', { id: 'c-description-help', class: 'note' }, 'Why; at most 256 bytes. Stored on chain.'),
          h('p', { id: 'c-description-error', class: 'field-error', hidden: true })),
        h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'propose-change' }, 'Review and sign')),
        result);
      root.append(form);

      const updateWho = () => {
        const a = walletState().account;
        who.textContent = a ? `Proposer: ${a.address} (the connected account; it must be a member).` : 'Connect a wallet holding a member key: it proposes and signs.';
      };
      updateWho();
      offWallet = onWalletChange(updateWho);

      // What the multisig is now, so the member sees what they change (and picks a member to remove).
      const loadCurrent = async () => {
        const addr = multisig.value.trim();
        current = undefined;
        replace(members);
        if (!new RegExp(base58).test(addr)) {
          now.textContent = '';
          return;
        }
        try {
          const m = await getMultisig(addr);
          if (multisig.value.trim() !== addr) return;
          current = m;
          replace(members, m.members.map((k) => h('option', { value: k })));
          now.textContent = `Now: ${m.threshold} of ${m.members.length} members, timelock ${exactDuration(m.timelock_seconds)}, ` +
            `proposals live ${exactDuration(m.proposal_lifetime_seconds)}, grace ${exactDuration(m.grace_seconds)}, guardian ${m.guardian}.`;
        } catch (e) {
          now.textContent = `Could not read the multisig: ${problem(e).message || problem(e).title}`;
        }
      };
      multisig.addEventListener('change', () => void loadCurrent());
      void loadCurrent();

      const items = () => Array.from(list.querySelectorAll<HTMLLIElement>(':scope > li.change'));
      const renumber = () => {
        items().forEach((li, i) => {
          li.querySelector('legend .change-number')!.textContent = `Change ${i + 1}`;
        });
        add.disabled = items().length >= maxChanges;
      };
      add.addEventListener('click', () => {
        const li = changeItem(kind.value as ChangeKind, `c-${next++}`, current);
        list.append(li);
        renumber();
        li.querySelector<HTMLElement>('input, select')?.focus();
      });
      form.addEventListener('click', (ev) => {
        const b = (ev.target as Element).closest('[data-action="remove-change"]');
        if (!b) return;
        b.closest('li.change')?.remove();
        renumber();
        kind.focus();
      });

      const clearErrors = () => {
        for (const el of Array.from(form.querySelectorAll<HTMLElement>('.field-error'))) {
          el.hidden = true;
          el.textContent = '';
        }
        for (const el of Array.from(form.querySelectorAll('[aria-invalid]'))) el.removeAttribute('aria-invalid');
      };
      const showError = (errorId: string, message: string, input?: HTMLElement | null) => {
        input?.setAttribute('aria-invalid', 'true');
        const err = form.querySelector<HTMLElement>(`#${errorId}`);
        if (err) {
          err.textContent = message;
          err.hidden = false;
        }
      };
      // A field of change i (the API's actions[i].field, or the page's own check).
      const markChange = (i: number, field: string, message: string): HTMLElement | null => {
        const li = items()[i];
        if (!li) return null;
        const input = field ? li.querySelector<HTMLElement>(`[name="${field}"]`) : null;
        showError(input ? `${input.id}-error` : `${li.id}-error`, message, input);
        return input ?? li.querySelector<HTMLElement>('input, select');
      };

      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearErrors();
        // The browser's own checks first, each message next to its field; then the page's.
        const invalid: HTMLElement[] = Array.from(form.querySelectorAll<HTMLInputElement>('input, textarea')).filter((el) => !el.disabled && !el.checkValidity());
        for (const el of invalid) showError(`${el.id}-error`, (el as HTMLInputElement).validationMessage, el);
        const drafts = items().map(readDraft);
        const actions = drafts.map(toAction);
        actions.forEach((a, i) => {
          if (!isProblem(a)) return;
          const input = items()[i].querySelector<HTMLElement>(`[name="${a.field}"]`);
          if (input && invalid.includes(input)) return;
          const marked = markChange(i, a.field, a.message);
          if (marked) invalid.push(marked);
        });
        if (drafts.length === 0) showError('c-changes-error', 'Add at least one change.', kind);
        if (invalid.length || drafts.length === 0) {
          (invalid[0] ?? kind).focus();
          replace(result, h('p', { role: 'alert', class: 'problem' }, drafts.length === 0 ? 'Add at least one change.' :
            `Check ${invalid.length === 1 ? 'the marked field' : `the ${invalid.length} marked fields`}.`));
          return;
        }
        const ms = multisig.value.trim();
        const description = form.querySelector<HTMLTextAreaElement>('#c-description')!.value;
        const wanted = actions.filter((a): a is ConfigAction => !isProblem(a));
        const button = form.querySelector<HTMLButtonElement>('#propose-change')!;
        button.disabled = true;
        try {
          const res = await run({
            title: 'Propose this change of the multisig',
            expect: { actions: wanted },
            build: (proposer) => request<UnsignedTx>('POST', '/tx/propose-config', { multisig: ms, proposer, actions: wanted, description }),
            submit: (transaction) => request<CreateProposalResponse>('POST', '/proposals', { transaction, description }),
          }, (t) => replace(result, h('p', { role: 'status' }, t)));
          rememberMultisig(ms);
          location.hash = `#/proposals/${res.proposal}`;
        } catch (e) {
          const p = problem(e);
          const at = parseActionField(p.field);
          let input: HTMLElement | null | undefined;
          if (at) input = markChange(at.index, at.field === 'kind' ? '' : at.field, p.message);
          else if (p.field === 'actions') showError('c-changes-error', p.message, input = kind);
          else if (p.field && fieldInputs[p.field]) showError(`${fieldInputs[p.field]}-error`, p.message, input = form.querySelector<HTMLElement>(`#${fieldInputs[p.field]}`));
          input?.focus();
          replace(result, problemView(e, 'The change was not proposed'));
        } finally {
          button.disabled = false;
        }
      });
    },
    unmount() {
      offWallet();
    },
  };
}

// One change of the list: its inputs under the API's field names, its own error line, and a
// button to take it out.
function changeItem(kind: ChangeKind, id: string, m: Multisig | undefined): HTMLLIElement {
  const label = changeKinds.find((k) => k.kind === kind)!.label;
  const input = (field: ActionField) => {
    const [text, help] = fieldLabels[kind][field]!;
    const fid = `${id}-${field}`;
    const describedBy = `${fid}-help ${fid}-error`;
    let control: HTMLElement;
    if (field === 'threshold') {
      control = h('input', { id: fid, name: field, type: 'number', min: 1, max: 16, step: 1, required: true, inputmode: 'numeric', value: m ? String(m.threshold) : '', 'aria-describedby': describedBy });
    } else if (field === 'seconds') {
      control = h('div', { class: 'inline period' },
        h('input', { id: fid, name: field, type: 'number', min: 0, step: 'any', required: true, inputmode: 'decimal', 'aria-describedby': describedBy }),
        h('label', { for: `${fid}-unit`, class: 'visually-hidden' }, `${text}: unit`),
        h('select', { id: `${fid}-unit`, name: 'unit' }, h('option', { value: 'hours' }, 'hours'), h('option', { value: 'days' }, 'days')));
    } else {
      control = h('input', {
        id: fid, name: field, type: 'text', required: true, pattern: base58, autocomplete: 'off', spellcheck: 'false', class: 'mono',
        list: kind === 'remove_member' ? 'c-members' : null, 'aria-describedby': describedBy,
      });
    }
    const now = m ? currentValue(kind, m) : '';
    return h('div', { class: 'field' },
      h('label', { for: fid }, text),
      control,
      h('p', { id: `${fid}-help`, class: 'note' }, help, now ? ` Now: ${now}.` : ''),
      h('p', { id: `${fid}-error`, class: 'field-error', hidden: true }));
  };
  return h('li', { class: 'change', id, 'data-kind': kind },
    h('fieldset', {},
      h('legend', {}, h('span', { class: 'change-number' }, 'Change'), `: ${label}`),
      changeFields[kind].map(input),
      kind === 'make_immutable' ? [
        h('p', { class: 'warning', role: 'note' }, h('strong', {}, 'This cannot be undone. '),
          'Once executed, nobody (not the multisig, not anyone) can ever upgrade or fix this program again.'),
        h('div', { class: 'field checkbox' },
          h('input', { id: `${id}-confirm`, name: 'confirm', type: 'checkbox', 'aria-describedby': `${id}-confirm-error` }),
          h('label', { for: `${id}-confirm` }, 'I understand: the program becomes immutable for good.')),
        h('p', { id: `${id}-confirm-error`, class: 'field-error', hidden: true }),
      ] : null,
      h('p', { id: `${id}-error`, class: 'field-error', hidden: true }),
      h('button', { type: 'button', 'data-action': 'remove-change', class: 'link-button' }, 'Remove this change')));
}

function currentValue(kind: ChangeKind, m: Multisig): string {
  switch (kind) {
    case 'set_threshold': return `${m.threshold} of ${m.members.length}`;
    case 'set_timelock': return exactDuration(m.timelock_seconds);
    case 'set_proposal_lifetime': return exactDuration(m.proposal_lifetime_seconds);
    case 'set_grace': return exactDuration(m.grace_seconds);
    case 'set_guardian': return m.guardian;
    default: return '';
  }
}

function readDraft(li: HTMLLIElement): ChangeDraft {
  const kind = li.dataset.kind as ChangeKind;
  const value = (name: string) => li.querySelector<HTMLInputElement | HTMLSelectElement>(`[name="${name}"]`)?.value;
  const values: ChangeDraft['values'] = {};
  for (const f of changeFields[kind]) values[f] = value(f) ?? '';
  return {
    kind, values,
    unit: (value('unit') as PeriodUnit | undefined) ?? 'hours',
    confirmed: li.querySelector<HTMLInputElement>('[name="confirm"]')?.checked ?? false,
  };
}
