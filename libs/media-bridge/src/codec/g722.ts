/**
 * ITU-T G.722 wideband codec, 64 kbit/s (mode 1), encoder and decoder, integer arithmetic throughout.
 *
 * Structure (the recommendation's block diagram; block names as in its encoder and decoder descriptions):
 * - Transmit QMF: a 24-tap symmetric filter splits each pair of 16 kHz samples into one lower and one
 *   higher sub-band sample at 8 kHz (xL = xA + xB, xH = xA - xB; xA is the polyphase holding the newer
 *   sample of each pair). With 16-bit input the sums are shifted by 14 (the coefficients are scaled by
 *   2^13), so a sub-band sample is half the input level: the 15-bit signal the ADPCM blocks expect.
 * - Lower band: SB-ADPCM, 6-bit quantiser (60 levels, QUANTL) of the prediction error. Only the 4 most
 *   significant bits (15-level quantiser QM4) drive the scale factor and predictor adaptation, so a
 *   decoder that sees fewer bits (modes 2 and 3) stays in step; the decoder reconstructs with all 6 (QM6).
 * - Higher band: SB-ADPCM, 2-bit quantiser, the same predictor structure with its own scale range.
 * - Scale factor: log domain (NBL, NBH) with leakage 127/128 and per-code increments (WL, WH), limited to
 *   0..18432 / 0..22528, turned into the linear step DETL/DETH through the 32-entry table ILB.
 * - Predictor (block 4): 2 poles (a1, a2, sign-sign updates UPPOL1/UPPOL2 with |a2| <= 12288 and
 *   |a1| <= 15360 - a2) and 6 zeros (b1..b6, UPZERO, leakage 255/256). Every sum that is 16 bits in the
 *   recommendation saturates to 16 bits; every product of a Q15 coefficient truncates with `>> 15`.
 * - Receive QMF: the inverse filter bank; with 15-bit sub-band signals the output sums are shifted by 11
 *   and saturated to 16 bits, so the level out equals the level in. The decoder limits the reconstructed
 *   sub-band signals to -16384..16383 (blocks 6L/6H).
 * - Octet: code = (IH << 6) | IL, the higher band in the two most significant bits.
 *
 * Checked: written from the recommendation's block descriptions. Each Q6 level x 8 lies between neighbouring
 * QM6 levels and ILB is round(2048 * 2^(i/32)). g722.spec.ts covers tone fidelity per band, the QMF delay,
 * saturation, state continuity and start-up codes derived by hand (silence gives 0xFA). Outside the repo
 * it was compared with libspandsp 0.0.6 (Debian libspandsp2, what baresip's g722 module uses) at
 * 64000 bit/s: identical codes for tones, chirps, noise, square waves and silence, and identical decoded
 * samples for 2M samples of random codes except where spandsp's output wraps around 16 bits and this
 * decoder saturates (the state is unaffected: the QMF output is not fed back).
 */

/** RTP payload type of G.722 (RFC 3551 static). */
export const G722_PAYLOAD_TYPE = 9;
/** Audio sampling rate of G.722. */
export const G722_SAMPLE_RATE = 16000;
/** RTP clock rate of G.722: 8000, not 16000 (RFC 3551 §4.5.2, an error kept for compatibility). */
export const G722_RTP_CLOCK_RATE = 8000;

/** QUANTL decision levels (x DETL >> 12) of the 6-bit lower-band quantiser, intervals 1..29. */
const Q6 = Int32Array.of(
  0, 35, 72, 110, 150, 190, 233, 276, 323, 370, 422, 473, 530, 587, 650, 714,
  786, 858, 940, 1023, 1121, 1219, 1339, 1458, 1612, 1765, 1980, 2195, 2557, 2919,
);
/** Interval (1..30) to 6-bit code, negative and positive error. */
const ILN = Int32Array.of(
  0, 63, 62, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
  18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4,
);
const ILP = Int32Array.of(
  0, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47,
  46, 45, 44, 43, 42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32,
);
/** 6-bit inverse quantiser (x DETL >> 15); codes 0..3 are not produced by an encoder. */
const QM6 = Int32Array.of(
  -136, -136, -136, -136, -24808, -21904, -19008, -16704, -14984, -13512, -12280, -11192, -10232, -9360, -8576, -7856,
  -7192, -6576, -6000, -5456, -4944, -4464, -4008, -3576, -3168, -2776, -2400, -2032, -1688, -1360, -1040, -728,
  24808, 21904, 19008, 16704, 14984, 13512, 12280, 11192, 10232, 9360, 8576, 7856, 7192, 6576, 6000, 5456,
  4944, 4464, 4008, 3576, 3168, 2776, 2400, 2032, 1688, 1360, 1040, 728, 432, 136, -432, -136,
);
/** 4-bit inverse quantiser (IL >> 2), the signal that feeds the lower-band adaptation. */
const QM4 = Int32Array.of(0, -20456, -12896, -8968, -6288, -4240, -2584, -1200, 20456, 12896, 8968, 6288, 4240, 2584, 1200, 0);
/** 4-bit code to magnitude class (RIL -> IL4) and the log scale increments WL per class. */
const RL42 = Int32Array.of(0, 7, 6, 5, 4, 3, 2, 1, 7, 6, 5, 4, 3, 2, 1, 0);
const WL = Int32Array.of(-60, -30, 58, 172, 334, 538, 1198, 3042);
/** ILB: 2048 * 2^(i/32), the mantissa of the log-to-linear scale conversion (SCALEL, SCALEH). */
const ILB = Int32Array.of(
  2048, 2093, 2139, 2186, 2233, 2282, 2332, 2383, 2435, 2489, 2543, 2599, 2656, 2714, 2774, 2834,
  2896, 2960, 3025, 3091, 3158, 3228, 3298, 3371, 3444, 3520, 3597, 3676, 3756, 3838, 3922, 4008,
);
/** Higher band: decision level (x DETH >> 12), inverse quantiser QM2, code by magnitude, WH increments. */
const Q2 = 564;
const IHN = Int32Array.of(0, 1, 0);
const IHP = Int32Array.of(0, 3, 2);
const QM2 = Int32Array.of(-7408, -1616, 7408, 1616);
const RH2 = Int32Array.of(2, 1, 2, 1);
const WH = Int32Array.of(0, -214, 798);
/** QMF coefficients h(2i), i = 0..11 (scaled by 2^13); h(2i+1) = h(22 - 2i). */
const QMF_EVEN = [3, -11, 12, 32, -210, 951, 3876, -805, 362, -156, 53, -11];
/** Delay lines run oldest to newest: h(22)..h(0) weigh the newer polyphase, h(23)..h(1) the older one. */
const H_EVEN_OLDEST_FIRST = Int32Array.from(QMF_EVEN.slice().reverse());
const H_ODD_OLDEST_FIRST = Int32Array.from(QMF_EVEN);

const NBL_MAX = 18432;
const NBH_MAX = 22528;

function sat16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : x;
}

/** The adaptive state of one sub-band: scale factor and the pole/zero predictor (block 4). */
class SubBand {
  /** Log scale factor (NBL/NBH) and linear step (DETL/DETH). */
  nb = 0;
  det: number;
  /** Predictor output s, its zero part sz, pole coefficients, past r (RLT) and p (PLT) values. */
  s = 0;
  sz = 0;
  a1 = 0;
  a2 = 0;
  r1 = 0;
  r2 = 0;
  p1 = 0;
  p2 = 0;
  /** Zero coefficients b1..b6 and quantised differences d1..d6 (index 0 unused). */
  readonly b = new Int32Array(7);
  readonly d = new Int32Array(7);

  readonly #initialDet: number;

  constructor(initialDet: number) {
    this.det = this.#initialDet = initialDet;
  }

  reset(): void {
    this.nb = this.s = this.sz = this.a1 = this.a2 = this.r1 = this.r2 = this.p1 = this.p2 = 0;
    this.det = this.#initialDet;
    this.b.fill(0);
    this.d.fill(0);
  }
}

/** LOGSCL + SCALEL/SCALEH: leak the log scale, add the increment, limit, convert to the linear step. */
function adaptScale(band: SubBand, increment: number, nbMax: number, shiftBase: number): void {
  let nb = ((band.nb * 127) >> 7) + increment;
  if (nb < 0) nb = 0;
  else if (nb > nbMax) nb = nbMax;
  band.nb = nb;
  const mantissa = ILB[(nb >> 6) & 31] as number;
  const shift = shiftBase - (nb >> 11);
  band.det = (shift < 0 ? mantissa << -shift : mantissa >> shift) << 2;
}

/** UPPOL2 and UPPOL1: sign-sign update of the pole coefficients from the partial reconstruction p0. */
function adaptPoles(band: SubBand, p0: number): void {
  const same01 = (p0 ^ band.p1) >= 0; // sgn(p0) == sgn(p1), zero counting as positive
  const a1x4 = sat16(band.a1 << 2);
  let wd = same01 ? -a1x4 : a1x4;
  if (wd > 32767) wd = 32767;
  let a2 = (wd >> 7) + ((p0 ^ band.p2) >= 0 ? 128 : -128) + ((band.a2 * 32512) >> 15);
  if (a2 > 12288) a2 = 12288;
  else if (a2 < -12288) a2 = -12288;
  let a1 = sat16((same01 ? 192 : -192) + ((band.a1 * 32640) >> 15));
  const a1Max = 15360 - a2;
  if (a1 > a1Max) a1 = a1Max;
  else if (a1 < -a1Max) a1 = -a1Max;
  band.a1 = a1;
  band.a2 = a2;
}

/** Block 4: adapt the predictor to the quantised difference dq and compute the next prediction. */
function adaptPredictor(band: SubBand, dq: number): void {
  const { b, d } = band;
  const r0 = sat16(band.s + dq); // RECONS
  const p0 = sat16(band.sz + dq); // PARREC
  adaptPoles(band, p0);
  // UPZERO (sign-sign, leak 255/256), DELAYA (d_i takes d_(i-1), d_1 takes dq) and FILTEZ in one pass
  const step = dq === 0 ? 0 : 128;
  let sz = 0;
  let shifted = dq;
  for (let i = 1; i < 7; i++) {
    const di = d[i] as number;
    const bi = sat16(((di ^ dq) < 0 ? -step : step) + (((b[i] as number) * 32640) >> 15));
    b[i] = bi;
    d[i] = shifted;
    sz += (bi * sat16(shifted * 2)) >> 15;
    shifted = di;
  }
  band.sz = sat16(sz);
  // FILTEP and PREDIC
  band.r2 = band.r1;
  band.r1 = r0;
  band.p2 = band.p1;
  band.p1 = p0;
  const sp = sat16(((band.a1 * sat16(r0 + r0)) >> 15) + ((band.a2 * sat16(band.r2 + band.r2)) >> 15));
  band.s = sat16(sp + band.sz);
}

/** INVQAL, LOGSCL/SCALEL and block 4 of the lower band, shared by encoder and decoder. */
function updateLowBand(band: SubBand, ilow: number): void {
  const ril = ilow >> 2;
  const dlow = (band.det * (QM4[ril] as number)) >> 15;
  adaptScale(band, WL[RL42[ril] as number] as number, NBL_MAX, 8);
  adaptPredictor(band, dlow);
}

/** INVQAH, LOGSCH/SCALEH and block 4 of the higher band; returns the quantised difference. */
function updateHighBand(band: SubBand, ihigh: number): number {
  const dhigh = (band.det * (QM2[ihigh] as number)) >> 15;
  adaptScale(band, WH[RH2[ihigh] as number] as number, NBH_MAX, 10);
  adaptPredictor(band, dhigh);
  return dhigh;
}

/** QUANTL: 6-bit code of the lower-band error el (first interval whose upper level exceeds |el|). */
function quantiseLow(el: number, det: number): number {
  const magnitude = el >= 0 ? el : -(el + 1);
  let lo = 1;
  let hi = 30;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (magnitude < ((Q6[mid] as number) * det) >> 12) hi = mid;
    else lo = mid + 1;
  }
  return el < 0 ? (ILN[lo] as number) : (ILP[lo] as number);
}

/** QUANTH: 2-bit code of the higher-band error eh. */
function quantiseHigh(eh: number, det: number): number {
  const magnitude = eh >= 0 ? eh : -(eh + 1);
  const mih = magnitude >= (Q2 * det) >> 12 ? 2 : 1;
  return eh < 0 ? (IHN[mih] as number) : (IHP[mih] as number);
}

/** 12-tap dot product of a doubled ring buffer (newest at head + 12) with oldest-first coefficients. */
function dot12(line: Int32Array, head: number, coeffs: Int32Array): number {
  let sum = 0;
  for (let k = 0; k < 12; k++) sum += (line[head + 1 + k] as number) * (coeffs[k] as number);
  return sum;
}

/** G.722 64 kbit/s encoder: 16 kHz 16-bit PCM to one octet per two samples. State persists across calls. */
export class G722Encoder {
  readonly #low = new SubBand(32);
  readonly #high = new SubBand(8);
  /** QMF delay lines of the older and newer sample of each pair, each value stored at head and head + 12. */
  readonly #older = new Int32Array(24);
  readonly #newer = new Int32Array(24);
  #head = 0;

  /**
   * Encodes `samples` (even, default pcm.length) 16 kHz samples from pcm into samples/2 codes in out;
   * returns the number of codes. Throws RangeError if out is too small or samples odd.
   */
  encode(pcm: Int16Array, out: Uint8Array, samples = pcm.length): number {
    if (!Number.isInteger(samples) || samples < 0 || samples % 2 !== 0) {
      throw new RangeError(`G.722 encode: sample count ${samples} is not even`);
    }
    if (samples > pcm.length) throw new RangeError('G.722 encode: fewer input samples than requested');
    const codes = samples >> 1;
    if (codes > out.length) throw new RangeError(`G.722 encode: output holds ${out.length} codes, ${codes} needed`);
    const low = this.#low;
    const high = this.#high;
    const older = this.#older;
    const newer = this.#newer;
    let head = this.#head;
    for (let n = 0, j = 0; n < codes; n++, j += 2) {
      head = head === 11 ? 0 : head + 1;
      older[head] = older[head + 12] = pcm[j] as number;
      newer[head] = newer[head + 12] = pcm[j + 1] as number;
      const xa = dot12(newer, head, H_EVEN_OLDEST_FIRST);
      const xb = dot12(older, head, H_ODD_OLDEST_FIRST);
      const ilow = quantiseLow(sat16(((xa + xb) >> 14) - low.s), low.det);
      const ihigh = quantiseHigh(sat16(((xa - xb) >> 14) - high.s), high.det);
      updateLowBand(low, ilow);
      updateHighBand(high, ihigh);
      out[n] = (ihigh << 6) | ilow;
    }
    this.#head = head;
    return codes;
  }

  reset(): void {
    this.#low.reset();
    this.#high.reset();
    this.#older.fill(0);
    this.#newer.fill(0);
    this.#head = 0;
  }
}

/** G.722 64 kbit/s decoder: one octet to two 16 kHz 16-bit samples. State persists across calls. */
export class G722Decoder {
  readonly #low = new SubBand(32);
  readonly #high = new SubBand(8);
  /** Receive QMF delay lines of rL - rH (xd) and rL + rH (xs), each value stored at head and head + 12. */
  readonly #diff = new Int32Array(24);
  readonly #sum = new Int32Array(24);
  #head = 0;

  /**
   * Decodes `count` (default codes.length) codes into 2*count 16 kHz samples in out; returns the samples
   * written. Throws RangeError if out too small.
   */
  decode(codes: Uint8Array, out: Int16Array, count = codes.length): number {
    if (!Number.isInteger(count) || count < 0 || count > codes.length) throw new RangeError(`G.722 decode: bad code count ${count}`);
    if (2 * count > out.length) throw new RangeError(`G.722 decode: output holds ${out.length} samples, ${2 * count} needed`);
    const low = this.#low;
    const high = this.#high;
    const diff = this.#diff;
    const sum = this.#sum;
    let head = this.#head;
    for (let n = 0, j = 0; n < count; n++, j += 2) {
      const code = codes[n] as number;
      const ilow = code & 63;
      const ihigh = code >> 6;
      // INVQBL + RECONS + LIMIT: the output uses all 6 bits, the adaptation only 4
      let rlow = low.s + ((low.det * (QM6[ilow] as number)) >> 15);
      rlow = rlow > 16383 ? 16383 : rlow < -16384 ? -16384 : rlow;
      updateLowBand(low, ilow);
      const sh = high.s;
      let rhigh = sh + updateHighBand(high, ihigh);
      rhigh = rhigh > 16383 ? 16383 : rhigh < -16384 ? -16384 : rhigh;
      head = head === 11 ? 0 : head + 1;
      diff[head] = diff[head + 12] = rlow - rhigh;
      sum[head] = sum[head + 12] = rlow + rhigh;
      out[j] = sat16(dot12(diff, head, H_EVEN_OLDEST_FIRST) >> 11);
      out[j + 1] = sat16(dot12(sum, head, H_ODD_OLDEST_FIRST) >> 11);
    }
    this.#head = head;
    return 2 * count;
  }

  reset(): void {
    this.#low.reset();
    this.#high.reset();
    this.#diff.fill(0);
    this.#sum.fill(0);
    this.#head = 0;
  }
}
