// What a page is, and the polling every live page uses.
import { getClock } from './api';
import { countdown } from './format';

export interface Page {
  title: string;
  mount(root: HTMLElement): void;
  unmount(): void;
}

/**
 * poll runs fn now and then every `ms` while the tab is visible, never two at once; the
 * returned function stops it; ms may change between runs. Polling is enough: a timelock is
 * hours, a migration minutes.
 */
export function poll(fn: () => Promise<void>, ms: number | (() => number)): () => void {
  let stopped = false;
  let running = false;
  let timer: number | undefined;
  const tick = async () => {
    window.clearTimeout(timer);
    if (stopped || running) return;
    if (!document.hidden) {
      running = true;
      try {
        await fn();
      } finally {
        running = false;
      }
    }
    if (!stopped) timer = window.setTimeout(tick, typeof ms === 'number' ? ms : ms());
  };
  const onVisible = () => {
    if (!document.hidden) void tick();
  };
  document.addEventListener('visibilitychange', onVisible);
  void tick();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}

// skewMs is the chain's clock minus the browser's: timelocks end by the chain's clock (a test
// chain's time travel moves it by days; a cluster's drifts), so countdowns follow it.
let skewMs = 0;

/** chainNow is the chain's clock as last read (GET /clock), moved on by the browser's. */
export function chainNow(): number {
  return Date.now() + skewMs;
}

async function syncClock(): Promise<void> {
  try {
    const before = Date.now();
    const c = await getClock();
    skewMs = Date.parse(c.chain_time) - (before + Date.now()) / 2;
  } catch {
    // Keep the last skew: a countdown a little off is better than none.
  }
}

/** Every element with data-eta shows a countdown to it by the chain's clock, updated each second. */
export function startCountdowns(): void {
  void syncClock();
  window.setInterval(() => void syncClock(), 5_000);
  window.setInterval(() => {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-eta]'))) {
      const text = countdown(el.dataset.eta!, chainNow());
      if (el.textContent !== text) el.textContent = text;
    }
  }, 1000);
}
