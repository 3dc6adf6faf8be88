import {
  createOpusDecoder,
  createOpusEncoder,
  OPUS_SET_BITRATE,
  OPUS_SET_COMPLEXITY,
  OPUS_SET_INBAND_FEC,
  OPUS_SET_PACKET_LOSS_PERC,
  type OpusDecoderHandle,
  type OpusEncoderHandle,
} from '../codec/opus-native';

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
  readonly #enc: OpusEncoderHandle;
  readonly #dec: OpusDecoderHandle;
  readonly frameSamples: number;

  constructor(
    readonly sampleRate: 8000 | 16000 | 48000 = 48000,
    settings: OpusEncoderSettings = {},
  ) {
    // @evan/opus through its native addon directly: see codec/opus-native.ts for why
    this.#enc = createOpusEncoder(sampleRate);
    if (settings.complexity !== undefined) this.#enc.ctl(OPUS_SET_COMPLEXITY, Math.max(0, Math.min(10, settings.complexity)));
    if (settings.bitrateBps !== undefined) this.#enc.ctl(OPUS_SET_BITRATE, Math.max(500, Math.min(512000, settings.bitrateBps | 0)));
    if (settings.inbandFec !== undefined) this.#enc.ctl(OPUS_SET_INBAND_FEC, settings.inbandFec ? 1 : 0);
    if (settings.packetLossPercent !== undefined) this.#enc.ctl(OPUS_SET_PACKET_LOSS_PERC, Math.max(0, Math.min(100, settings.packetLossPercent)));
    this.#dec = createOpusDecoder(sampleRate);
    this.frameSamples = (sampleRate / 1000) * 20;
  }

  encode(pcm: Int16Array): Buffer {
    if (pcm.length !== this.frameSamples) throw new RangeError(`Opus frame must be ${this.frameSamples} samples, got ${pcm.length}`);
    return this.#enc.encode(pcm);
  }

  /** Decodes one packet to mono 16-bit PCM at the codec rate. */
  decode(packet: Uint8Array): Int16Array {
    const bytes = this.#dec.decodeView(packet).slice(); // own copy, aligned for the Int16Array view
    return new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  }

  /**
   * Decodes one packet to little-endian 16-bit PCM bytes without copying: a view valid only until the next
   * decode in the process (use it at once). A packet of only its TOC byte (RFC 6716 §3.2.1, a 0-byte frame)
   * makes libopus conceal one lost frame of the TOC's duration (PLC).
   */
  decodeLe(packet: Uint8Array): Uint8Array {
    return this.#dec.decodeView(packet);
  }
}
