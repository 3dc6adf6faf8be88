import { createHash } from 'node:crypto';
import { goertzelRatio, ToneGenerator } from '../audio/tone';
import { G722_PAYLOAD_TYPE, G722_RTP_CLOCK_RATE, G722_SAMPLE_RATE, G722Decoder, G722Encoder } from './g722';

const FRAME_SAMPLES = 320; // 20 ms at 16 kHz
const FRAME_CODES = 160;
/** Peak of a sine at -10 dBFS (0 dBFS = full-scale sine). */
const MINUS_10_DBFS = Math.round(32767 * 10 ** (-10 / 20));
/** Start-up skipped before measuring: ~10 ms of adaptation plus the longest delay searched. */
const SKIP = 160 + 40;

/** Encodes and decodes in 20 ms frames, as an RTP stream does. */
function roundTrip(pcm: Int16Array): Int16Array {
  const enc = new G722Encoder();
  const dec = new G722Decoder();
  const codes = new Uint8Array(FRAME_CODES);
  const out = new Int16Array(pcm.length);
  for (let off = 0; off + FRAME_SAMPLES <= pcm.length; off += FRAME_SAMPLES) {
    expect(enc.encode(pcm.subarray(off, off + FRAME_SAMPLES), codes)).toBe(FRAME_CODES);
    expect(dec.decode(codes, out.subarray(off, off + FRAME_SAMPLES))).toBe(FRAME_SAMPLES);
  }
  return out;
}

/** SNR (dB) of output against the input delayed by `delay` samples, from sample `from`. */
function snrDb(input: Int16Array, output: Int16Array, delay: number, from = SKIP): number {
  let signal = 0;
  let noise = 0;
  for (let i = from; i < output.length; i++) {
    const x = input[i - delay] as number;
    signal += x * x;
    noise += ((output[i] as number) - x) ** 2;
  }
  return 10 * Math.log10(signal / noise);
}

/** The codec delay (0..40 samples) that best aligns output with input, and the SNR there. */
function bestAlignment(input: Int16Array, output: Int16Array): { delay: number; snr: number } {
  let best = { delay: -1, snr: -Infinity };
  for (let delay = 0; delay <= 40; delay++) {
    const snr = snrDb(input, output, delay);
    if (snr > best.snr) best = { delay, snr };
  }
  return best;
}

function rmsDb(x: Int16Array, from = SKIP): number {
  let sum = 0;
  for (let i = from; i < x.length; i++) sum += (x[i] as number) ** 2;
  return 10 * Math.log10(sum / (x.length - from));
}

function correlation(input: Int16Array, output: Int16Array, delay: number): number {
  let xy = 0;
  let xx = 0;
  let yy = 0;
  for (let i = SKIP; i < output.length; i++) {
    const x = input[i - delay] as number;
    const y = output[i] as number;
    xy += x * y;
    xx += x * x;
    yy += y * y;
  }
  return xy / Math.sqrt(xx * yy);
}

/** Deterministic pseudo-random 16-bit samples (full range). */
function noise(length: number, seed: number): Int16Array {
  let s = seed;
  return Int16Array.from({ length }, () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    return (s >> 15) - 32768;
  });
}

describe('G.722 64 kbit/s', () => {
  // measured: 300 Hz 60.4 dB, 1 kHz 47.4 dB, 3 kHz 41.3 dB, 6 kHz 27.0 dB; levels within 0.05 dB
  it.each([
    [300, 50],
    [1000, 40],
    [3000, 35],
    [6000, 22],
  ])('carries a %d Hz tone at -10 dBFS through encode and decode with SNR >= %d dB and the same level', (frequencyHz, minSnrDb) => {
    const pcm = new ToneGenerator(frequencyHz, G722_SAMPLE_RATE, MINUS_10_DBFS).next(G722_SAMPLE_RATE);

    const out = roundTrip(pcm);

    // 8000 samples hold a whole number of cycles of each tone, so Goertzel sees no leakage
    expect(goertzelRatio(out.subarray(8000, 16000), frequencyHz, G722_SAMPLE_RATE)).toBeGreaterThan(0.98);
    expect(bestAlignment(pcm, out).snr).toBeGreaterThanOrEqual(minSnrDb);
    expect(Math.abs(rmsDb(out) - rmsDb(pcm))).toBeLessThan(0.5);
  });

  /**
   * Bit-exactness with the G.722 that desk phones and baresip run: the codes for a 50 Hz - 7 kHz chirp (both
   * sub-bands) then quiet noise, and the samples those codes decode to, hashed. The hashes were measured
   * with spandsp 0.0.6 (Debian 12 libspandsp2, the codec of baresip's g722 module), encoding and decoding
   * this input on 2026-11-26; the tables of the encoder and decoder cannot be checked against each other.
   */
  it('codes and decodes a chirp and noise exactly as spandsp does (SHA-256 of its output)', () => {
    const n = G722_SAMPLE_RATE;
    let seed = 20261126;
    const rnd = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
    const pcm = new Int16Array(2 * n);
    for (let i = 0; i < n; i++) pcm[i] = Math.round(20000 * Math.sin(2 * Math.PI * ((50 * i) / n + 0.5 * 7000 * (i / n) ** 2)));
    for (let i = n; i < 2 * n; i++) pcm[i] = Math.round((rnd() * 2 - 1) * 3000);
    const enc = new G722Encoder();
    const dec = new G722Decoder();
    const codes = new Uint8Array(pcm.length / 2);
    const out = new Int16Array(pcm.length);
    for (let off = 0; off < pcm.length; off += FRAME_SAMPLES) {
      enc.encode(pcm.subarray(off, off + FRAME_SAMPLES), codes.subarray(off / 2));
      dec.decode(codes.subarray(off / 2, off / 2 + FRAME_CODES), out.subarray(off));
    }
    const sha = (b: Uint8Array | Int16Array): string => createHash('sha256').update(new Uint8Array(b.buffer, b.byteOffset, b.byteLength)).digest('hex');
    expect(sha(codes)).toBe('67ea0f8e014c06d6ab2f521f1c4cc6d78fb18c6f58985c1a13017c1f29c57c2d');
    expect(sha(out)).toBe('27af0307bd76c0b58487f5370d4385b7b716c99933d3f030354cbcf04ccc4fec');
  });

  it('delays a 100 Hz to 3.1 kHz chirp by the 22 samples of the QMF pair and otherwise keeps it (SNR 48 dB measured)', () => {
    const t = (i: number): number => i / G722_SAMPLE_RATE;
    const phase = (i: number): number => 2 * Math.PI * (100 * t(i) + 1500 * t(i) ** 2); // 100 Hz + 3 kHz/s
    const pcm = Int16Array.from({ length: G722_SAMPLE_RATE }, (_, i) => Math.round(10000 * Math.sin(phase(i))));

    const best = bestAlignment(pcm, roundTrip(pcm));

    expect(best.delay).toBe(22);
    expect(best.snr).toBeGreaterThan(40);
  });

  it('encodes silence from a fresh encoder as the idle code 0xFA, then idles near zero', () => {
    // Derived from the tables: DETL starts at 32, so the QUANTL levels Q6[1..3] * 32 >> 12 are 0 and
    // Q6[4] * 32 >> 12 = 1; an error of 0 falls in interval 4, code ILP[4] = 58. DETH starts at 8 and
    // 564 * 8 >> 12 = 1 > 0, so the higher band gives the small positive code IHP[1] = 3: (3 << 6) | 58.
    // INVQAL gives dlow = 1200 * 32 >> 15 = 1, which leaves the prediction at 0, so the second code repeats.
    const codes = new Uint8Array(G722_SAMPLE_RATE / 2);
    new G722Encoder().encode(new Int16Array(G722_SAMPLE_RATE), codes);
    const out = new Int16Array(G722_SAMPLE_RATE);
    new G722Decoder().decode(codes, out);

    expect(Array.from(codes.subarray(0, 2))).toEqual([0xfa, 0xfa]);
    expect(codes.every((c) => c >> 6 === 3)).toBe(true); // the higher band stays on its smallest positive level
    expect(out.every((x) => Math.abs(x) <= 8)).toBe(true);
  });

  it('decodes the idle code 0xFA from a fresh decoder to [0, -1, -1, 0]', () => {
    // Derived: rlow = 0 + (1040 * 32 >> 15) = 1 (QM6[58]), rhigh = 0 + (1616 * 8 >> 15) = 0 (QM2[3]); the
    // receive QMF then sees xd = xs = 1 and gives 3 >> 11 = 0 and -11 >> 11 = -1 (h0 = 3, h1 = -11), then
    // (3 - 11) >> 11 = -1 and (-11 + 53) >> 11 = 0 once the second pair arrives.
    const out = new Int16Array(4);

    expect(new G722Decoder().decode(Uint8Array.of(0xfa, 0xfa), out)).toBe(4);

    expect(Array.from(out)).toEqual([0, -1, -1, 0]);
  });

  it('codes one full-scale sample in either half of the first pair as the QMF and QUANTL tables give', () => {
    // Newer sample 32767: xA = 3 * 32767, xL = xH = 98301 >> 14 = 5. 5 < Q6[16] * 32 >> 12 = 6 first, so
    // IL = ILP[16] = 46; 5 >= 1 gives the large positive IH = 2: 0x80 | 46 = 0xAE.
    // Older sample 32767: xB = -11 * 32767, xL = -360437 >> 14 = -22, xH = 360437 >> 14 = 21. |el| is
    // 21 (one's complement), below Q6[29] * 32 >> 12 = 22 first, so IL = ILN[29] = 5; IH = 2: 0x85.
    const newer = new Uint8Array(1);
    const older = new Uint8Array(1);

    new G722Encoder().encode(Int16Array.of(0, 32767), newer);
    new G722Encoder().encode(Int16Array.of(32767, 0), older);

    expect([newer[0], older[0]]).toEqual([0xae, 0x85]);
  });

  it('saturates instead of wrapping on a full-scale tone and a full-scale square wave', () => {
    const tone = new ToneGenerator(1000, G722_SAMPLE_RATE, 32767).next(G722_SAMPLE_RATE);
    const square = Int16Array.from({ length: G722_SAMPLE_RATE }, (_, i) => (Math.floor(i / 20) % 2 ? 32767 : -32768));

    for (const pcm of [tone, square]) {
      const out = roundTrip(pcm);
      expect(correlation(pcm, out, 22)).toBeGreaterThan(0.9);
      // a wrapped sample has the opposite sign of a loud input: none may occur
      let flips = 0;
      for (let i = SKIP; i < out.length; i++) if ((out[i] as number) * (pcm[i - 22] as number) < -(16384 * 16384)) flips++;
      expect(flips).toBe(0);
    }
  });

  it('gives the same codes and samples in one call as in 20 ms chunks', () => {
    const pcm = noise(FRAME_SAMPLES * 25, 1);
    const whole = new Uint8Array(pcm.length / 2);
    new G722Encoder().encode(pcm, whole);
    const chunked = new Uint8Array(pcm.length / 2);
    const enc = new G722Encoder();
    for (let off = 0; off < pcm.length; off += FRAME_SAMPLES) {
      enc.encode(pcm.subarray(off, off + FRAME_SAMPLES), chunked.subarray(off / 2));
    }

    expect(Buffer.from(chunked).equals(Buffer.from(whole))).toBe(true);

    const wholePcm = new Int16Array(pcm.length);
    new G722Decoder().decode(whole, wholePcm);
    const chunkedPcm = new Int16Array(pcm.length);
    const dec = new G722Decoder();
    for (let off = 0; off < whole.length; off += FRAME_CODES) {
      dec.decode(whole.subarray(off, off + FRAME_CODES), chunkedPcm.subarray(off * 2));
    }

    expect(Array.from(chunkedPcm)).toEqual(Array.from(wholePcm));
  });

  it('reset() returns encoder and decoder to the state of a fresh instance', () => {
    const pcm = noise(FRAME_SAMPLES * 5, 2);
    const fresh = new Uint8Array(pcm.length / 2);
    new G722Encoder().encode(pcm, fresh);
    const freshPcm = new Int16Array(pcm.length);
    new G722Decoder().decode(fresh, freshPcm);
    const enc = new G722Encoder();
    const dec = new G722Decoder();
    const again = new Uint8Array(pcm.length / 2);
    const againPcm = new Int16Array(pcm.length);
    enc.encode(noise(FRAME_SAMPLES * 3, 3), again);
    dec.decode(again, againPcm);

    enc.reset();
    dec.reset();
    enc.encode(pcm, again);
    dec.decode(fresh, againPcm);

    expect(Buffer.from(again).equals(Buffer.from(fresh))).toBe(true);
    expect(Array.from(againPcm)).toEqual(Array.from(freshPcm));
  });

  it('encodes and decodes only the requested count', () => {
    const codes = new Uint8Array(4).fill(0x55);
    const out = new Int16Array(8).fill(7);

    expect(new G722Encoder().encode(new Int16Array(8), codes, 4)).toBe(2);
    expect(new G722Decoder().decode(codes, out, 1)).toBe(2);

    expect(Array.from(codes)).toEqual([0xfa, 0xfa, 0x55, 0x55]);
    expect(Array.from(out.subarray(2))).toEqual([7, 7, 7, 7, 7, 7]);
  });

  it('rejects an odd sample count, a short output and a count beyond the input with RangeError', () => {
    const enc = new G722Encoder();
    const dec = new G722Decoder();

    expect(() => enc.encode(new Int16Array(321), new Uint8Array(161))).toThrow(RangeError);
    expect(() => enc.encode(new Int16Array(320), new Uint8Array(160), 3)).toThrow(RangeError);
    expect(() => enc.encode(new Int16Array(320), new Uint8Array(159))).toThrow(RangeError);
    expect(() => enc.encode(new Int16Array(320), new Uint8Array(200), 322)).toThrow(RangeError);
    expect(() => dec.decode(new Uint8Array(160), new Int16Array(319))).toThrow(RangeError);
    expect(() => dec.decode(new Uint8Array(160), new Int16Array(400), 161)).toThrow(RangeError);
  });

  it('advertises payload type 9 with the 8000 Hz RTP clock of RFC 3551 over 16 kHz audio', () => {
    expect([G722_PAYLOAD_TYPE, G722_RTP_CLOCK_RATE, G722_SAMPLE_RATE]).toEqual([9, 8000, 16000]);
  });
});
