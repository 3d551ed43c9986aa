// A config proposal's changes (the multisig governs itself): the JSON actions the API takes,
// built from what a member enters on the change page, and each change in plain words. Which
// changes the program accepts (a threshold above the members, a timelock out of range, ...) is
// the program's rule: the API asks it and names the refusal; the page does not repeat it.
import type { ConfigAction } from './api';
import { exactDuration } from './format';

/** What a member picks on the form; hand-off and make-immutable are both set_program_authority. */
export type ChangeKind =
  | 'add_member' | 'remove_member' | 'set_threshold' | 'set_timelock' | 'set_proposal_lifetime'
  | 'set_grace' | 'set_guardian' | 'hand_off' | 'make_immutable';

export const changeKinds: { kind: ChangeKind; label: string }[] = [
  { kind: 'add_member', label: 'Add a member' },
  { kind: 'remove_member', label: 'Remove a member' },
  { kind: 'set_threshold', label: 'Change the threshold' },
  { kind: 'set_timelock', label: 'Change the timelock' },
  { kind: 'set_proposal_lifetime', label: 'Change how long proposals live' },
  { kind: 'set_grace', label: 'Change the grace after the eta' },
  { kind: 'set_guardian', label: 'Replace the guardian' },
  { kind: 'hand_off', label: "Hand a program's upgrade authority to another key" },
  { kind: 'make_immutable', label: 'Make a program immutable' },
];

export type PeriodUnit = 'hours' | 'days';
const unitSeconds: Record<PeriodUnit, number> = { hours: 3600, days: 86400 };

/**
 * ChangeDraft is one change as the form holds it: the values under the API's field names
 * (member, guardian, program, new_authority, threshold, seconds: the last one an amount of
 * `unit`), so a field the API names (`actions[2].member`) finds its input.
 */
export interface ChangeDraft {
  kind: ChangeKind;
  values: Partial<Record<ActionField, string>>;
  unit?: PeriodUnit;
  /** make_immutable: the member ticked "this cannot be undone". */
  confirmed?: boolean;
}

export type ActionField = 'member' | 'guardian' | 'program' | 'new_authority' | 'threshold' | 'seconds';

/** The inputs each kind of change has, in the order the form shows them. */
export const changeFields: Record<ChangeKind, ActionField[]> = {
  add_member: ['member'],
  remove_member: ['member'],
  set_threshold: ['threshold'],
  set_timelock: ['seconds'],
  set_proposal_lifetime: ['seconds'],
  set_grace: ['seconds'],
  set_guardian: ['guardian'],
  hand_off: ['program', 'new_authority'],
  make_immutable: ['program'],
};

export interface FieldProblem {
  field: ActionField | 'confirm';
  message: string;
}

/**
 * toAction turns a draft into the API's JSON action, or names the field that cannot be sent:
 * a number that is not one, or an immutable program the member has not confirmed. Keys are sent
 * as typed (trimmed): the API checks them and names the field.
 */
export function toAction(d: ChangeDraft): ConfigAction | FieldProblem {
  const v = (f: ActionField) => (d.values[f] ?? '').trim();
  switch (d.kind) {
    case 'add_member':
    case 'remove_member':
      return { kind: d.kind, member: v('member') };
    case 'set_guardian':
      return { kind: d.kind, guardian: v('guardian') };
    case 'set_threshold': {
      const n = Number(v('threshold'));
      if (!v('threshold') || !Number.isInteger(n) || n < 1) return { field: 'threshold', message: 'Enter a whole number of approvals, 1 or more.' };
      return { kind: d.kind, threshold: n };
    }
    case 'set_timelock':
    case 'set_proposal_lifetime':
    case 'set_grace': {
      const amount = Number(v('seconds'));
      if (!v('seconds') || !Number.isFinite(amount) || amount <= 0) return { field: 'seconds', message: `Enter a number of ${d.unit ?? 'hours'} above 0.` };
      return { kind: d.kind, seconds: Math.round(amount * unitSeconds[d.unit ?? 'hours']) };
    }
    case 'hand_off':
      if (!v('new_authority')) return { field: 'new_authority', message: 'Name the key that takes the upgrade authority (to make the program immutable, choose that change instead).' };
      return { kind: 'set_program_authority', program: v('program'), new_authority: v('new_authority') };
    case 'make_immutable':
      if (!d.confirmed) return { field: 'confirm', message: 'Confirm that you understand this cannot be undone.' };
      return { kind: 'set_program_authority', program: v('program'), new_authority: null };
  }
}

export function isProblem(x: ConfigAction | FieldProblem): x is FieldProblem {
  return 'field' in x && 'message' in x;
}

/** parseActionField reads the API's field name of one action: "actions[2].member". */
export function parseActionField(field: string | undefined): { index: number; field: string } | undefined {
  const m = /^actions\[(\d+)\](?:\.([a-z_]+))?$/.exec(field ?? '');
  return m ? { index: Number(m[1]), field: m[2] ?? '' } : undefined;
}

/** A part of a change in words: text, or a key the page shows as a link. */
export type Part = string | { key: string };

export interface ChangeWords {
  /** The change itself: short enough for a list. */
  parts: Part[];
  /** What it means for the members. */
  explain?: string;
  /** Said next to the change, for what cannot be taken back. */
  warning?: string;
}

/**
 * period spells a configured period in the unit people set it in: "2 hours", "7 days", else
 * exactly ("1 h 30 min").
 */
export function period(seconds: number): string {
  const n = (x: number, unit: string) => `${x} ${unit}${x === 1 ? '' : 's'}`;
  if (seconds > 0 && seconds % 86400 === 0) return n(seconds / 86400, 'day');
  if (seconds > 0 && seconds % 3600 === 0) return n(seconds / 3600, 'hour');
  return exactDuration(seconds);
}

/** describeChange says what an action does, in words, from its fields (not the server's summary). */
export function describeChange(a: ConfigAction): ChangeWords {
  const secs = a.seconds ?? 0;
  const exact = `${period(secs)} (${secs} s)`;
  switch (a.kind) {
    case 'add_member':
      return { parts: ['Add ', key(a.member), ' as a member'] };
    case 'remove_member':
      return { parts: ['Remove ', key(a.member), ' from the members'] };
    case 'set_threshold':
      return { parts: [`Set the threshold to ${a.threshold}`], explain: `a proposal needs ${a.threshold} member approval${a.threshold === 1 ? '' : 's'}` };
    case 'set_timelock':
      return { parts: [`Set the timelock to ${exact}`], explain: 'an approved proposal waits this long before it can execute' };
    case 'set_proposal_lifetime':
      return { parts: [`Set the proposal lifetime to ${exact}`], explain: 'a proposal not approved by then expires' };
    case 'set_grace':
      return { parts: [`Set the grace to ${exact}`], explain: 'an approved proposal may still execute this long after its eta' };
    case 'set_guardian':
      return { parts: ['Replace the guardian with ', key(a.guardian)] };
    case 'set_program_authority':
      if (a.new_authority) {
        return { parts: ['Hand the upgrade authority of program ', key(a.program), ' to ', key(a.new_authority)], explain: 'the multisig no longer governs its upgrades' };
      }
      return {
        parts: ['Make program ', key(a.program), ' immutable'],
        explain: 'nobody can upgrade it again',
        warning: 'This cannot be undone: once executed, the program can never be upgraded or fixed again, by anyone.',
      };
  }
  return { parts: [a.summary || a.kind] };
}

function key(k: string | null | undefined): Part {
  return { key: k ?? '' };
}

/**
 * changeText is a change in one line, keys as fmt writes them (in full, or shortened for a
 * list); explained says what it means too.
 */
export function changeText(a: ConfigAction, fmt: (key: string) => string = (k) => k, explained = false): string {
  const w = describeChange(a);
  const text = w.parts.map((p) => (typeof p === 'string' ? p : fmt(p.key))).join('');
  return explained && w.explain ? `${text}: ${w.explain}` : text;
}

/** consequences are what executing these changes does besides the changes themselves. */
export function consequences(actions: ConfigAction[]): string[] {
  const out: string[] = [];
  if (actions.some((a) => a.kind === 'add_member' || a.kind === 'remove_member' || a.kind === 'set_threshold')) {
    out.push('It changes the members or the threshold: once executed, every proposal created before it becomes stale (no further approvals or execution).');
  }
  if (actions.some((a) => a.kind === 'set_guardian')) {
    out.push('It replaces the guardian: the guardian cannot cancel it or stop it in an emergency; members can, by a threshold of cancel votes.');
  }
  return out;
}

/** sameAction compares two actions field by field, the server's summary aside. */
export function sameAction(a: ConfigAction, b: ConfigAction): boolean {
  const norm = (x: ConfigAction) => JSON.stringify([x.kind, x.member ?? '', x.guardian ?? '', x.program ?? '',
    x.threshold ?? null, x.seconds ?? null, x.new_authority ?? null]);
  return norm(a) === norm(b);
}

/** actionKeys are the keys an action carries: its transaction must hold each of them. */
export function actionKeys(a: ConfigAction): string[] {
  return [a.member, a.guardian, a.program, a.new_authority].filter((k): k is string => !!k);
}

/** membersDiff says who joined and who left between two configurations. */
export function membersDiff(before: string[] | undefined, after: string[]): { added: string[]; removed: string[] } {
  if (!before) return { added: [], removed: [] };
  return { added: after.filter((m) => !before.includes(m)), removed: before.filter((m) => !after.includes(m)) };
}
