// Links out of the page: accounts and transactions in the explorer, workflows in Temporal's Web UI.
import { settings } from './app';
import { h } from './dom';
import { short } from './format';
import { addressURL, txURL, workflowURL } from './settings';

const external = { target: '_blank', rel: 'noopener noreferrer' };

export function addressLink(addr: string | undefined | null, full = false): HTMLElement | string {
  if (!addr) return '—';
  return h('a', { href: addressURL(settings(), addr), ...external, class: 'mono', title: addr, 'aria-label': `${addr} in the explorer` },
    full ? addr : short(addr));
}

export function txLink(sig: string | undefined | null, full = false): HTMLElement | string {
  if (!sig) return '—';
  return h('a', { href: txURL(settings(), sig), ...external, class: 'mono tx-link', title: sig, 'aria-label': `transaction ${sig} in the explorer` },
    full ? sig : short(sig));
}

export function workflowLink(namespace: string, id: string | undefined | null): HTMLElement | string {
  if (!id) return '—';
  return h('a', { href: workflowURL(settings(), namespace, id), ...external, class: 'mono workflow-link' }, id);
}
