// The member's wallet, found through the Wallet Standard: any wallet that registers itself
// (browser extensions do, and so does the end-to-end test's "Test Wallet (e2e)") and offers
// `solana:signTransaction`. The page hands it the unsigned transaction's bytes and gets them
// back signed; the key never leaves the wallet.
import { getWallets } from '@wallet-standard/app';
import type { Wallet, WalletAccount } from '@wallet-standard/base';

const CONNECT = 'standard:connect';
const DISCONNECT = 'standard:disconnect';
const EVENTS = 'standard:events';
const SIGN = 'solana:signTransaction';

// The feature shapes this page uses (from @wallet-standard/features and @solana/wallet-standard-features).
interface ConnectFeature {
  connect(input?: { silent?: boolean }): Promise<{ accounts: readonly WalletAccount[] }>;
}
interface DisconnectFeature {
  disconnect(): Promise<void>;
}
interface EventsFeature {
  on(event: 'change', listener: (props: { accounts?: readonly WalletAccount[] }) => void): () => void;
}
interface SignTransactionFeature {
  signTransaction(...inputs: { account: WalletAccount; transaction: Uint8Array; chain?: string }[]): Promise<readonly { signedTransaction: Uint8Array }[]>;
}

function feature<T>(w: Wallet, name: string): T | undefined {
  return (w.features as Record<string, unknown>)[name] as T | undefined;
}

export interface WalletState {
  available: Wallet[];
  wallet?: Wallet;
  accounts: WalletAccount[];
  account?: WalletAccount;
}

const state: WalletState = { available: [], accounts: [] };
const listeners = new Set<() => void>();
let offChange: (() => void) | undefined;
const REMEMBER = 'upgrade-governor.wallet';

export const walletState = (): Readonly<WalletState> => state;

export function onWalletChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function changed(): void {
  for (const fn of listeners) fn();
}

function usable(w: Wallet): boolean {
  return feature(w, CONNECT) !== undefined && feature(w, SIGN) !== undefined;
}

function signingAccounts(accounts: readonly WalletAccount[]): WalletAccount[] {
  return accounts.filter((a) => a.features.includes(SIGN));
}

export function startWalletDiscovery(): void {
  const registry = getWallets();
  const refresh = () => {
    state.available = registry.get().filter(usable);
    changed();
    // Reconnect quietly to the wallet used last time, when it registers.
    const remembered = localStorage.getItem(REMEMBER);
    const w = state.available.find((x) => x.name === remembered);
    if (!state.wallet && w) void connect(w, true).catch(() => undefined);
  };
  registry.on('register', refresh);
  registry.on('unregister', refresh);
  refresh();
}

export async function connect(w: Wallet, silent = false): Promise<void> {
  const c = feature<ConnectFeature>(w, CONNECT);
  if (!c) throw new Error(`${w.name} cannot connect`);
  const { accounts } = await c.connect(silent ? { silent: true } : undefined);
  const usableAccounts = signingAccounts(accounts.length ? accounts : w.accounts);
  if (usableAccounts.length === 0) {
    if (silent) return;
    throw new Error(`${w.name} offers no account that signs Solana transactions`);
  }
  offChange?.();
  state.wallet = w;
  state.accounts = usableAccounts;
  const previous = localStorage.getItem(REMEMBER + '.account');
  state.account = usableAccounts.find((a) => a.address === previous) ?? usableAccounts[0];
  localStorage.setItem(REMEMBER, w.name);
  offChange = feature<EventsFeature>(w, EVENTS)?.on('change', ({ accounts: next }) => {
    if (!next) return;
    state.accounts = signingAccounts(next);
    if (!state.accounts.some((a) => a.address === state.account?.address)) state.account = state.accounts[0];
    if (state.accounts.length === 0) state.wallet = undefined;
    changed();
  });
  changed();
}

export async function disconnect(): Promise<void> {
  const w = state.wallet;
  offChange?.();
  offChange = undefined;
  state.wallet = undefined;
  state.accounts = [];
  state.account = undefined;
  localStorage.removeItem(REMEMBER);
  changed();
  await feature<DisconnectFeature>(w ?? ({ features: {} } as Wallet), DISCONNECT)?.disconnect().catch(() => undefined);
}

export function selectAccount(address: string): void {
  const a = state.accounts.find((x) => x.address === address);
  if (!a) return;
  state.account = a;
  localStorage.setItem(REMEMBER + '.account', address);
  changed();
}

/** sign asks the wallet to sign the transaction bytes and returns the signed bytes. */
export async function sign(transaction: Uint8Array, chain: string): Promise<Uint8Array> {
  const w = state.wallet;
  const account = state.account;
  if (!w || !account) throw new Error('no wallet is connected');
  const f = feature<SignTransactionFeature>(w, SIGN);
  if (!f) throw new Error(`${w.name} cannot sign Solana transactions`);
  const input: { account: WalletAccount; transaction: Uint8Array; chain?: string } = { account, transaction };
  if (chain) input.chain = chain;
  const [out] = await f.signTransaction(input);
  if (!out?.signedTransaction) throw new Error(`${w.name} returned no signed transaction`);
  return new Uint8Array(out.signedTransaction);
}
