/**
 * What the generators send, and how they measure what comes back, without trusting the system under test:
 *
 * - passthrough (Opus both ways): each payload carries its send time (µs on CLOCK_MONOTONIC, which all
 *   processes on the machine share) and the receiver subtracts it from its own clock on arrival;
 * - transcode (Opus <-> PCMU): payloads are re-encoded, so timing rides on the audio itself. Both loops are
 *   near-silence with a 60 ms beep every 500 ms; the sender notes when it sent the packet whose decoded
 *   audio is the first loud frame of a beep (the onset), the receiver notes when a loud frame follows a
 *   quiet one, and the driver pairs each detected onset with the latest onset sent before it.
 */
import { MULAW_DECODE, OpusCodec, encodeG711 } from '@wagw/media-bridge';

export const FRAME_MS = 20;
/** Frames in each loop (5 s). */
export const LOOP_FRAMES = 250;
const BEEP_EVERY = 25;
const BEEP_FRAMES = 3;
/** Mean |sample| above which a frame is loud, and below which it is quiet (16-bit PCM). */
const LOUD = 1500;
const QUIET = 400;

/** Microseconds on the machine's monotonic clock (comparable across processes). */
export function monoUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** A passthrough payload: a plausible Opus TOC, then send time (f64), call index and packet index (u32). */
export const STAMPED_PAYLOAD_BYTES = 60;

export function stampedPayload(sentUs: number, call: number, packet: number): Buffer {
  const b = Buffer.alloc(STAMPED_PAYLOAD_BYTES, 0x5a);
  b[0] = 0x78; // TOC: SILK-only wideband 20 ms, one frame (what a voice stream looks like)
  b.writeDoubleBE(sentUs, 1);
  b.writeUInt32BE(call >>> 0, 9);
  b.writeUInt32BE(packet >>> 0, 13);
  return b;
}

export function readStamp(payload: Uint8Array): number | undefined {
  if (payload.length < 17 || payload[0] !== 0x78) return undefined;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readDoubleBE(1);
}

/** The packet index a stamped payload carries (-1 when it is not one of ours). */
export function readStampedIndex(payload: Uint8Array): number {
  if (payload.length < 17 || payload[0] !== 0x78) return -1;
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).readUInt32BE(13);
}

function loopPcm(sampleRate: number): Int16Array {
  const per = (sampleRate * FRAME_MS) / 1000;
  const pcm = new Int16Array(per * LOOP_FRAMES);
  let x = 12345;
  for (let i = 0; i < pcm.length; i++) {
    const frame = Math.floor(i / per);
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const noise = ((x / 0x7fffffff) - 0.5) * 40;
    const beep = frame % BEEP_EVERY < BEEP_FRAMES ? 12000 * Math.sin((2 * Math.PI * 1000 * i) / sampleRate) : 0;
    pcm[i] = Math.round(beep + noise);
  }
  return pcm;
}

function meanAbsPcm(pcm: Int16Array): number {
  let s = 0;
  for (let i = 0; i < pcm.length; i++) s += Math.abs(pcm[i] as number);
  return pcm.length ? s / pcm.length : 0;
}

/** Mean |sample| of a PCMU payload (decoded through the table). */
export function meanAbsPcmu(payload: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < payload.length; i++) s += Math.abs(MULAW_DECODE[payload[i] as number] as number);
  return payload.length ? s / payload.length : 0;
}

/** Says true on a loud frame that follows a quiet one. */
export class OnsetDetector {
  #armed = false;

  push(meanAbs: number): boolean {
    if (meanAbs < QUIET) {
      this.#armed = true;
      return false;
    }
    if (meanAbs > LOUD && this.#armed) {
      this.#armed = false;
      return true;
    }
    return false;
  }
}

export interface MarkedLoop {
  frames: Buffer[];
  /** onset[i]: the decoded audio of frame i is a beep's first loud frame. */
  onset: boolean[];
}

/**
 * What WhatsApp would send: Opus 48 kHz, 20 ms, ~20 kb/s with FEC (Meta's fmtp), encoded once. Onsets are
 * found by decoding the loop twice at 8 kHz (the second pass, with the decoder state of a running stream),
 * as the bridge decodes it.
 */
export function opusLoop(): MarkedLoop {
  const enc = new OpusCodec(48000, { complexity: 9, bitrateBps: 20000, inbandFec: true });
  const pcm = loopPcm(48000);
  const frames: Buffer[] = [];
  for (let i = 0; i < LOOP_FRAMES; i++) frames.push(enc.encode(pcm.subarray(960 * i, 960 * (i + 1))));
  const dec = new OpusCodec(8000);
  const det = new OnsetDetector();
  const onset: boolean[] = [];
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < LOOP_FRAMES; i++) {
      const hit = det.push(meanAbsPcm(dec.decode(frames[i] as Buffer)));
      if (pass === 1) onset.push(hit);
    }
  }
  return { frames, onset };
}

/** What the PBX would send: PCMU 20 ms frames of the same kind of loop; onsets are the beeps' first frames. */
export function pcmuLoop(): MarkedLoop {
  const pcm = loopPcm(8000);
  const frames: Buffer[] = [];
  const onset: boolean[] = [];
  const det = new OnsetDetector();
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < LOOP_FRAMES; i++) {
      const f = pcm.subarray(160 * i, 160 * (i + 1));
      const hit = det.push(meanAbsPcm(f));
      if (pass === 1) {
        const b = Buffer.alloc(160);
        encodeG711('PCMU', f, b);
        frames.push(b);
        onset.push(hit);
      }
    }
  }
  return { frames, onset };
}

/**
 * Latency histogram in 0.05 ms bins up to 500 ms (plus an overflow bin): generators add samples, the driver
 * merges the bins of both and reads percentiles.
 */
export const HIST_BIN_MS = 0.05;
export const HIST_BINS = 10000;

export class LatencyHistogram {
  readonly bins = new Uint32Array(HIST_BINS + 1);
  count = 0;

  add(ms: number): void {
    const i = ms <= 0 ? 0 : Math.min(HIST_BINS, Math.floor(ms / HIST_BIN_MS));
    this.bins[i] = (this.bins[i] as number) + 1;
    this.count++;
  }

  /** Sparse form for IPC: [bin, count] pairs. */
  toSparse(): [number, number][] {
    const out: [number, number][] = [];
    this.bins.forEach((c, i) => c && out.push([i, c]));
    return out;
  }

  merge(sparse: [number, number][]): void {
    for (const [i, c] of sparse) {
      this.bins[i] = (this.bins[i] as number) + c;
      this.count += c;
    }
  }

  /** The q-quantile (0..1) in ms (bin upper edge); NaN when empty. */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i] as number;
      if (seen >= rank) return (i + 1) * HIST_BIN_MS;
    }
    return Number.POSITIVE_INFINITY;
  }
}

/** Pairs detected onsets (receive times) with the latest onset sent before each, within `maxMs`. */
export function pairOnsets(sentUs: number[], receivedUs: number[], maxMs: number, into: LatencyHistogram, fromUs: number, toUs: number): number {
  const sent = [...sentUs].sort((a, b) => a - b);
  let paired = 0;
  let j = 0;
  for (const r of [...receivedUs].sort((a, b) => a - b)) {
    while (j + 1 < sent.length && (sent[j + 1] as number) <= r) j++;
    const s = sent[j];
    if (s === undefined || s > r || s < fromUs || s > toUs) continue;
    const ms = (r - s) / 1000;
    if (ms <= maxMs) {
      into.add(ms);
      paired++;
    }
  }
  return paired;
}
