import type { FrameTickListener } from '../bridge/frame-clock';
import type { MediaPort } from '../bridge/media-port.types';
import { encodeG711, type G711Law } from '../codec/g711';
import { G722Encoder } from '../codec/g722';

/**
 * Call progress tones a caller hears from the network while the far end rings (ITU-T E.180): a sum of sines,
 * switched on and off by a cadence. The gateway plays ringback toward an agent whose desk phone answered
 * while the WhatsApp customer's phone rings, and toward the WhatsApp user while a blind transfer's target
 * rings, so neither hears dead air.
 */
export interface ProgressTone {
  /** For logs. */
  name: string;
  frequenciesHz: readonly number[];
  /** Alternating on and off periods, starting with on (ms). */
  cadenceMs: readonly number[];
}

export type RingbackStyle = 'eu' | 'us' | 'uk';

/** Ringback tones of ITU-T E.180: CEPT/most of the world, North America, the UK. */
export const RINGBACK_TONES: Readonly<Record<RingbackStyle, ProgressTone>> = {
  eu: { name: 'ringback 425 Hz, 1 s on 4 s off', frequenciesHz: [425], cadenceMs: [1000, 4000] },
  us: { name: 'ringback 440+480 Hz, 2 s on 4 s off', frequenciesHz: [440, 480], cadenceMs: [2000, 4000] },
  uk: { name: 'ringback 400+450 Hz, 0.4 s on 0.2 s off 0.4 s on 2 s off', frequenciesHz: [400, 450], cadenceMs: [400, 200, 400, 2000] },
};

/** The tone as 16-bit samples, frame after frame, its phase and cadence kept across frames. */
export class ProgressToneSource {
  readonly #tone: ProgressTone;
  readonly #sampleRate: number;
  readonly #amplitude: number;
  readonly #period: number;
  readonly #bounds: number[];
  #sample = 0;
  #phases: number[];

  constructor(tone: ProgressTone, sampleRate: number, amplitude = 6000) {
    if (tone.frequenciesHz.length === 0) throw new RangeError(`${tone.name}: no frequency`);
    if (tone.cadenceMs.length === 0 || tone.cadenceMs.length % 2 !== 0 || tone.cadenceMs.some((ms) => !(ms > 0))) {
      throw new RangeError(`${tone.name}: the cadence needs on/off pairs of positive durations`);
    }
    this.#tone = tone;
    this.#sampleRate = sampleRate;
    // the sines share the amplitude, so a dual tone is no louder than a single one
    this.#amplitude = amplitude / tone.frequenciesHz.length;
    this.#phases = tone.frequenciesHz.map(() => 0);
    let at = 0;
    this.#bounds = tone.cadenceMs.map((ms) => (at += Math.round((ms * sampleRate) / 1000)));
    this.#period = at;
  }

  /** Whether sample `n` of the cadence (0-based from the start) falls in an on period. */
  #on(n: number): boolean {
    const pos = n % this.#period;
    const i = this.#bounds.findIndex((b) => pos < b);
    return i % 2 === 0;
  }

  /** The next `samples` samples; true in `startsOn` when this frame begins an on period (an RTP marker). */
  next(samples: number): { pcm: Int16Array; startsOn: boolean } {
    const pcm = new Int16Array(samples);
    const first = this.#sample;
    const startsOn = this.#on(first) && (first === 0 || !this.#on(first - 1));
    const freqs = this.#tone.frequenciesHz;
    for (let i = 0; i < samples; i++) {
      const on = this.#on(first + i);
      let v = 0;
      for (let f = 0; f < freqs.length; f++) {
        const phase = this.#phases[f] as number;
        if (on) v += this.#amplitude * Math.sin(phase);
        // the phase runs on through off periods, so each burst starts where a continuous tone would be
        this.#phases[f] = (phase + (2 * Math.PI * (freqs[f] as number)) / this.#sampleRate) % (2 * Math.PI);
      }
      pcm[i] = Math.round(v);
    }
    this.#sample = (first + samples) % this.#period;
    return { pcm, startsOn };
  }
}

/** The PBX codecs a progress tone can be played in (an Opus PBX leg gets none). */
export type ProgressToneCodec = G711Law | 'G722';

/** RTP clock ticks (and codes) per 20 ms frame: 160 for G.711 and for G.722 (whose RTP clock is 8 kHz, RFC 3551). */
const FRAME_TICKS = 160;

/** A progress tone as 20 ms frames of PBX codes (G.711 at 8 kHz, G.722 at 16 kHz), 160 codes each. */
export class ProgressToneFrames {
  readonly #source: ProgressToneSource;
  readonly #samples: number;
  readonly #g722: G722Encoder | undefined;
  readonly #law: G711Law;

  constructor(tone: ProgressTone, codec: ProgressToneCodec) {
    const sampleRate = codec === 'G722' ? 16000 : 8000;
    this.#samples = sampleRate / 50;
    this.#source = new ProgressToneSource(tone, sampleRate);
    this.#g722 = codec === 'G722' ? new G722Encoder() : undefined;
    this.#law = codec === 'PCMA' ? 'PCMA' : 'PCMU';
  }

  /** The next frame's codes, written into `out` (160 bytes); true in `startsOn` when it begins a burst. */
  next(out: Uint8Array): { startsOn: boolean } {
    const { pcm, startsOn } = this.#source.next(this.#samples);
    if (this.#g722) this.#g722.encode(pcm, out);
    else encodeG711(this.#law, pcm, out);
    return { startsOn };
  }
}

export interface ProgressTonePlayerOptions {
  port: MediaPort;
  codec: ProgressToneCodec;
  payloadType: number;
  tone: ProgressTone;
}

/**
 * Plays a progress tone into a media port, one 20 ms frame per clock tick (silence frames in the off periods,
 * so the far end's jitter buffer and NAT bindings keep going), with the marker bit on each burst's first
 * frame. Stops when removed from its clock; the port's SSRC and sequence numbers stay the port's own.
 */
export class ProgressTonePlayer implements FrameTickListener {
  readonly #opts: ProgressTonePlayerOptions;
  readonly #frameSource: ProgressToneFrames;
  #timestamp = Math.floor(Math.random() * 2 ** 32);
  #frames = 0;

  constructor(options: ProgressTonePlayerOptions) {
    this.#opts = options;
    this.#frameSource = new ProgressToneFrames(options.tone, options.codec);
  }

  /** Frames sent so far. */
  get frames(): number {
    return this.#frames;
  }

  onFrameTick(): void {
    const payload = Buffer.allocUnsafe(FRAME_TICKS);
    const { startsOn } = this.#frameSource.next(payload);
    this.#opts.port.sendRtp({ payloadType: this.#opts.payloadType, timestamp: this.#timestamp, marker: startsOn, payload });
    this.#timestamp = (this.#timestamp + FRAME_TICKS) >>> 0;
    this.#frames++;
  }
}
