// "Test Wallet (e2e)": a Wallet Standard wallet for the end-to-end test, injected into the page
// with page.addInitScript before the page's own scripts run. It holds real ed25519 keypairs
// (tweetnacl, loaded just before this file as window.nacl) and signs exactly the bytes the page
// hands it, as a browser extension wallet would. It is never part of the built UI.
//
// It registers through the Wallet Standard's window events, as @wallet-standard/wallet's
// registerWallet does: it announces itself with 'wallet-standard:register-wallet' and answers
// the app's 'wallet-standard:app-ready'.
(function installTestWallet(secretKeys) {
  const nacl = window.nacl;
  const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  function base58(bytes) {
    const digits = [];
    for (const byte of bytes) {
      let carry = byte;
      for (let i = 0; i < digits.length; i++) {
        carry += digits[i] << 8;
        digits[i] = carry % 58;
        carry = (carry / 58) | 0;
      }
      while (carry > 0) {
        digits.push(carry % 58);
        carry = (carry / 58) | 0;
      }
    }
    let out = '';
    for (const byte of bytes) {
      if (byte !== 0) break;
      out += '1';
    }
    for (let i = digits.length - 1; i >= 0; i--) out += B58[digits[i]];
    return out;
  }
  function shortVec(b, off) {
    let value = 0;
    for (let i = 0; i < 3; i++) {
      const byte = b[off++];
      value |= (byte & 0x7f) << (7 * i);
      if ((byte & 0x80) === 0) return [value, off];
    }
    throw new Error('bad compact-u16');
  }

  const keys = secretKeys.map((sk) => nacl.sign.keyPair.fromSecretKey(Uint8Array.from(sk)));
  const chains = ['solana:mainnet', 'solana:devnet', 'solana:testnet', 'solana:localnet'];
  const features = ['solana:signTransaction'];
  const accounts = keys.map((k, i) => Object.freeze({
    address: base58(k.publicKey),
    publicKey: k.publicKey.slice(),
    chains,
    features,
    label: `Member ${i + 1}`,
  }));

  // What the test reads back: every request to sign, in order.
  const log = [];
  window.__testWallet = { log, accounts: accounts.map((a) => a.address), reject: false };

  let connected = [];
  const listeners = new Set();
  function emit() {
    for (const fn of listeners) fn({ accounts: connected });
  }

  function signOne({ account, transaction }) {
    const i = accounts.findIndex((a) => a.address === account.address);
    if (i < 0) throw new Error('unknown account ' + account.address);
    if (window.__testWallet.reject) throw new Error('User rejected the request.');
    const tx = Uint8Array.from(transaction);
    const [nSigs, sigOff] = shortVec(tx, 0);
    const msgOff = sigOff + 64 * nSigs;
    const message = tx.subarray(msgOff);
    let h = 0;
    if (message[0] & 0x80) h = 1; // versioned message prefix
    const numRequired = message[h];
    const [nKeys, keysOff] = shortVec(message, h + 3);
    let slot = -1;
    for (let k = 0; k < Math.min(numRequired, nKeys); k++) {
      if (base58(message.subarray(keysOff + 32 * k, keysOff + 32 * (k + 1))) === account.address) slot = k;
    }
    if (slot < 0) throw new Error('the transaction does not ask ' + account.address + ' to sign');
    const sig = nacl.sign.detached(message, keys[i].secretKey);
    const out = tx.slice();
    out.set(sig, sigOff + 64 * slot);
    log.push({ account: account.address, at: Date.now(), bytes: tx.length });
    return { signedTransaction: out };
  }

  const wallet = {
    version: '1.0.0',
    name: 'Test Wallet (e2e)',
    icon: 'data:image/svg+xml;base64,' + btoa('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#7a3cff"/><text x="16" y="22" font-size="16" text-anchor="middle" fill="#fff" font-family="sans-serif">T</text></svg>'),
    chains,
    get accounts() {
      return connected;
    },
    features: {
      'standard:connect': {
        version: '1.0.0',
        async connect() {
          connected = accounts.slice();
          emit();
          return { accounts: connected };
        },
      },
      'standard:disconnect': {
        version: '1.0.0',
        async disconnect() {
          connected = [];
          emit();
        },
      },
      'standard:events': {
        version: '1.0.0',
        on(event, listener) {
          if (event !== 'change') return () => {};
          listeners.add(listener);
          return () => listeners.delete(listener);
        },
      },
      'solana:signTransaction': {
        version: '1.0.0',
        supportedTransactionVersions: ['legacy', 0],
        async signTransaction(...inputs) {
          return inputs.map(signOne);
        },
      },
    },
  };

  const callback = ({ register }) => register(wallet);
  try {
    window.dispatchEvent(new CustomEvent('wallet-standard:register-wallet', { detail: callback }));
  } catch (e) {
    console.error('test wallet: register-wallet event failed', e);
  }
  try {
    window.addEventListener('wallet-standard:app-ready', ({ detail: api }) => callback(api));
  } catch (e) {
    console.error('test wallet: app-ready listener failed', e);
  }
})(__SECRET_KEYS__);
