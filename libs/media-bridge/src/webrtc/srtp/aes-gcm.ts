/**
 * AES-128-GCM (NIST SP 800-38D) for SRTP packets (RFC 7714) without a native cipher object per packet:
 * the counter blocks are encrypted by one reused AES-128-ECB cipher in a single call, and GHASH runs in
 * JavaScript with Shoup's 8-bit tables (256 multiples of H, 4 KB per key). node:crypto's GCM builds a
 * stream-based Cipheriv with a native handle for every packet; at 100 calls that garbage alone made the
 * young-generation collections take 7-10 ms each (the packets waiting behind them set the p99 latency).
 * Only the 12-byte IVs SRTP uses are supported.
 */
import { createCipheriv, type Cipher } from 'node:crypto';

/** x^4 reduction constants for Shoup's method (the top 16 bits of the 64-bit R values in OpenSSL's gcm128.c). */
const REM_4BIT = new Int32Array([0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0, 0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0].map((x) => x << 16));
/** The same for a shift by 8 bits: two 4-bit shifts, the first one's reduction shifted along by the second. */
const REM_8BIT = Int32Array.from({ length: 256 }, (_, k) => ((REM_4BIT[k & 0xf] as number) >>> 4) ^ (REM_4BIT[k >>> 4] as number));

/** Writes `count` counter blocks IV || 1, IV || 2, ... (J0 and the counters after it) into `out` at `off`. */
export function writeCounterBlocks(out: Buffer, off: number, iv: Uint8Array, count: number): void {
  for (let k = 0; k < count; k++) {
    const o = off + 16 * k;
    for (let i = 0; i < 12; i++) out[o + i] = iv[i] as number;
    out.writeUInt32BE(k + 1, o + 12);
  }
}

export class AesGcm {
  readonly #ecb: Cipher;
  /**
   * Htable[b] = b * H in GF(2^128) for each byte b (bit 7 of b standing for H, bit 0 for H * x^7, GCM's
   * reflected order), 4 big-endian 32-bit words each: 4 KB per key, one table lookup per byte of X.
   */
  readonly #h = new Int32Array(256 * 4);
  readonly #x = new Int32Array(4);
  #blocks = Buffer.alloc(16 * 96);

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError('AES-128-GCM needs a 16-byte key');
    this.#ecb = createCipheriv('aes-128-ecb', key, null).setAutoPadding(false);
    const hBytes = this.#ecb.update(Buffer.alloc(16));
    const t = this.#h;
    let v = [hBytes.readInt32BE(0), hBytes.readInt32BE(4), hBytes.readInt32BE(8), hBytes.readInt32BE(12)];
    for (let bit = 128; bit >= 1; bit >>= 1) {
      for (let k = 0; k < 4; k++) t[4 * bit + k] = v[k] as number;
      // times x: one bit right, reduced by x^128 = x^7 + x^2 + x + 1
      const lsb = (v[3] as number) & 1;
      v = [(v[0] as number) >>> 1, ((v[1] as number) >>> 1) | ((v[0] as number) << 31), ((v[2] as number) >>> 1) | ((v[1] as number) << 31), ((v[3] as number) >>> 1) | ((v[2] as number) << 31)];
      if (lsb) v[0] = (v[0] as number) ^ (0xe1000000 | 0);
    }
    for (let i = 3; i < 256; i++) {
      const high = 1 << (31 - Math.clz32(i));
      if (high === i) continue;
      for (let k = 0; k < 4; k++) t[4 * i + k] = (t[4 * high + k] as number) ^ (t[4 * (i ^ high) + k] as number);
    }
  }

  /**
   * Encrypts `plaintext` into `out` at `outOff` followed by the 16-byte tag; `aad` is authenticated only.
   * `out` may be the buffer `aad` lives in (SRTP: the header precedes the payload).
   */
  seal(iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, outOff: number): void {
    const ks = this.#keystream(iv, plaintext.length);
    const n = plaintext.length;
    for (let i = 0; i < n; i++) out[outOff + i] = (plaintext[i] as number) ^ (ks[16 + i] as number);
    this.#tag(aad, 0, aad.length, out, outOff, outOff + n, ks, 0, out, outOff + n);
  }

  /**
   * Checks the tag of `ciphertext` (with `aad`) and, only if it matches, decrypts it in place. Returns false
   * (nothing decrypted) for a forged packet.
   */
  openInPlace(iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array, tag: Uint8Array): boolean {
    return this.#open(this.#keystream(iv, ciphertext.length), 0, aad, 0, aad.length, ciphertext, 0, ciphertext.length, tag, 0);
  }

  /**
   * The counter blocks (each IV || 32-bit counter) encrypted: E(J0) and the keystream of as many packets as
   * the caller laid out, in one cipher call (srtp-session.ts makes runs of consecutive SRTP packets).
   */
  encryptBlocks(blocks: Uint8Array): Buffer {
    return this.#ecb.update(blocks);
  }

  /**
   * `seal` for a packet whose AAD is its own first `aadEnd` bytes (an SRTP header), with the packet's
   * E(J0) and keystream at ks[ksOff..] (from `encryptBlocks`): ciphertext and tag follow at `aadEnd`. Takes
   * no views of `buf` (each would be an object per packet for the collector).
   */
  sealWith(ks: Uint8Array, ksOff: number, buf: Uint8Array, aadEnd: number, plaintext: Uint8Array): void {
    const n = plaintext.length;
    const k = ksOff + 16;
    for (let i = 0; i < n; i++) buf[aadEnd + i] = (plaintext[i] as number) ^ (ks[k + i] as number);
    this.#tag(buf, 0, aadEnd, buf, aadEnd, aadEnd + n, ks, ksOff, buf, aadEnd + n);
  }

  /**
   * `openInPlace` for a packet laid out as AAD [0, aadEnd), ciphertext [aadEnd, tagAt), tag [tagAt, tagAt + 16)
   * (an SRTP packet), with its E(J0) and keystream at ks[ksOff..], without views of it.
   */
  openWith(ks: Uint8Array, ksOff: number, packet: Uint8Array, aadEnd: number, tagAt: number): boolean {
    return this.#open(ks, ksOff, packet, 0, aadEnd, packet, aadEnd, tagAt, packet, tagAt);
  }

  #open(ks: Uint8Array, ksOff: number, aad: Uint8Array, aStart: number, aEnd: number, ct: Uint8Array, cStart: number, cEnd: number, tag: Uint8Array, tagOff: number): boolean {
    const n = cEnd - cStart;
    const expected = this.#tagBytes;
    this.#tag(aad, aStart, aEnd, ct, cStart, cEnd, ks, ksOff, expected, 0);
    let diff = 0;
    for (let i = 0; i < 16; i++) diff |= (expected[i] as number) ^ (tag[tagOff + i] as number);
    if (diff !== 0) return false;
    const k = ksOff + 16;
    for (let i = 0; i < n; i++) ct[cStart + i] = (ct[cStart + i] as number) ^ (ks[k + i] as number);
    return true;
  }

  readonly #tagBytes = new Uint8Array(16);

  /** E(J0) followed by the keystream for `length` bytes (J0 = IV || 1; counters from J0 + 1). */
  #keystream(iv: Uint8Array, length: number): Buffer {
    const count = 1 + Math.ceil(length / 16);
    if (count * 16 > this.#blocks.length) this.#blocks = Buffer.alloc(count * 32);
    const b = this.#blocks;
    writeCounterBlocks(b, 0, iv, count);
    return this.#ecb.update(b.subarray(0, count * 16));
  }

  /** GHASH(aad[aStart, aEnd), ct[cStart, cEnd)) XOR E(J0) (at ks[ksOff..]), written to out[off..off+16). */
  #tag(aad: Uint8Array, aStart: number, aEnd: number, ct: Uint8Array, cStart: number, cEnd: number, ks: Uint8Array, ksOff: number, out: Uint8Array, off: number): void {
    const x = this.#x;
    x.fill(0);
    this.#absorb(aad, aStart, aEnd);
    this.#absorb(ct, cStart, cEnd);
    // the length block: bit lengths of AAD and ciphertext, 64 bits each (both fit in 32)
    x[1] = (x[1] as number) ^ ((aEnd - aStart) * 8);
    x[3] = (x[3] as number) ^ ((cEnd - cStart) * 8);
    this.#mult();
    for (let k = 0; k < 4; k++) {
      const w = x[k] as number;
      const o = off + 4 * k;
      const e = ksOff + 4 * k;
      out[o] = ((w >>> 24) & 0xff) ^ (ks[e] as number);
      out[o + 1] = ((w >>> 16) & 0xff) ^ (ks[e + 1] as number);
      out[o + 2] = ((w >>> 8) & 0xff) ^ (ks[e + 2] as number);
      out[o + 3] = (w & 0xff) ^ (ks[e + 3] as number);
    }
  }

  /** X = (X xor block) * H for each 16-byte block of data[start, end) (the last one zero-padded). */
  #absorb(data: Uint8Array, start: number, end: number): void {
    const x = this.#x;
    for (let p = start; p < end; p += 16) {
      for (let k = 0; k < 4; k++) {
        let w = 0;
        for (let j = 0; j < 4; j++) {
          const i = p + 4 * k + j;
          w = (w << 8) | (i < end ? (data[i] as number) : 0);
        }
        x[k] = (x[k] as number) ^ w;
      }
      this.#mult();
    }
  }

  /** X = X * H (Shoup's method with 8-bit tables, as OpenSSL's gcm_gmult_8bit, on 32-bit words). */
  #mult(): void {
    const x = this.#x;
    const t = this.#h;
    // byte i of X (big-endian) is (x[i >> 2] >>> (24 - 8 * (i & 3))) & 0xff, written out (a closure here
    // was allocated on every call: ~10 per packet)
    let b = (x[3] as number) & 0xff;
    let z0 = t[4 * b] as number;
    let z1 = t[4 * b + 1] as number;
    let z2 = t[4 * b + 2] as number;
    let z3 = t[4 * b + 3] as number;
    for (let cnt = 14; cnt >= 0; cnt--) {
      const rem = z3 & 0xff;
      z3 = (z3 >>> 8) | (z2 << 24);
      z2 = (z2 >>> 8) | (z1 << 24);
      z1 = (z1 >>> 8) | (z0 << 24);
      z0 = (z0 >>> 8) ^ (REM_8BIT[rem] as number);
      b = ((x[cnt >> 2] as number) >>> (24 - 8 * (cnt & 3))) & 0xff;
      z0 ^= t[4 * b] as number;
      z1 ^= t[4 * b + 1] as number;
      z2 ^= t[4 * b + 2] as number;
      z3 ^= t[4 * b + 3] as number;
    }
    x[0] = z0;
    x[1] = z1;
    x[2] = z2;
    x[3] = z3;
  }
}
