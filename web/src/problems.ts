// How a failure is shown: what went wrong in words, the server's message, the field at fault
// and the request ID to look up in the server's log.
import { h } from './dom';
import { problem, type Problem } from './errors';

export function problemView(e: unknown, what?: string): HTMLElement {
  const p: Problem = problem(e);
  return h('div', { class: 'problem', role: 'alert', 'data-code': p.code },
    h('p', { class: 'problem-title' }, h('strong', {}, what ? `${what}: ${p.title}` : p.title)),
    p.message ? h('p', { class: 'problem-message' }, p.message) : null,
    h('p', { class: 'problem-meta' },
      h('span', {}, 'Code ', h('code', {}, p.code)),
      p.status ? h('span', {}, ` · HTTP ${p.status}`) : null,
      p.field ? h('span', {}, ' · field ', h('code', {}, p.field)) : null,
      p.requestId ? h('span', {}, ' · request ', h('code', {}, p.requestId)) : null),
  );
}

export function successView(text: string): HTMLElement {
  return h('div', { class: 'success', role: 'status' }, h('p', {}, text));
}
