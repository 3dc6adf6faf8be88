/**
 * Re-stamps RTP timestamps of one direction onto the outgoing stream's own timestamp space, converting
 * clocks (G.711 8 kHz -> Opus 48 kHz: x6; passthrough: x1). The outgoing stream stays continuous when the
 * source changes (new SSRC: a transfer, an IVR prompt, a re-INVITE) or jumps (a source that restarted its
 * timestamps): Meta's client handles one SSRC and expects no timestamp jumps (reference §6.1).
 *
 * Rule: while a source's timestamps advance like the wall clock (within `maxSkewMs`), output = last output +
 * (source delta x ratio). Otherwise (new SSRC, or a jump) it re-anchors at last output + elapsed wall time
 * (at least one frame), and `discontinuity` is true for that packet (set the marker bit).
 * Event timestamps (RFC 4733 DTMF: one timestamp for the whole event) are mapped with `mapEvent`, which
 * never re-anchors on a jump because an event's timestamp legitimately lags the audio.
 */
export interface RestamperOptions {
  srcRate: number;
  dstRate: number;
  /** First outgoing timestamp (default random, RFC 3550 §5.1). */
  initialTimestamp?: number;
  /** One frame in the destination clock: the least step after a re-anchor (default 20 ms). */
  minStepTicks?: number;
  /** Disagreement between source timestamps and wall time that counts as a jump (default 1000 ms). */
  maxSkewMs?: number;
}

export class Restamper {
  readonly #ratio: number;
  readonly #srcRate: number;
  readonly #dstRate: number;
  readonly #minStep: number;
  readonly #maxSkewMs: number;
  #ssrc = -1;
  #anchorSrc = 0;
  #anchorDst: number;
  #anchorAt = 0;
  #started = false;
  #discontinuity = false;

  constructor(options: RestamperOptions) {
    this.#srcRate = options.srcRate;
    this.#dstRate = options.dstRate;
    this.#ratio = options.dstRate / options.srcRate;
    this.#minStep = options.minStepTicks ?? Math.round(options.dstRate / 50);
    this.#maxSkewMs = options.maxSkewMs ?? 1000;
    this.#anchorDst = (options.initialTimestamp ?? Math.floor(Math.random() * 0x100000000)) >>> 0;
  }

  /** True when the last `mapAudio` started a new segment (first packet, new source or jump). */
  get discontinuity(): boolean {
    return this.#discontinuity;
  }

  /** Maps an audio packet's timestamp (hot path). */
  mapAudio(ssrc: number, timestamp: number, nowMs: number): number {
    if (!this.#started || ssrc !== this.#ssrc) return this.#reanchor(ssrc, timestamp, nowMs);
    const srcDelta = (timestamp - this.#anchorSrc) | 0; // signed 32-bit: handles the wrap
    const skewMs = (srcDelta * 1000) / this.#srcRate - (nowMs - this.#anchorAt);
    if (skewMs > this.#maxSkewMs || skewMs < -this.#maxSkewMs) return this.#reanchor(ssrc, timestamp, nowMs);
    this.#discontinuity = false;
    const out = (this.#anchorDst + Math.round(srcDelta * this.#ratio)) >>> 0;
    if (srcDelta > 0) {
      this.#anchorSrc = timestamp >>> 0;
      this.#anchorDst = out;
      this.#anchorAt = nowMs;
    }
    return out;
  }

  /** Maps an event timestamp of the current source without re-anchoring on a jump. */
  mapEvent(ssrc: number, timestamp: number, nowMs: number): number {
    if (!this.#started || ssrc !== this.#ssrc) return this.#reanchor(ssrc, timestamp, nowMs);
    return (this.#anchorDst + Math.round(((timestamp - this.#anchorSrc) | 0) * this.#ratio)) >>> 0;
  }

  /** The outgoing timestamp that corresponds to `nowMs` (for events this side originates). */
  current(nowMs: number): number {
    if (!this.#started) return this.#anchorDst;
    return (this.#anchorDst + Math.round(((nowMs - this.#anchorAt) * this.#dstRate) / 1000)) >>> 0;
  }

  #reanchor(ssrc: number, timestamp: number, nowMs: number): number {
    if (this.#started) {
      const elapsed = Math.round(((nowMs - this.#anchorAt) * this.#dstRate) / 1000);
      this.#anchorDst = (this.#anchorDst + Math.max(this.#minStep, elapsed)) >>> 0;
    }
    this.#started = true;
    this.#ssrc = ssrc;
    this.#anchorSrc = timestamp >>> 0;
    this.#anchorAt = nowMs;
    this.#discontinuity = true;
    return this.#anchorDst;
  }
}
