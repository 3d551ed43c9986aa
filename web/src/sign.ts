// A governance action from the page: the API builds the unsigned transaction, the page checks
// its bytes and shows what it does, the member confirms, the wallet signs, the page checks the
// signed bytes and posts them to the governance route. The server never sees a key.
import type { ConfigAction, TxSummary, UnsignedTx } from './api';
import { config, settings } from './app';
import { actionKeys, changeText, consequences, describeChange, sameAction } from './changes';
import { h, replace } from './dom';
import { PageError } from './errors';
import { checkSigned, checkUnsigned, contains, fromBase58, toBase64, WireError, type CheckedUnsigned } from './txwire';
import { sign, walletState } from './wallet';

export interface Action<R> {
  /** title names the action in the review dialog, e.g. "Approve proposal #3". */
  title: string;
  build(signer: string): Promise<UnsignedTx>;
  submit(signedTransaction: string): Promise<R>;
  /** expect lists what the page asked for; the transaction must name each of them. */
  expect?: { proposal?: string; program?: string; buffer?: string; bufferHash?: string; actions?: ConfigAction[] };
  /** extra rows for the review (a reason, the migration plan). */
  extra?: [string, string][];
}

const instructionWords: Record<string, string> = {
  propose_upgrade: 'Propose an upgrade',
  approve_upgrade: 'Approve the upgrade',
  cancel_upgrade: 'Cancel the upgrade',
  execute_upgrade: 'Ask to execute the upgrade',
  propose_config: 'Propose a change of the multisig',
  execute_config: 'Ask to execute the change of the multisig',
  pause_system: 'Pause the system',
  resume_system: 'Resume the system',
};

// A config proposal is approved and cancelled by the same instructions as an upgrade.
const configInstructionWords: Record<string, string> = {
  approve_upgrade: 'Approve the change of the multisig',
  cancel_upgrade: 'Cancel the change of the multisig',
};

function actionWords(s: TxSummary): string {
  return (s.actions?.length ? configInstructionWords[s.instruction] : undefined) ?? instructionWords[s.instruction] ?? s.instruction;
}

export async function run<R>(a: Action<R>, progress: (text: string) => void): Promise<R> {
  const { wallet, account } = walletState();
  if (!wallet || !account) throw new PageError('wallet_not_connected', 'Connect a wallet that holds a member key, then try again.');
  const cfg = await config();
  progress('Building the transaction…');
  const unsigned = await a.build(account.address);
  const checked = checkUnsigned(unsigned.transaction, unsigned.message, account.address, cfg.program_id);
  checkExpected(a, unsigned.summary, checked);
  const dialog = document.getElementById('review-dialog') as HTMLDialogElement;
  const ok = await review(dialog, a, unsigned.summary, wallet.name, account.address);
  if (!ok) {
    dialog.close();
    throw new PageError('not_signed', 'You closed the review; nothing was signed or sent.');
  }
  try {
    setDialogStatus(dialog, `Waiting for ${wallet.name} to sign…`);
    let signed: Uint8Array;
    try {
      signed = await sign(checked.wire, settings().walletChain);
    } catch (e) {
      throw new PageError('wallet_rejected', `${wallet.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    checkSigned(signed, checked);
    setDialogStatus(dialog, 'Submitting the signed transaction…');
    progress('Submitting the signed transaction…');
    return await a.submit(toBase64(signed));
  } finally {
    dialog.close();
  }
}

function checkExpected(a: Action<unknown>, s: TxSummary, c: CheckedUnsigned): void {
  const e = a.expect ?? {};
  const named = (what: string, want: string | undefined, got: string | undefined) => {
    if (!want) return;
    if (got !== want) throw new WireError(`the server's summary names ${what} ${got ?? '(none)'}, not ${want}`);
    if (!c.info.accountKeys.includes(want)) throw new WireError(`the transaction does not name ${what} ${want}`);
  };
  named('proposal', e.proposal, s.proposal);
  named('program', e.program, s.program);
  named('buffer', e.buffer, s.buffer);
  if (e.bufferHash) {
    if (s.buffer_hash !== e.bufferHash) throw new WireError(`the buffer's hash is ${s.buffer_hash}, not ${e.bufferHash}`);
  }
  // A proposal carries the hash in its instruction data: it must be in the bytes, not only in the summary.
  if (s.instruction === 'propose_upgrade' && s.buffer_hash && !contains(c.message, fromHex(s.buffer_hash))) {
    throw new WireError('the transaction does not carry the buffer hash it claims');
  }
  if (e.actions) {
    // The changes reviewed are the server's reading of the transaction; they must be the ones
    // asked for, and every key they name must be in the bytes the wallet signs.
    const got = s.actions ?? [];
    if (got.length !== e.actions.length || e.actions.some((a, i) => !sameAction(a, got[i]))) {
      throw new WireError(`the server's summary lists other changes than the ones you entered: ${got.map((a) => changeText(a)).join('; ') || 'none'}`);
    }
    for (const key of e.actions.flatMap(actionKeys)) {
      const bytes = fromBase58(key);
      if (!bytes || !contains(c.message, bytes)) throw new WireError(`the transaction does not carry ${key}, which a change names`);
    }
  }
}

function fromHex(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

// A row of the review: label, value, monospace, a warning.
type Row = [string, string, boolean?, boolean?];

function review(dialog: HTMLDialogElement, a: Action<unknown>, s: TxSummary, walletName: string, signer: string): Promise<boolean> {
  // A config proposal's changes, as the server read them from the transaction, each in words;
  // what cannot be undone is said beside it.
  const changes = s.actions ?? [];
  const changeRows = changes.flatMap((c, i): Row[] => {
    const warning = describeChange(c).warning;
    const row: Row = [`Change ${i + 1}`, changeText(c, undefined, true)];
    return warning ? [row, [`Change ${i + 1}: warning`, warning, false, true]] : [row];
  });
  const rows: Row[] = [
    ['Action', actionWords(s)],
    ...changeRows,
    ...(s.instruction === 'propose_config' ? consequences(changes).map((t, i): Row => [i ? 'Also' : 'Once executed', t]) : []),
    ['Program', s.program ?? '', true],
    ['Buffer', s.buffer ?? '', true],
    ['Buffer hash (SHA-256 of the ELF)', s.buffer_hash ?? '', true],
    ['Proposal', s.proposal ? `${s.proposal}${s.proposal_index ? ` (#${s.proposal_index})` : ''}` : '', true],
    ['Description', s.description ?? ''],
    ['Migration to layout version', s.migration_target_version ? String(s.migration_target_version) : ''],
    ['Multisig', s.multisig, true],
    ['Signed by (you)', signer, true],
    ['Fee payer', s.fee_payer, true],
    ['Recent blockhash', s.blockhash, true],
    ...(a.extra ?? []).map(([k, v]): [string, string] => [k, v]),
  ];
  replace(dialog,
    h('form', { method: 'dialog', class: 'review' },
      h('h2', { id: 'review-title' }, `Review: ${a.title}`),
      h('p', {}, `Check these against your own records. ${walletName} will then ask you to sign exactly this transaction; the server never sees your key.`),
      h('dl', { class: 'fields review-fields' }, rows.filter(([, v]) => v !== '').map(([k, v, mono, warn]) => [
        h('dt', {}, k), h('dd', { class: [mono ? 'mono' : '', warn ? 'warning' : ''].join(' ').trim() || null, 'data-field': k }, v),
      ])),
      h('p', { class: 'dialog-status', role: 'status', 'aria-live': 'polite' }),
      h('div', { class: 'buttons' },
        h('button', { type: 'submit', value: 'sign', class: 'primary', autofocus: true }, `Sign in ${walletName}`),
        h('button', { type: 'submit', value: 'cancel' }, 'Cancel')),
    ));
  return new Promise((resolve) => {
    const form = dialog.querySelector('form')!;
    const onCancel = () => finish(false);
    const finish = (ok: boolean) => {
      dialog.removeEventListener('cancel', onCancel);
      resolve(ok);
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const ok = (ev.submitter as HTMLButtonElement | null)?.value === 'sign';
      if (ok) for (const b of Array.from(form.querySelectorAll('button'))) b.disabled = true;
      finish(ok);
    }, { once: true });
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
  });
}

function setDialogStatus(dialog: HTMLDialogElement, text: string): void {
  const el = dialog.querySelector('.dialog-status');
  if (el) el.textContent = text;
}

