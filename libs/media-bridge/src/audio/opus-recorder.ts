import { OpusCodec } from './opus';
import { analyseTone, type ToneReport } from './tone';

/**
 * Decodes received Opus packets into a bounded ring of 48 kHz mono PCM, for tone checks in tests and the
 * foundation demo. Only the newest `maxSeconds` are kept. Packets that fail to decode are counted, not thrown.
 */
export class OpusRecorder {
  static readonly SAMPLE_RATE = 48000;
  readonly #codec = new OpusCodec(48000);
  readonly #ring: Int16Array;
  #written = 0;
  #decodeErrors = 0;

  constructor(readonly maxSeconds = 60) {
    this.#ring = new Int16Array(Math.max(1, Math.round(maxSeconds * OpusRecorder.SAMPLE_RATE)));
  }

  get decodeErrors(): number {
    return this.#decodeErrors;
  }

  /** Total samples decoded so far (including those that fell out of the ring). */
  get samplesDecoded(): number {
    return this.#written;
  }

  push(packet: Uint8Array): void {
    let pcm: Int16Array;
    try {
      pcm = this.#codec.decode(packet);
    } catch {
      this.#decodeErrors++;
      return;
    }
    const cap = this.#ring.length;
    const src = pcm.length > cap ? pcm.subarray(pcm.length - cap) : pcm;
    const start = this.#written % cap;
    const first = Math.min(src.length, cap - start);
    this.#ring.set(src.subarray(0, first), start);
    if (first < src.length) this.#ring.set(src.subarray(first), 0);
    this.#written += src.length;
  }

  /** The newest `lastMs` of audio (all kept audio when omitted), oldest first. */
  samples(lastMs?: number): Int16Array {
    const cap = this.#ring.length;
    const kept = Math.min(this.#written, cap);
    const want = lastMs === undefined ? kept : Math.min(kept, Math.round((lastMs * OpusRecorder.SAMPLE_RATE) / 1000));
    const out = new Int16Array(want);
    const end = this.#written % cap;
    const start = (end - want + cap) % cap;
    if (start + want <= cap) out.set(this.#ring.subarray(start, start + want));
    else {
      out.set(this.#ring.subarray(start));
      out.set(this.#ring.subarray(0, want - (cap - start)), cap - start);
    }
    return out;
  }

  analyse(frequencyHz: number, lastMs?: number): ToneReport {
    return analyseTone(this.samples(lastMs), frequencyHz, OpusRecorder.SAMPLE_RATE);
  }

  clear(): void {
    this.#written = 0;
  }
}
