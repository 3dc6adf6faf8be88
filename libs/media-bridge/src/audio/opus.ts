import { Decoder, Encoder } from '@evan/opus';

/** Encoder settings; unset ones keep libopus defaults (complexity 9 on x86, automatic bitrate, no FEC). */
export interface OpusEncoderSettings {
  /** 0..10: CPU cost against quality. */
  complexity?: number;
  bitrateBps?: number;
  /** In-band FEC (LBRR, RFC 6716 §2.1.7): the decoder can rebuild a lost frame from the next one. */
  inbandFec?: boolean;
  /** Expected loss, 0..100: how much bitrate the encoder spends on FEC. */
  packetLossPercent?: number;
}

/** Opus at a given codec rate, mono, 20 ms frames (WhatsApp: 48 kHz RTP clock, ptime 20, one channel sent). */
export class OpusCodec {
  readonly #enc: Encoder;
  readonly #dec: Decoder;
  readonly frameSamples: number;

  constructor(
    readonly sampleRate: 8000 | 16000 | 48000 = 48000,
    settings: OpusEncoderSettings = {},
  ) {
    this.#enc = new Encoder({ channels: 1, sample_rate: sampleRate, application: 'voip' });
    if (settings.complexity !== undefined) this.#enc.complexity = settings.complexity as Encoder['complexity'];
    if (settings.bitrateBps !== undefined) this.#enc.bitrate = settings.bitrateBps;
    if (settings.inbandFec !== undefined) this.#enc.inband_fec = settings.inbandFec;
    if (settings.packetLossPercent !== undefined) this.#enc.packet_loss = settings.packetLossPercent;
    this.#dec = new Decoder({ channels: 1, sample_rate: sampleRate });
    this.frameSamples = (sampleRate / 1000) * 20;
  }

  encode(pcm: Int16Array): Buffer {
    if (pcm.length !== this.frameSamples) throw new RangeError(`Opus frame must be ${this.frameSamples} samples, got ${pcm.length}`);
    const packet = this.#enc.encode(pcm); // a fresh copy per call: wrap it without copying again
    return Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  }

  /** Decodes one packet to mono 16-bit PCM at the codec rate. */
  decode(packet: Uint8Array): Int16Array {
    const bytes = this.#dec.decode(packet);
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2).slice();
  }

  /**
   * Decodes one packet to little-endian 16-bit PCM bytes, the binding's own fresh array (no extra copy).
   * A packet of only its TOC byte (RFC 6716 §3.2.1, a 0-byte frame) makes libopus conceal one lost frame
   * of the TOC's duration (PLC).
   */
  decodeLe(packet: Uint8Array): Uint8Array {
    return this.#dec.decode(packet);
  }
}
