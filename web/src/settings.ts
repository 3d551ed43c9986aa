// Where this deployment's other tools live, kept in the browser (the API server does not know
// the Temporal Web UI's address or which explorer you use). Defaults suit `make demo`.

export interface Settings {
  /** Temporal Web UI base URL; workflow links are {temporalUI}/namespaces/{ns}/workflows/{id}. */
  temporalUI: string;
  /** Transaction link template; {signature} is replaced. */
  explorerTx: string;
  /** Account link template; {address} is replaced. */
  explorerAddress: string;
  /** Wallet Standard chain passed to the wallet (solana:mainnet, solana:devnet, ...); empty: none. */
  walletChain: string;
}

const KEY = 'upgrade-governor.settings';
const localRPC = encodeURIComponent('http://127.0.0.1:8899');

export function defaults(): Settings {
  return {
    temporalUI: `${location.protocol}//${location.hostname}:8233`,
    explorerTx: `https://explorer.solana.com/tx/{signature}?cluster=custom&customUrl=${localRPC}`,
    explorerAddress: `https://explorer.solana.com/address/{address}?cluster=custom&customUrl=${localRPC}`,
    walletChain: '',
  };
}

export function load(): Settings {
  const d = defaults();
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) ?? '{}') as Partial<Settings>;
    return {
      temporalUI: typeof saved.temporalUI === 'string' && saved.temporalUI ? saved.temporalUI : d.temporalUI,
      explorerTx: typeof saved.explorerTx === 'string' && saved.explorerTx ? saved.explorerTx : d.explorerTx,
      explorerAddress: typeof saved.explorerAddress === 'string' && saved.explorerAddress ? saved.explorerAddress : d.explorerAddress,
      walletChain: typeof saved.walletChain === 'string' ? saved.walletChain : d.walletChain,
    };
  } catch {
    return d;
  }
}

export function save(s: Settings): void {
  localStorage.setItem(KEY, JSON.stringify(s));
}

export function reset(): void {
  localStorage.removeItem(KEY);
}

export function workflowURL(s: Settings, namespace: string, workflowID: string): string {
  return `${s.temporalUI.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowID)}`;
}

export function txURL(s: Settings, signature: string): string {
  return s.explorerTx.replace('{signature}', encodeURIComponent(signature));
}

export function addressURL(s: Settings, address: string): string {
  return s.explorerAddress.replace('{address}', encodeURIComponent(address));
}

// The last multisig looked at or proposed to, so forms and the system page start there.
const MULTISIG_KEY = 'upgrade-governor.multisig';
export const lastMultisig = () => localStorage.getItem(MULTISIG_KEY) ?? '';
export const rememberMultisig = (m: string) => localStorage.setItem(MULTISIG_KEY, m);
