// What a page is, and the polling every live page uses.
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

/** Every element with data-eta shows a countdown to it, updated each second. */
export function startCountdowns(): void {
  window.setInterval(() => {
    for (const el of Array.from(document.querySelectorAll<HTMLElement>('[data-eta]'))) {
      const text = countdown(el.dataset.eta!);
      if (el.textContent !== text) el.textContent = text;
    }
  }, 1000);
}
