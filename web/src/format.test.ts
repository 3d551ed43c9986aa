import { describe, expect, test } from 'vitest';
import { countdown, duration, exactDuration, short } from './format';

describe('format', () => {
  test('durations read as people count time', () => {
    expect(duration(12)).toBe('12 s');
    expect(duration(302)).toBe('5 min 02 s');
    expect(duration(47 * 3600 + 59 * 60 + 12)).toBe('47 h 59 min 12 s');
    expect(duration(5 * 86400 + 3 * 3600)).toBe('5 d 03 h');
  });

  test('a countdown says in or ago', () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(countdown('2026-11-25T11:00:00Z', now)).toBe('in 1 h 00 min 00 s');
    expect(countdown('2026-11-25T09:58:58Z', now)).toBe('passed 1 min 02 s ago');
  });

  test('configured periods are exact', () => {
    expect(exactDuration(3600)).toBe('1 h');
    expect(exactDuration(48 * 3600)).toBe('2 d');
    expect(exactDuration(5400)).toBe('1 h 30 min');
    expect(exactDuration(7 * 86400)).toBe('7 d');
  });

  test('addresses are shortened with both ends kept', () => {
    expect(short('EBDwN1RPWW1HKkDSi6AqSowU9U4h44d249oPVkZT15c5')).toBe('EBDw…15c5');
  });
});
