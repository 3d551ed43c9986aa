// A new proposal: the member names the multisig, the program and the buffer (already written
// and handed to the multisig's authority PDA); the API reads the buffer's hash from the chain,
// the page shows it for the member to compare with `solana-verify get-buffer-hash`, and the
// wallet signs.
import { request, type CreateProposalResponse, type UnsignedTx } from '../api';
import { h, replace } from '../dom';
import { problem } from '../errors';
import { type Page } from '../page';
import { problemView } from '../problems';
import { lastMultisig, rememberMultisig } from '../settings';
import { run } from '../sign';
import { onWalletChange, walletState } from '../wallet';

const base58 = '^[1-9A-HJ-NP-Za-km-z]{32,44}$';

// The API's field names (errors name them) and the inputs that hold them.
const fieldInputs: Record<string, string> = {
  multisig: 'p-multisig',
  target_program: 'p-program',
  buffer: 'p-buffer',
  description: 'p-description',
  'migration.target_version': 'p-target-version',
  'migration.instruction_data': 'p-instruction-data',
  'migration.from_version': 'p-from-version',
  'migration.data_size': 'p-data-size',
  'migration.version_offset': 'p-version-offset',
};

export function newProposalPage(): Page {
  let offWallet = () => {};
  return {
    title: 'New proposal',
    mount(root) {
      const text = (id: string, name: string, label: string, help: string, attrs: Record<string, string | number | boolean> = {}) =>
        h('div', { class: 'field' },
          h('label', { for: id }, label),
          h('input', { id, name, type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `${id}-help ${id}-error`, ...attrs }),
          h('p', { id: `${id}-help`, class: 'note' }, help),
          h('p', { id: `${id}-error`, class: 'field-error', hidden: true }));
      const num = (id: string, name: string, label: string, help: string, min: number, max: number, value: string) =>
        text(id, name, label, help, { type: 'number', min, max, value, inputmode: 'numeric' });
      const who = h('p', { id: 'proposer', class: 'note' });
      const result = h('div', { id: 'action-result', class: 'action-result' });
      const migrate = h('input', { id: 'p-migrate', name: 'migrate', type: 'checkbox' });
      const migration = h('fieldset', { id: 'migration-fields', disabled: true },
        h('legend', {}, 'Migration plan'),
        num('p-target-version', 'target_version', 'Target layout version', 'The version accounts have after the migration (1-255).', 1, 255, '2'),
        num('p-from-version', 'from_version', 'Accounts at layout version', 'Accounts whose version byte holds this value are migrated.', 0, 255, '1'),
        num('p-data-size', 'data_size', 'Account size in bytes', '0 means accounts of any size.', 0, 10485760, '0'),
        num('p-version-offset', 'version_offset', 'Offset of the version byte', 'Where the version byte sits in the account data.', 0, 10485759, '0'),
        text('p-instruction-data', 'instruction_data', "Data of the program's migrate instruction (base64)",
          'Sent to the governed program with every migrated account; at most 64 bytes.', { class: 'mono' }));
      const form = h('form', { id: 'new-proposal', novalidate: true },
        h('h1', { tabindex: -1 }, 'New proposal'),
        h('p', { class: 'lead' }, 'Write the new ELF to a buffer (', h('code', {}, 'solana program write-buffer'),
          ') and hand the buffer to the multisig\'s authority PDA (', h('code', {}, 'solana program set-buffer-authority'), ') first.'),
        who,
        text('p-multisig', 'multisig', 'Multisig', 'The multisig account that governs the program (base58).', { required: true, pattern: base58, value: lastMultisig(), class: 'mono' }),
        text('p-program', 'target_program', 'Program to upgrade', 'The governed program\'s address (base58).', { required: true, pattern: base58, class: 'mono' }),
        text('p-buffer', 'buffer', 'Buffer with the new ELF', 'Its hash is read from the chain and shown before you sign.', { required: true, pattern: base58, class: 'mono' }),
        h('div', { class: 'field' },
          h('label', { for: 'p-description' }, 'Description'),
          h('textarea', { id: 'p-description', name: 'description', maxlength: 256, rows: 3, 'aria-describedby': 'p-description-help p-description-error' }),
          h('p', { id: 'p-description-help', class: 'note' }, 'What changes and why; at most 256 bytes. Stored on chain.'),
          h('p', { id: 'p-description-error', class: 'field-error', hidden: true })),
        h('div', { class: 'field checkbox' }, migrate, h('label', { for: 'p-migrate' }, 'The new version changes account layouts: migrate accounts after execution')),
        migration,
        h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'propose' }, 'Review and sign')),
        result);
      migrate.addEventListener('change', () => {
        migration.disabled = !migrate.checked;
      });
      root.append(form);
      const updateWho = () => {
        const a = walletState().account;
        who.textContent = a ? `Proposer: ${a.address} (the connected account; it must be a member).` : 'Connect a wallet holding a member key: it proposes and signs.';
      };
      updateWho();
      offWallet = onWalletChange(updateWho);
      const input = (id: string) => form.querySelector<HTMLInputElement | HTMLTextAreaElement>(`#${id}`)!;
      const clearErrors = () => {
        for (const el of Array.from(form.querySelectorAll<HTMLElement>('.field-error'))) {
          el.hidden = true;
          el.textContent = '';
        }
        for (const el of Array.from(form.querySelectorAll('[aria-invalid]'))) el.removeAttribute('aria-invalid');
      };
      const markField = (id: string, message: string) => {
        const el = input(id);
        el.setAttribute('aria-invalid', 'true');
        const err = form.querySelector<HTMLElement>(`#${id}-error`)!;
        err.textContent = message;
        err.hidden = false;
      };
      form.addEventListener('submit', async (ev) => {
        ev.preventDefault();
        clearErrors();
        // The browser's own checks first, each message next to its field.
        const invalid = Array.from(form.querySelectorAll<HTMLInputElement>('input, textarea')).filter((el) => !el.disabled && !el.checkValidity());
        if (invalid.length) {
          for (const el of invalid) markField(el.id, el.validationMessage);
          invalid[0].focus();
          replace(result, h('p', { role: 'alert', class: 'problem' }, `Check ${invalid.length === 1 ? 'the marked field' : `the ${invalid.length} marked fields`}.`));
          return;
        }
        const multisig = input('p-multisig').value.trim();
        const program = input('p-program').value.trim();
        const buffer = input('p-buffer').value.trim();
        const description = input('p-description').value;
        const num = (id: string) => Number(input(id).value);
        const build: Record<string, unknown> = { multisig, target_program: program, buffer, description };
        const body: Record<string, unknown> = { description };
        const extra: [string, string][] = [];
        if (migrate.checked) {
          // The whole plan is signed with the proposal: which accounts migrate, and how.
          build.migration = {
            target_version: num('p-target-version'), instruction_data: input('p-instruction-data').value.trim(),
            from_version: num('p-from-version'), data_size: num('p-data-size'), version_offset: num('p-version-offset'),
          };
          extra.push(['Migrates accounts', `at version ${num('p-from-version')} (version byte at offset ${num('p-version-offset')}, ${num('p-data-size') || 'any'} bytes)`]);
        }
        const button = form.querySelector<HTMLButtonElement>('#propose')!;
        button.disabled = true;
        try {
          const res = await run({
            title: 'Propose this upgrade',
            expect: { program, buffer },
            extra,
            build: (proposer) => request<UnsignedTx>('POST', '/tx/propose', { ...build, proposer }),
            submit: (transaction) => request<CreateProposalResponse>('POST', '/proposals', { ...body, transaction }),
          }, (t) => replace(result, h('p', { role: 'status' }, t)));
          rememberMultisig(multisig);
          location.hash = `#/proposals/${res.proposal}`;
        } catch (e) {
          const p = problem(e);
          const target = p.field ? fieldInputs[p.field] : undefined;
          if (target) {
            markField(target, p.message);
            input(target).focus();
          }
          replace(result, problemView(e, 'The proposal was not made'));
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
