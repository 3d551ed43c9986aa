// Words and numbers as people read them.

export function short(addr: string | undefined | null): string {
  if (!addr) return '';
  return addr.length > 12 ? `${addr.slice(0, 4)}…${addr.slice(-4)}` : addr;
}

export function shortHash(hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-8)}` : hex;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** duration spells seconds as "2 d 03 h", "47 h 59 min 12 s", "5 min 02 s" or "12 s". */
export function duration(totalSeconds: number): string {
  let s = Math.max(0, Math.floor(totalSeconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d >= 3) return `${d} d ${pad(h)} h`;
  const hours = d * 24 + h;
  if (hours > 0) return `${hours} h ${pad(m)} min ${pad(s)} s`;
  if (m > 0) return `${m} min ${pad(s)} s`;
  return `${s} s`;
}

/** countdown says how far eta is from now: "in 47 h 59 min 12 s" or "passed 3 min 02 s ago". */
export function countdown(eta: string, now: number = Date.now()): string {
  const diff = (Date.parse(eta) - now) / 1000;
  if (diff > 0) return `in ${duration(diff)}`;
  return `passed ${duration(-diff)} ago`;
}

/** exactDuration spells a configured period without rounding: "48 h", "1 h 30 min", "7 d". */
export function exactDuration(seconds: number): string {
  const parts: string[] = [];
  let s = seconds;
  const d = Math.floor(s / 86400);
  if (d && s % 86400 === 0) return `${d} d`;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s || parts.length === 0) parts.push(`${s} s`);
  return parts.join(' ');
}

const timeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function time(iso: string | null | undefined): string {
  if (!iso) return '—';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : timeFmt.format(t);
}

export const statusLabels: Record<string, string> = {
  pending: 'Pending',
  active: 'Collecting approvals',
  approved: 'Approved, in timelock',
  executed: 'Executed',
  cancelled: 'Cancelled',
  expired: 'Expired',
};

export function statusLabel(s: string): string {
  return statusLabels[s] ?? s;
}

export function percent(part: number, total: number): number {
  if (total <= 0) return 0;
  return Math.min(100, Math.round((100 * part) / total));
}
