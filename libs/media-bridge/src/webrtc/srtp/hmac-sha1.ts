/**
 * HMAC-SHA1 (RFC 2104, FIPS 180-4) for SRTP packet authentication (RFC 3711 §4.2.1), in plain JavaScript
 * with the key's inner and outer pad states computed once: an SRTP tag then costs three SHA-1 blocks for a
 * voice packet, where `crypto.createHmac` would build a new native object and hash the two pad blocks again
 * for every packet (measured about three times slower for 60-byte payloads).
 */

const BLOCK = 64;

/** SHA-1 chaining state: five 32-bit words. */
type State = Int32Array;

const INIT = new Int32Array([0x67452301, 0xefcdab89 | 0, 0x98badcfe | 0, 0x10325476, 0xc3d2e1f0 | 0]);

/** One SHA-1 compression of the 64-byte block at `data[off..off+64)` into `h`. */
function compress(h: State, w: Int32Array, data: Uint8Array, off: number): void {
  for (let i = 0; i < 16; i++) {
    const j = off + 4 * i;
    w[i] = ((data[j] as number) << 24) | ((data[j + 1] as number) << 16) | ((data[j + 2] as number) << 8) | (data[j + 3] as number);
  }
  for (let i = 16; i < 80; i++) {
    const x = (w[i - 3] as number) ^ (w[i - 8] as number) ^ (w[i - 14] as number) ^ (w[i - 16] as number);
    w[i] = (x << 1) | (x >>> 31);
  }
  let a = h[0] as number;
  let b = h[1] as number;
  let c = h[2] as number;
  let d = h[3] as number;
  let e = h[4] as number;
  for (let i = 0; i < 80; i++) {
    let f: number;
    let k: number;
    if (i < 20) {
      f = (b & c) | (~b & d);
      k = 0x5a827999;
    } else if (i < 40) {
      f = b ^ c ^ d;
      k = 0x6ed9eba1;
    } else if (i < 60) {
      f = (b & c) | (b & d) | (c & d);
      k = 0x8f1bbcdc | 0;
    } else {
      f = b ^ c ^ d;
      k = 0xca62c1d6 | 0;
    }
    const t = (((a << 5) | (a >>> 27)) + f + e + k + (w[i] as number)) | 0;
    e = d;
    d = c;
    c = (b << 30) | (b >>> 2);
    b = a;
    a = t;
  }
  h[0] = ((h[0] as number) + a) | 0;
  h[1] = ((h[1] as number) + b) | 0;
  h[2] = ((h[2] as number) + c) | 0;
  h[3] = ((h[3] as number) + d) | 0;
  h[4] = ((h[4] as number) + e) | 0;
}

/** An HMAC-SHA1 key, reusable for any number of messages (not safe to share between concurrent users). */
export class HmacSha1 {
  readonly #inner: State = new Int32Array(5);
  readonly #outer: State = new Int32Array(5);
  readonly #h: State = new Int32Array(5);
  readonly #w = new Int32Array(80);
  #buf = new Uint8Array(2048);

  constructor(key: Uint8Array) {
    if (key.length > BLOCK) throw new RangeError('HMAC-SHA1 keys longer than 64 bytes are not supported');
    const pad = new Uint8Array(BLOCK);
    for (const [state, byte] of [
      [this.#inner, 0x36],
      [this.#outer, 0x5c],
    ] as const) {
      pad.fill(byte);
      for (let i = 0; i < key.length; i++) pad[i] = (pad[i] as number) ^ (key[i] as number);
      state.set(INIT);
      compress(state, this.#w, pad, 0);
    }
  }

  /**
   * Writes the first `tagLength` bytes of HMAC(key, message || uint32be(suffix)) into `out` at `outOff`
   * (SRTP authenticates the packet followed by its 32-bit rollover counter).
   */
  tagWithSuffix(message: Uint8Array, start: number, end: number, suffix: number, out: Uint8Array, outOff: number, tagLength: number): void {
    const len = end - start + 4;
    const padded = (len + 9 + BLOCK - 1) & ~(BLOCK - 1);
    if (padded > this.#buf.length) this.#buf = new Uint8Array(padded * 2);
    const buf = this.#buf;
    buf.set(message.subarray(start, end), 0);
    let p = end - start;
    buf[p++] = suffix >>> 24;
    buf[p++] = (suffix >>> 16) & 0xff;
    buf[p++] = (suffix >>> 8) & 0xff;
    buf[p++] = suffix & 0xff;
    const h = this.#h;
    h.set(this.#inner);
    this.#finish(h, buf, len, BLOCK);
    // outer hash over the 20-byte inner digest
    for (let i = 0; i < 5; i++) {
      const v = h[i] as number;
      buf[4 * i] = v >>> 24;
      buf[4 * i + 1] = (v >>> 16) & 0xff;
      buf[4 * i + 2] = (v >>> 8) & 0xff;
      buf[4 * i + 3] = v & 0xff;
    }
    h.set(this.#outer);
    this.#finish(h, buf, 20, BLOCK);
    for (let i = 0; i < tagLength; i++) out[outOff + i] = ((h[i >> 2] as number) >>> (24 - 8 * (i & 3))) & 0xff;
  }

  /** Full 20-byte HMAC of `message` (tests and key checks). */
  digest(message: Uint8Array): Uint8Array {
    const out = new Uint8Array(20);
    const h = this.#h;
    const padded = (message.length + 9 + BLOCK - 1) & ~(BLOCK - 1);
    if (padded > this.#buf.length) this.#buf = new Uint8Array(padded * 2);
    this.#buf.set(message, 0);
    h.set(this.#inner);
    this.#finish(h, this.#buf, message.length, BLOCK);
    for (let i = 0; i < 5; i++) {
      const v = h[i] as number;
      this.#buf[4 * i] = v >>> 24;
      this.#buf[4 * i + 1] = (v >>> 16) & 0xff;
      this.#buf[4 * i + 2] = (v >>> 8) & 0xff;
      this.#buf[4 * i + 3] = v & 0xff;
    }
    h.set(this.#outer);
    this.#finish(h, this.#buf, 20, BLOCK);
    for (let i = 0; i < 20; i++) out[i] = ((h[i >> 2] as number) >>> (24 - 8 * (i & 3))) & 0xff;
    return out;
  }

  /** Pads `buf[0..len)` (a message that follows `prefixBytes` already hashed) and compresses it into `h`. */
  #finish(h: State, buf: Uint8Array, len: number, prefixBytes: number): void {
    const total = (len + 9 + BLOCK - 1) & ~(BLOCK - 1);
    buf[len] = 0x80;
    buf.fill(0, len + 1, total - 8);
    const bits = (len + prefixBytes) * 8;
    buf[total - 8] = 0;
    buf[total - 7] = 0;
    buf[total - 6] = 0;
    buf[total - 5] = 0;
    buf[total - 4] = bits >>> 24;
    buf[total - 3] = (bits >>> 16) & 0xff;
    buf[total - 2] = (bits >>> 8) & 0xff;
    buf[total - 1] = bits & 0xff;
    for (let off = 0; off < total; off += BLOCK) compress(h, this.#w, buf, off);
  }
}
