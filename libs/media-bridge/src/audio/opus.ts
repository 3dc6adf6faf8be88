import { Decoder, Encoder } from '@evan/opus';

/** Opus at a given codec rate, mono, 20 ms frames (WhatsApp: 48 kHz RTP clock, ptime 20, one channel sent). */
export class OpusCodec {
  readonly #enc: Encoder;
  readonly #dec: Decoder;
  readonly frameSamples: number;

  constructor(readonly sampleRate: 8000 | 16000 | 48000 = 48000) {
    this.#enc = new Encoder({ channels: 1, sample_rate: sampleRate, application: 'voip' });
    this.#dec = new Decoder({ channels: 1, sample_rate: sampleRate });
    this.frameSamples = (sampleRate / 1000) * 20;
  }

  encode(pcm: Int16Array): Buffer {
    if (pcm.length !== this.frameSamples) throw new RangeError(`Opus frame must be ${this.frameSamples} samples, got ${pcm.length}`);
    return Buffer.from(this.#enc.encode(pcm));
  }

  /** Decodes one packet to mono 16-bit PCM at the codec rate. */
  decode(packet: Uint8Array): Int16Array {
    const bytes = this.#dec.decode(packet);
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2).slice();
  }
}
