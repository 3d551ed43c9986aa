import { describe, expect, test } from 'vitest';
import {
  actionKeys, changeText, consequences, describeChange, isProblem, membersDiff, parseActionField, period, sameAction, toAction,
} from './changes';
import { short } from './format';

const A = 'EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5';
const B = '9xQeWvG816bUx9EPjHmaT23yvVM2ZWbrrpZb9PusVFin';
const P = 'BPFLoaderUpgradeab1e11111111111111111111111';

describe('the form builds the API actions', () => {
  test('members and the guardian are sent as typed, trimmed', () => {
    expect(toAction({ kind: 'add_member', values: { member: ` ${A} ` } })).toEqual({ kind: 'add_member', member: A });
    expect(toAction({ kind: 'remove_member', values: { member: A } })).toEqual({ kind: 'remove_member', member: A });
    expect(toAction({ kind: 'set_guardian', values: { guardian: B } })).toEqual({ kind: 'set_guardian', guardian: B });
  });

  test('a threshold is a whole number of approvals', () => {
    expect(toAction({ kind: 'set_threshold', values: { threshold: '2' } })).toEqual({ kind: 'set_threshold', threshold: 2 });
    for (const bad of ['', '0', '1.5', 'two']) {
      const r = toAction({ kind: 'set_threshold', values: { threshold: bad } });
      expect(isProblem(r) && r.field, bad).toBe('threshold');
    }
  });

  test('periods are entered in hours or days and sent in seconds', () => {
    expect(toAction({ kind: 'set_timelock', values: { seconds: '2' }, unit: 'hours' })).toEqual({ kind: 'set_timelock', seconds: 7200 });
    expect(toAction({ kind: 'set_timelock', values: { seconds: '1.5' }, unit: 'hours' })).toEqual({ kind: 'set_timelock', seconds: 5400 });
    expect(toAction({ kind: 'set_proposal_lifetime', values: { seconds: '7' }, unit: 'days' })).toEqual({ kind: 'set_proposal_lifetime', seconds: 604800 });
    expect(toAction({ kind: 'set_grace', values: { seconds: '3' } })).toEqual({ kind: 'set_grace', seconds: 10800 });
    const r = toAction({ kind: 'set_grace', values: { seconds: '-1' }, unit: 'days' });
    expect(isProblem(r) && r.field).toBe('seconds');
  });

  test('a hand-off names the new authority; making a program immutable sends null, once confirmed', () => {
    expect(toAction({ kind: 'hand_off', values: { program: P, new_authority: B } }))
      .toEqual({ kind: 'set_program_authority', program: P, new_authority: B });
    const noKey = toAction({ kind: 'hand_off', values: { program: P } });
    expect(isProblem(noKey) && noKey.field).toBe('new_authority');
    const unconfirmed = toAction({ kind: 'make_immutable', values: { program: P } });
    expect(isProblem(unconfirmed) && unconfirmed.field).toBe('confirm');
    const immutable = toAction({ kind: 'make_immutable', values: { program: P }, confirmed: true });
    expect(immutable).toEqual({ kind: 'set_program_authority', program: P, new_authority: null });
    expect(JSON.stringify(immutable)).toContain('"new_authority":null');
  });

  test("the API's field names find the change and its input", () => {
    expect(parseActionField('actions[2].member')).toEqual({ index: 2, field: 'member' });
    expect(parseActionField('actions[0].new_authority')).toEqual({ index: 0, field: 'new_authority' });
    expect(parseActionField('actions[1]')).toEqual({ index: 1, field: '' });
    expect(parseActionField('actions')).toBeUndefined();
    expect(parseActionField('multisig')).toBeUndefined();
    expect(parseActionField(undefined)).toBeUndefined();
  });
});

describe('a change in words', () => {
  test('who is added or removed, the new threshold', () => {
    expect(changeText({ kind: 'add_member', member: A })).toBe(`Add ${A} as a member`);
    expect(changeText({ kind: 'remove_member', member: A }, short)).toBe('Remove EBDw…15c5 from the members');
    expect(changeText({ kind: 'set_threshold', threshold: 2 })).toBe('Set the threshold to 2');
    expect(changeText({ kind: 'set_threshold', threshold: 2 }, undefined, true)).toBe('Set the threshold to 2: a proposal needs 2 member approvals');
    expect(changeText({ kind: 'set_threshold', threshold: 1 }, undefined, true)).toMatch(/needs 1 member approval$/);
  });

  test('periods in hours or days, with the exact seconds', () => {
    expect(changeText({ kind: 'set_timelock', seconds: 7200 })).toBe('Set the timelock to 2 hours (7200 s)');
    expect(changeText({ kind: 'set_timelock', seconds: 7200 }, undefined, true)).toMatch(/^Set the timelock to 2 hours \(7200 s\): an approved proposal waits/);
    expect(changeText({ kind: 'set_proposal_lifetime', seconds: 7 * 86400 })).toBe('Set the proposal lifetime to 7 days (604800 s)');
    expect(changeText({ kind: 'set_grace', seconds: 3600 })).toBe('Set the grace to 1 hour (3600 s)');
    expect(period(5400)).toBe('1 h 30 min');
    expect(period(86400)).toBe('1 day');
  });

  test('the guardian, a hand-off, and an immutable program with its warning', () => {
    expect(changeText({ kind: 'set_guardian', guardian: B })).toBe(`Replace the guardian with ${B}`);
    expect(describeChange({ kind: 'set_program_authority', program: P, new_authority: B }).warning).toBeUndefined();
    expect(changeText({ kind: 'set_program_authority', program: P, new_authority: B }, undefined, true))
      .toBe(`Hand the upgrade authority of program ${P} to ${B}: the multisig no longer governs its upgrades`);
    const immutable = describeChange({ kind: 'set_program_authority', program: P, new_authority: null });
    expect(changeText({ kind: 'set_program_authority', program: P }, short)).toBe('Make program BPFL…1111 immutable');
    expect(changeText({ kind: 'set_program_authority', program: P }, undefined, true)).toBe(`Make program ${P} immutable: nobody can upgrade it again`);
    expect(immutable.warning).toMatch(/cannot be undone/);
    expect(immutable.parts).toContainEqual({ key: P });
  });

  test('a kind the page does not know shows the server summary', () => {
    expect(changeText({ kind: 'unreadable', summary: "the index's actions do not decode" })).toBe("the index's actions do not decode");
  });

  test('what executing the changes does to other proposals and to the guardian', () => {
    expect(consequences([{ kind: 'set_timelock', seconds: 7200 }])).toEqual([]);
    expect(consequences([{ kind: 'remove_member', member: A }])[0]).toMatch(/stale/);
    expect(consequences([{ kind: 'set_threshold', threshold: 2 }, { kind: 'set_guardian', guardian: B }])).toHaveLength(2);
  });
});

describe('checking what the server built', () => {
  test('actions compare by their fields, not the summary; absent and null authority are alike', () => {
    expect(sameAction({ kind: 'add_member', member: A }, { kind: 'add_member', member: A, summary: 'add member …' })).toBe(true);
    expect(sameAction({ kind: 'add_member', member: A }, { kind: 'remove_member', member: A })).toBe(false);
    expect(sameAction({ kind: 'set_timelock', seconds: 3600 }, { kind: 'set_timelock', seconds: 7200 })).toBe(false);
    expect(sameAction({ kind: 'set_program_authority', program: P, new_authority: null }, { kind: 'set_program_authority', program: P })).toBe(true);
    expect(sameAction({ kind: 'set_program_authority', program: P, new_authority: null }, { kind: 'set_program_authority', program: P, new_authority: B })).toBe(false);
  });

  test('the keys an action carries', () => {
    expect(actionKeys({ kind: 'set_program_authority', program: P, new_authority: B })).toEqual([P, B]);
    expect(actionKeys({ kind: 'set_program_authority', program: P, new_authority: null })).toEqual([P]);
    expect(actionKeys({ kind: 'set_threshold', threshold: 2 })).toEqual([]);
  });

  test('who joined and who left', () => {
    expect(membersDiff([A], [B])).toEqual({ added: [B], removed: [A] });
    expect(membersDiff(undefined, [A])).toEqual({ added: [], removed: [] });
  });
});
