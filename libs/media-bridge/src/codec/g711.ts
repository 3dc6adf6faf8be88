/**
 * G.711 µ-law (PCMU) and A-law (PCMA) with lookup tables (ITU-T G.711; bit-exact with the G.191 reference
 * `ulaw_compress/expand` and `alaw_compress/expand`).
 *
 * Encoding depends only on the top 14 bits (µ-law) or 12 bits (A-law, after the sign) of a 16-bit sample,
 * so the encode tables have 16384 and 4096 entries indexed by `(sample >> 2) & 0x3fff` and
 * `(sample >> 4) & 0xfff`; decoding uses 256-entry tables. Negative samples use one's complement as G.191
 * does (`~x`, not `-x`), which is what makes the tables bit-exact with it.
 */

export type G711Law = 'PCMU' | 'PCMA';

/** Static RTP payload types (RFC 3551 §6). */
export const PCMU_PAYLOAD_TYPE = 0;
export const PCMA_PAYLOAD_TYPE = 8;

function mulawCompress(sample: number): number {
  const negative = sample < 0;
  let magnitude = ((negative ? ~sample : sample) >> 2) + 33; // 14-bit magnitude plus the bias
  if (magnitude > 0x1fff) magnitude = 0x1fff;
  const segment = 33 - Math.clz32(magnitude >> 6); // 1..8: one more than the bit length of magnitude >> 6
  const code = ((8 - segment) << 4) | (0x0f - ((magnitude >> segment) & 0x0f));
  return negative ? code : code | 0x80;
}

function mulawExpand(code: number): number {
  const inverted = ~code & 0xff;
  const exponent = (inverted >> 4) & 0x07;
  const mantissa = inverted & 0x0f;
  const step = 4 << (exponent + 1);
  const magnitude = (0x80 << exponent) + step * mantissa + step / 2 - 4 * 33;
  return code & 0x80 ? magnitude : -magnitude;
}

function alawCompress(sample: number): number {
  const negative = sample < 0;
  let ix = (negative ? ~sample : sample) >> 4; // 0..2047
  if (ix > 15) {
    const exponent = 32 - Math.clz32(ix >> 4); // 1..7: number of doublings above the first segment
    ix = (((ix >> (exponent - 1)) - 16) | (exponent << 4)) & 0x7f;
  }
  return (negative ? ix : ix | 0x80) ^ 0x55;
}

function alawExpand(code: number): number {
  const ix = (code ^ 0x55) & 0x7f;
  const exponent = ix >> 4;
  let mantissa = ix & 0x0f;
  if (exponent > 0) mantissa += 16;
  mantissa = (mantissa << 4) + 8;
  if (exponent > 1) mantissa <<= exponent - 1;
  return code > 127 ? mantissa : -mantissa;
}

function buildTable<T extends Int16Array | Uint8Array>(table: T, fill: (i: number) => number): T {
  for (let i = 0; i < table.length; i++) table[i] = fill(i);
  return table;
}

/** 256-entry decode tables: code -> 16-bit linear sample. */
export const MULAW_DECODE: Readonly<Int16Array> = buildTable(new Int16Array(256), mulawExpand);
export const ALAW_DECODE: Readonly<Int16Array> = buildTable(new Int16Array(256), alawExpand);
/** Encode tables, indexed by `(sample >> 2) & 0x3fff` (µ-law) and `(sample >> 4) & 0xfff` (A-law). */
const MULAW_ENCODE = buildTable(new Uint8Array(1 << 14), (i) => mulawCompress(((i << 18) >> 18) << 2));
const ALAW_ENCODE = buildTable(new Uint8Array(1 << 12), (i) => alawCompress(((i << 20) >> 20) << 4));

export function mulawEncodeSample(sample: number): number {
  return MULAW_ENCODE[(sample >> 2) & 0x3fff] as number;
}

export function alawEncodeSample(sample: number): number {
  return ALAW_ENCODE[(sample >> 4) & 0xfff] as number;
}

export function mulawDecodeSample(code: number): number {
  return MULAW_DECODE[code & 0xff] as number;
}

export function alawDecodeSample(code: number): number {
  return ALAW_DECODE[code & 0xff] as number;
}

/** Encodes `count` samples of `pcm` (default all) into `out`; returns the count. */
export function encodeG711(law: G711Law, pcm: Int16Array, out: Uint8Array, count = pcm.length): number {
  if (count > out.length || count > pcm.length) throw new RangeError('G.711 encode: buffer too small');
  if (law === 'PCMU') for (let i = 0; i < count; i++) out[i] = MULAW_ENCODE[((pcm[i] as number) >> 2) & 0x3fff] as number;
  else for (let i = 0; i < count; i++) out[i] = ALAW_ENCODE[((pcm[i] as number) >> 4) & 0xfff] as number;
  return count;
}

/**
 * Encodes little-endian 16-bit PCM bytes (as Opus decoders return them) without an Int16Array view.
 * Returns the number of samples written (`byteLength / 2`).
 */
export function encodeG711FromLe(law: G711Law, pcmLe: Uint8Array, out: Uint8Array, byteLength = pcmLe.length): number {
  const count = byteLength >> 1;
  if (count > out.length || byteLength > pcmLe.length) throw new RangeError('G.711 encode: buffer too small');
  const table = law === 'PCMU' ? MULAW_ENCODE : ALAW_ENCODE;
  const shift = law === 'PCMU' ? 2 : 4;
  const mask = law === 'PCMU' ? 0x3fff : 0xfff;
  for (let i = 0, b = 0; i < count; i++, b += 2) {
    const sample = (((pcmLe[b + 1] as number) << 24) | ((pcmLe[b] as number) << 16)) >> 16;
    out[i] = table[(sample >> shift) & mask] as number;
  }
  return count;
}

/** Decodes `count` codes (default all) into `out`; returns the count. */
export function decodeG711(law: G711Law, codes: Uint8Array, out: Int16Array, count = codes.length): number {
  if (count > out.length || count > codes.length) throw new RangeError('G.711 decode: buffer too small');
  const table = law === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
  for (let i = 0; i < count; i++) out[i] = table[codes[i] as number] as number;
  return count;
}
