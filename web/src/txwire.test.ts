import nacl from 'tweetnacl';
import { describe, expect, test } from 'vitest';
import { checkSigned, checkUnsigned, contains, fromBase58, parseMessage, parseTransaction, toBase58, toBase64, WireError } from './txwire';

// A legacy message as solana-go builds one: header (2 signers, 0 read-only signed, 1 read-only
// unsigned), 4 static keys (payer, member, proposal, program), blockhash, one instruction.
function fixture() {
  const payer = nacl.sign.keyPair();
  const member = nacl.sign.keyPair();
  const proposal = nacl.randomBytes(32);
  const program = nacl.randomBytes(32);
  const blockhash = nacl.randomBytes(32);
  const data = [1, 2, 3, 4, 5, 6, 7, 8];
  const message = Uint8Array.from([
    2, 0, 1,
    4, ...payer.publicKey, ...member.publicKey, ...proposal, ...program,
    ...blockhash,
    1, 3, 2, 1, 2, data.length, ...data,
  ]);
  const wire = Uint8Array.from([2, ...new Uint8Array(128), ...message]);
  return { payer, member, proposal, program, message, wire };
}

describe('base58', () => {
  test('encodes as Solana addresses are written', () => {
    expect(toBase58(new Uint8Array(32))).toBe('11111111111111111111111111111111');
    expect(toBase58(Uint8Array.from([0, 0, 1]))).toBe('112');
    expect(toBase58(Uint8Array.from([255, 255]))).toBe('LUv');
  });

  test('decodes what it encodes, leading zeros kept; refuses what is not base58', () => {
    for (const b of [new Uint8Array(32), Uint8Array.from([0, 0, 1]), nacl.randomBytes(32), Uint8Array.from([0, ...nacl.randomBytes(31)])]) {
      expect(fromBase58(toBase58(b))).toEqual(b);
    }
    expect(fromBase58('0OIl')).toBeUndefined();
  });

  test('finds a key inside bytes', () => {
    const key = nacl.randomBytes(32);
    expect(contains(Uint8Array.from([9, 9, ...key, 9]), key)).toBe(true);
    expect(contains(key.subarray(0, 31), key)).toBe(false);
  });
});

describe('wire transactions', () => {
  test('a message names its signers and programs', () => {
    const f = fixture();
    const tx = parseTransaction(f.wire);
    expect(tx.signatures).toHaveLength(2);
    const info = parseMessage(tx.message);
    expect(info.version).toBe('legacy');
    expect(info.requiredSigners).toEqual([toBase58(f.payer.publicKey), toBase58(f.member.publicKey)]);
    expect(info.programs).toEqual([toBase58(f.program)]);
    expect(info.accountKeys).toContain(toBase58(f.proposal));
  });

  test('a v0 message is read past its version prefix', () => {
    const f = fixture();
    const v0 = Uint8Array.from([0x80, ...f.message, 0]); // no address table lookups
    expect(parseMessage(v0).version).toBe(0);
    expect(parseMessage(v0).programs).toEqual([toBase58(f.program)]);
  });

  test('truncated bytes are refused, not misread', () => {
    const f = fixture();
    for (const n of [0, 1, 60, 130, 140, f.wire.length - 3]) {
      expect(() => parseMessage(parseTransaction(f.wire.subarray(0, n)).message), `length ${n}`).toThrow(WireError);
    }
  });

  test('the unsigned check accepts the right signer and program', () => {
    const f = fixture();
    const c = checkUnsigned(toBase64(f.wire), toBase64(f.message), toBase58(f.member.publicKey), toBase58(f.program));
    expect(c.signerIndex).toBe(1);
  });

  test('the unsigned check refuses a message that differs, a stranger, another program', () => {
    const f = fixture();
    const other = f.message.slice();
    other[other.length - 1] ^= 1;
    const member = toBase58(f.member.publicKey);
    const program = toBase58(f.program);
    expect(() => checkUnsigned(toBase64(f.wire), toBase64(other), member, program)).toThrow(/does not carry the message/);
    expect(() => checkUnsigned(toBase64(f.wire), toBase64(f.message), toBase58(nacl.randomBytes(32)), program)).toThrow(/does not ask/);
    expect(() => checkUnsigned(toBase64(f.wire), toBase64(f.message), member, toBase58(nacl.randomBytes(32)))).toThrow(/governance program/);
  });

  test('the signed check wants the same message with the signer signature in its slot', () => {
    const f = fixture();
    const c = checkUnsigned(toBase64(f.wire), toBase64(f.message), toBase58(f.member.publicKey), toBase58(f.program));
    const sig = nacl.sign.detached(f.message, f.member.secretKey);
    const signed = f.wire.slice();
    signed.set(sig, 1 + 64);
    expect(() => checkSigned(signed, c)).not.toThrow();
    expect(nacl.sign.detached.verify(parseTransaction(signed).message, parseTransaction(signed).signatures[1], f.member.publicKey)).toBe(true);

    expect(() => checkSigned(f.wire, c)).toThrow(/without your signature/);
    const changed = signed.slice();
    changed[changed.length - 1] ^= 1;
    expect(() => checkSigned(changed, c)).toThrow(/changed the transaction/);
  });
});
