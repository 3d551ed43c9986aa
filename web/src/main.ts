// The page's shell: the router over #/ paths, the wallet in the header, the connect dialog.
import './style.css';
import type { Wallet } from '@wallet-standard/base';
import { h, replace } from './dom';
import { short } from './format';
import { startCountdowns, type Page } from './page';
import { changePage } from './pages/change';
import { listPage } from './pages/list';
import { newProposalPage } from './pages/new';
import { proposalPage } from './pages/proposal';
import { systemPage } from './pages/system';
import { problemView } from './problems';
import { connect, disconnect, onWalletChange, selectAccount, startWalletDiscovery, walletState } from './wallet';

let current: Page | undefined;

function route(): { page: Page; nav: string } {
  const [path, query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  const params = new URLSearchParams(query);
  if (parts[0] === 'proposals' && parts[1]) return { page: proposalPage(parts[1]), nav: 'list' };
  if (parts[0] === 'new') return { page: newProposalPage(), nav: 'new' };
  if (parts[0] === 'change') return { page: changePage(parts[1] ?? ''), nav: 'change' };
  if (parts[0] === 'system') return { page: systemPage(parts[1] ?? ''), nav: 'system' };
  return { page: listPage(params.get('status') ?? '', params.get('multisig') ?? ''), nav: 'list' };
}

function navigate(): void {
  current?.unmount();
  const main = document.getElementById('main')!;
  main.replaceChildren();
  const { page, nav } = route();
  current = page;
  document.title = `${page.title} · upgrade-governor`;
  for (const a of Array.from(document.querySelectorAll<HTMLAnchorElement>('[data-nav]'))) {
    if (a.dataset.nav === nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  page.mount(main);
  // Move focus to the new page's heading, as a page load would, for keyboard and screen readers.
  (main.querySelector('h1') as HTMLElement | null)?.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function renderWallet(): void {
  const box = document.getElementById('wallet')!;
  const { wallet, accounts, account } = walletState();
  if (!wallet) {
    const b = h('button', { type: 'button', id: 'connect-wallet', class: 'primary' }, 'Connect wallet');
    b.addEventListener('click', openConnect);
    replace(box, b);
    return;
  }
  const select = h('select', { id: 'account-select', name: 'account' },
    accounts.map((a) => h('option', { value: a.address, selected: a.address === account?.address }, `${a.label ? a.label + ' ' : ''}${short(a.address)}`)));
  select.addEventListener('change', () => selectAccount(select.value));
  const off = h('button', { type: 'button', id: 'disconnect-wallet' }, 'Disconnect');
  off.addEventListener('click', () => void disconnect());
  replace(box,
    h('img', { src: wallet.icon, alt: '', width: 20, height: 20 }),
    h('span', { class: 'wallet-name', id: 'wallet-name' }, wallet.name),
    h('label', { for: 'account-select', class: 'visually-hidden' }, 'Signing account'),
    select, off);
}

// Re-rendering the header on every account change would take focus out of the select.
let shownWallet: Wallet | undefined;
let shownAccounts = '';
function walletChanged(): void {
  const { wallet, accounts, account } = walletState();
  const key = accounts.map((a) => a.address).join(',');
  if (wallet === shownWallet && key === shownAccounts) {
    const select = document.getElementById('account-select') as HTMLSelectElement | null;
    if (select && account && select.value !== account.address) select.value = account.address;
    return;
  }
  shownWallet = wallet;
  shownAccounts = key;
  renderWallet();
}

function openConnect(): void {
  const dialog = document.getElementById('connect-dialog') as HTMLDialogElement;
  const draw = () => {
    const { available } = walletState();
    const status = h('div', { class: 'dialog-status' });
    replace(dialog,
      h('h2', { id: 'connect-title' }, 'Connect a wallet'),
      h('p', {}, 'Wallets that support the Wallet Standard and sign Solana transactions:'),
      available.length
        ? h('ul', { class: 'wallet-list' }, available.map((w) => {
          const b = h('button', { type: 'button', class: 'wallet-choice' }, h('img', { src: w.icon, alt: '', width: 28, height: 28 }), w.name);
          b.addEventListener('click', async () => {
            replace(status, h('p', { role: 'status' }, `Waiting for ${w.name}…`));
            try {
              await connect(w);
              dialog.close();
              document.getElementById('account-select')?.focus();
            } catch (e) {
              replace(status, problemView(e, `Could not connect ${w.name}`));
            }
          });
          return h('li', {}, b);
        }))
        : h('p', { class: 'empty' }, 'No wallet found. Install a Solana wallet that supports the Wallet Standard (Phantom, Solflare, Backpack, ...) and reload.'),
      status,
      h('form', { method: 'dialog', class: 'buttons' }, h('button', { type: 'submit' }, 'Close')));
  };
  draw();
  const off = onWalletChange(() => {
    if (dialog.open && !walletState().wallet) draw();
  });
  dialog.addEventListener('close', () => {
    off();
    if (!walletState().wallet) document.getElementById('connect-wallet')?.focus();
  }, { once: true });
  dialog.showModal();
}

onWalletChange(walletChanged);
renderWallet();
startWalletDiscovery();
startCountdowns();
window.addEventListener('hashchange', navigate);
navigate();
