// Just enough of Solana's transaction wire format to check, before and after the wallet signs,
// that the bytes are the ones the page showed: signatures (compact-u16 count, 64 bytes each)
// followed by the message; the message's header and account keys say who must sign and which
// programs run. Legacy and v0 messages share that prefix.

export function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function toBase64(b: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < b.length; i += 0x8000) bin += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return btoa(bin);
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

export function toBase58(b: Uint8Array): string {
  const digits: number[] = [];
  for (const byte of b) {
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
  for (const byte of b) {
    if (byte !== 0) break;
    out += '1';
  }
  for (let i = digits.length - 1; i >= 0; i--) out += B58[digits[i]];
  return out;
}

/** fromBase58 decodes a Solana address; undefined when it is not base58. */
export function fromBase58(s: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (const ch of s) {
    let carry = B58.indexOf(ch);
    if (carry < 0) return undefined;
    for (let i = 0; i < bytes.length; i++) {
      carry += bytes[i] * 58;
      bytes[i] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (const ch of s) {
    if (ch !== '1') break;
    bytes.push(0);
  }
  return Uint8Array.from(bytes.reverse());
}

/** contains says whether needle occurs in hay (a key or a hash inside instruction data). */
export function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

export class WireError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WireError';
  }
}

function shortVec(b: Uint8Array, off: number): [number, number] {
  let value = 0;
  for (let i = 0; i < 3; i++) {
    if (off >= b.length) throw new WireError('the transaction ends inside a length');
    const byte = b[off++];
    value |= (byte & 0x7f) << (7 * i);
    if ((byte & 0x80) === 0) return [value, off];
  }
  throw new WireError('a length is longer than three bytes');
}

export interface WireTx {
  signatures: Uint8Array[];
  message: Uint8Array;
}

export function parseTransaction(b: Uint8Array): WireTx {
  const [n, off] = shortVec(b, 0);
  const end = off + 64 * n;
  if (n === 0 || end > b.length) throw new WireError('the transaction has no room for its signatures');
  const signatures: Uint8Array[] = [];
  for (let i = 0; i < n; i++) signatures.push(b.subarray(off + 64 * i, off + 64 * (i + 1)));
  return { signatures, message: b.subarray(end) };
}

export interface MessageInfo {
  version: 'legacy' | number;
  requiredSigners: string[];
  accountKeys: string[];
  programs: string[];
}

export function parseMessage(m: Uint8Array): MessageInfo {
  let off = 0;
  let version: 'legacy' | number = 'legacy';
  if (m.length > 0 && (m[0] & 0x80) !== 0) {
    version = m[0] & 0x7f;
    off = 1;
  }
  if (off + 3 > m.length) throw new WireError('the message has no header');
  const numRequired = m[off];
  off += 3;
  const [nKeys, keysOff] = shortVec(m, off);
  off = keysOff;
  if (off + 32 * nKeys + 32 > m.length) throw new WireError('the message ends inside its account keys');
  const accountKeys: string[] = [];
  for (let i = 0; i < nKeys; i++) accountKeys.push(toBase58(m.subarray(off + 32 * i, off + 32 * (i + 1))));
  off += 32 * nKeys + 32; // keys, then the recent blockhash
  if (numRequired > nKeys) throw new WireError('the message needs more signers than it has keys');
  const [nIx, ixOff] = shortVec(m, off);
  off = ixOff;
  const programs: string[] = [];
  for (let i = 0; i < nIx; i++) {
    if (off >= m.length) throw new WireError('the message ends inside an instruction');
    const programIndex = m[off++];
    if (programIndex >= nKeys) throw new WireError('an instruction names a program outside the static keys');
    programs.push(accountKeys[programIndex]);
    const [nAcc, accOff] = shortVec(m, off);
    off = accOff + nAcc;
    const [nData, dataOff] = shortVec(m, off);
    off = dataOff + nData;
    if (off > m.length) throw new WireError('the message ends inside an instruction');
  }
  return { version, requiredSigners: accountKeys.slice(0, numRequired), accountKeys, programs };
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export interface CheckedUnsigned {
  wire: Uint8Array;
  message: Uint8Array;
  info: MessageInfo;
  signerIndex: number;
}

/**
 * checkUnsigned verifies what the API built before anyone is asked to sign it: the wire
 * transaction carries exactly the message the API says it does, the signer is one of its
 * required signers, and it runs the governance program.
 */
export function checkUnsigned(transactionB64: string, messageB64: string, signer: string, programId: string): CheckedUnsigned {
  const wire = fromBase64(transactionB64);
  const tx = parseTransaction(wire);
  const message = fromBase64(messageB64);
  if (!equalBytes(tx.message, message)) throw new WireError('the transaction does not carry the message the server says it does');
  const info = parseMessage(message);
  if (tx.signatures.length !== info.requiredSigners.length) throw new WireError('the transaction has the wrong number of signature slots');
  const signerIndex = info.requiredSigners.indexOf(signer);
  if (signerIndex < 0) throw new WireError(`the transaction does not ask ${signer} to sign`);
  if (!info.programs.includes(programId)) throw new WireError(`the transaction does not call the governance program ${programId}`);
  return { wire, message, info, signerIndex };
}

/**
 * checkSigned verifies the wallet's answer: the same message as reviewed, with the signer's
 * signature filled in.
 */
export function checkSigned(signed: Uint8Array, reviewed: CheckedUnsigned): void {
  const tx = parseTransaction(signed);
  if (!equalBytes(tx.message, reviewed.message)) throw new WireError('the wallet changed the transaction; nothing was sent');
  const sig = tx.signatures[reviewed.signerIndex];
  if (!sig || sig.every((x) => x === 0)) throw new WireError('the wallet returned the transaction without your signature');
}
