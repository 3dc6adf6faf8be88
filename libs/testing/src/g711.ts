/**
 * G.711 (ITU-T G.711) A-law and µ-law sample conversion, for building test RTP captures. Segment search as
 * in the classic reference implementation; not optimised (tests only).
 */

const ALAW_SEG_END = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];
const ULAW_SEG_END = [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff];
const ULAW_BIAS = 0x84;
const ULAW_CLIP = 8159;

function segment(value: number, ends: readonly number[]): number {
  for (let i = 0; i < ends.length; i++) if (value <= (ends[i] as number)) return i;
  return ends.length;
}

export function linearToAlaw(sample: number): number {
  let pcm = sample >> 3;
  let mask = 0xd5;
  if (pcm < 0) {
    mask = 0x55;
    pcm = -pcm - 1;
  }
  const seg = segment(pcm, ALAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  const mantissa = seg < 2 ? (pcm >> 1) & 0x0f : (pcm >> seg) & 0x0f;
  return ((seg << 4) | mantissa) ^ mask;
}

export function alawToLinear(code: number): number {
  const a = code ^ 0x55;
  let t = (a & 0x0f) << 4;
  const seg = (a & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

export function linearToUlaw(sample: number): number {
  let pcm = sample >> 2;
  let mask = 0xff;
  if (pcm < 0) {
    pcm = -pcm;
    mask = 0x7f;
  }
  if (pcm > ULAW_CLIP) pcm = ULAW_CLIP;
  pcm += ULAW_BIAS >> 2;
  const seg = segment(pcm, ULAW_SEG_END);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((pcm >> (seg + 1)) & 0x0f)) ^ mask;
}

export function ulawToLinear(code: number): number {
  const u = ~code & 0xff;
  let t = ((u & 0x0f) << 3) + ULAW_BIAS;
  t <<= (u & 0x70) >> 4;
  return u & 0x80 ? ULAW_BIAS - t : t - ULAW_BIAS;
}

export type G711Codec = 'PCMA' | 'PCMU';

export function encodeG711(samples: Int16Array, codec: G711Codec): Buffer {
  const out = Buffer.alloc(samples.length);
  const enc = codec === 'PCMA' ? linearToAlaw : linearToUlaw;
  for (let i = 0; i < samples.length; i++) out[i] = enc(samples[i] as number);
  return out;
}

export function decodeG711(bytes: Uint8Array, codec: G711Codec): Int16Array {
  const out = new Int16Array(bytes.length);
  const dec = codec === 'PCMA' ? alawToLinear : ulawToLinear;
  for (let i = 0; i < bytes.length; i++) out[i] = dec(bytes[i] as number);
  return out;
}
