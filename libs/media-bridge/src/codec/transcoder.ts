/**
 * Opus <-> the PBX's codec (G.711 µ-law/A-law, or G.722) for one call, in 20 ms frames. Opus keeps its 48 kHz
 * RTP clock on the wire (RFC 7587) but is decoded and encoded at the PBX codec's own rate, 8 kHz for G.711
 * and 16 kHz for G.722: libopus resamples internally, so the PBX side needs no resampler, and an 8 kHz
 * encoder costs about a third of a 48 kHz one (reference test-peers.md). G.722 keeps WhatsApp's wideband
 * voice (up to 7 kHz) on desk phones that have it; G.711 cuts it at 3.4 kHz.
 *
 * Both PBX codecs carry 160 bytes per 20 ms on an 8 kHz RTP clock (G.722's clock is 8000 by RFC 3551
 * §4.5.2 although it samples at 16 kHz: one byte holds two samples), so the bridge counts PBX audio in
 * codes and ticks alike for all three.
 *
 * Loss (WhatsApp -> PBX): `concealToPbx` runs libopus PLC by decoding a TOC-only packet built from the last
 * packet's TOC (RFC 6716 §3.2.1: a 0-byte frame means "lost"), which keeps the decoder's mode and bandwidth.
 * The @evan/opus binding does not expose `decode_fec`, so in-band FEC of the next packet cannot be used to
 * rebuild a lost one; our own encoder does emit FEC (on by default) for WhatsApp's decoder.
 *
 * PBX -> WhatsApp: packets of any size fill a 20 ms frame; each complete frame is encoded once and queued for
 * `takeOpus()`. Per-frame work allocates only what the binding returns (one array per call).
 */
import { performance } from 'node:perf_hooks';
import { OpusCodec } from '../audio/opus';
import { ALAW_DECODE, encodeG711FromLe, MULAW_DECODE, type G711Law } from './g711';
import { G722Decoder, G722Encoder } from './g722';

/** Codecs the bridge transcodes to and from Opus. */
export type TranscodedCodec = G711Law | 'G722';

/** Codes (bytes) of a 20 ms PBX frame, and its RTP ticks at 8 kHz: 160 for G.711 and for G.722. */
export const PBX_FRAME_CODES = 160;
/** One 20 ms frame in Opus's 48 kHz RTP clock. */
export const OPUS_FRAME_TICKS = 960;

export interface OpusPbxTranscoderOptions {
  codec: TranscodedCodec;
  /** Opus encoder complexity 0..10 (default 5: the measured sweet spot for many calls per core). */
  opusComplexity?: number;
  /** Opus bitrate toward WhatsApp (default 16000 for G.711; 20000, Meta's maxaveragebitrate, for G.722's wideband). */
  opusBitrateBps?: number;
  /** In-band FEC in our Opus stream (default true). */
  opusFec?: boolean;
  /**
   * Loss the encoder plans FEC for, percent (default 10 for G.711; 5 for G.722: at 20 kbit/s and 10 %
   * libopus narrows a wideband stream to mediumband, 6 kHz, to pay for the FEC, measured here).
   */
  opusPacketLossPercent?: number;
  /** High-resolution clock in ms, for the timing statistics (default performance.now). */
  now?: () => number;
}

export interface TranscoderStats {
  /** Opus packets decoded for the PBX (WhatsApp -> PBX). */
  framesDecoded: number;
  /** Frames produced by PLC (lost or undecodable Opus). */
  framesConcealed: number;
  /** Opus packets that libopus rejected (concealed instead). */
  decodeErrors: number;
  /** Opus frames encoded from PBX audio (PBX -> WhatsApp). */
  framesEncoded: number;
  /** Running mean µs of one Opus decode + PBX encode (including PLC frames). */
  decodeMeanUs: number;
  /** Running mean µs of one PBX decode + Opus encode of a 20 ms frame. */
  encodeMeanUs: number;
}

/** The PBX codec as the transcoder uses it: PCM at its rate <-> codes. */
interface PbxCodecPort {
  readonly pcmRate: 8000 | 16000;
  /** PCM samples per code: 1 (G.711) or 2 (G.722). */
  readonly samplesPerCode: 1 | 2;
  /** Little-endian 16-bit PCM (as libopus returns it) to codes; returns the codes written. */
  encodeLe(pcmLe: Uint8Array, byteLength: number, out: Uint8Array): number;
  /** `count` codes from `codes[from]` to PCM into `pcm[at]`. */
  decode(codes: Uint8Array, from: number, count: number, pcm: Int16Array, at: number): void;
}

function g711Port(law: G711Law): PbxCodecPort {
  const table = law === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
  return {
    pcmRate: 8000,
    samplesPerCode: 1,
    encodeLe: (pcmLe, byteLength, out) => encodeG711FromLe(law, pcmLe, out, byteLength),
    decode: (codes, from, count, pcm, at) => {
      for (let i = 0; i < count; i++) pcm[at + i] = table[codes[from + i] as number] as number;
    },
  };
}

function g722Port(): PbxCodecPort {
  const encoder = new G722Encoder();
  const decoder = new G722Decoder();
  const pcm16 = new Int16Array(2 * PBX_FRAME_CODES * 4); // up to 80 ms of PLC or decoded audio at once
  return {
    pcmRate: 16000,
    samplesPerCode: 2,
    encodeLe: (pcmLe, byteLength, out) => {
      const samples = (byteLength >> 1) & ~1;
      if (samples > pcm16.length || samples / 2 > out.length) throw new RangeError('G.722 encode: buffer too small');
      for (let i = 0, b = 0; i < samples; i++, b += 2) pcm16[i] = (((pcmLe[b + 1] as number) << 24) | ((pcmLe[b] as number) << 16)) >> 16;
      return encoder.encode(pcm16, out, samples);
    },
    decode: (codes, from, count, pcm, at) => {
      decoder.decode(codes.subarray(from, from + count), pcm.subarray(at, at + 2 * count), count);
    },
  };
}

const MAX_READY = 8;

export class OpusPbxTranscoder {
  readonly codec: TranscodedCodec;
  readonly #port: PbxCodecPort;
  readonly #opus: OpusCodec;
  readonly #now: () => number;
  readonly #plcPacket = new Uint8Array(1);
  /** PCM of the PBX -> WhatsApp frame being filled. */
  readonly #frame: Int16Array;
  /** Zero PCM, encoded when there is nothing to conceal from. */
  readonly #silenceLe: Uint8Array;
  /** Codes in the frame being filled. */
  #fill = 0;
  readonly #ready: Buffer[] = [];
  #lastToc = -1;
  #decoded = 0;
  #concealed = 0;
  #decodeErrors = 0;
  #encoded = 0;
  #decodeUsTotal = 0;
  #encodeUsTotal = 0;

  constructor(options: OpusPbxTranscoderOptions) {
    this.codec = options.codec;
    this.#port = options.codec === 'G722' ? g722Port() : g711Port(options.codec);
    this.#frame = new Int16Array(PBX_FRAME_CODES * this.#port.samplesPerCode);
    this.#silenceLe = new Uint8Array(this.#frame.length * 2);
    this.#now = options.now ?? (() => performance.now());
    this.#opus = new OpusCodec(this.#port.pcmRate, {
      complexity: options.opusComplexity ?? 5,
      bitrateBps: options.opusBitrateBps ?? (options.codec === 'G722' ? 20000 : 16000),
      inbandFec: options.opusFec ?? true,
      packetLossPercent: options.opusPacketLossPercent ?? (options.codec === 'G722' ? 5 : 10),
    });
  }

  /**
   * WhatsApp -> PBX: decodes one Opus packet into PBX codes in `out` (160 for a 20 ms packet); returns the
   * number of codes (at most `out.length`). An undecodable packet is concealed instead (`decodeErrors`).
   */
  opusToPbx(packet: Uint8Array, out: Uint8Array): number {
    const t0 = this.#now();
    let pcm: Uint8Array;
    try {
      pcm = this.#opus.decodeLe(packet);
    } catch {
      // corrupt packet: conceal it like a lost one (libopus state is unchanged by a rejected packet)
      this.#decodeErrors++;
      return this.concealToPbx(out);
    }
    if (packet.length > 0) this.#lastToc = packet[0] as number;
    // WhatsApp sends 20 ms (reference §6.1); a longer frame is cut to what `out` holds
    const n = this.#port.encodeLe(pcm, Math.min(pcm.length, out.length * 2 * this.#port.samplesPerCode), out);
    this.#decoded++;
    this.#decodeUsTotal += (this.#now() - t0) * 1000;
    return n;
  }

  /** A lost Opus frame: `codes` (default 20 ms) of PLC output as PBX codes in `out`. */
  concealToPbx(out: Uint8Array, codes = PBX_FRAME_CODES): number {
    const t0 = this.#now();
    if (codes > out.length || codes > PBX_FRAME_CODES) throw new RangeError('conceal: output buffer too small');
    const perCode = this.#port.samplesPerCode;
    let written = 0;
    if (this.#lastToc >= 0) {
      this.#plcPacket[0] = this.#lastToc & 0xfc; // code 0: one frame, of 0 bytes
      // frames shorter than 20 ms (2.5..10 ms TOCs) need several PLC calls: at most 8 for 2.5 ms
      for (let i = 0; i < 8 && written < codes; i++) {
        const pcm = this.#opus.decodeLe(this.#plcPacket);
        const take = Math.min((pcm.length >> 1) / perCode, codes - written);
        if (take < 1) break;
        written += this.#port.encodeLe(pcm, take * 2 * perCode, out.subarray(written));
      }
    }
    // nothing decoded yet (or PLC returned nothing): silence, through the encoder so its state follows
    if (written < codes) this.#port.encodeLe(this.#silenceLe, (codes - written) * 2 * perCode, out.subarray(written));
    this.#concealed++;
    this.#decodeUsTotal += (this.#now() - t0) * 1000;
    return codes;
  }

  /** Codes waiting in the frame being filled (PBX -> WhatsApp). */
  get pendingCodes(): number {
    return this.#fill;
  }

  /** Drops a partly filled frame (a gap in the PBX stream). */
  dropPending(): void {
    this.#fill = 0;
  }

  /**
   * PBX -> WhatsApp: adds PBX codes; every completed 20 ms frame is encoded to Opus and queued. Returns the
   * number of frames now ready (`takeOpus`).
   */
  writePbx(codes: Uint8Array): number {
    const perCode = this.#port.samplesPerCode;
    let off = 0;
    while (off < codes.length) {
      const take = Math.min(PBX_FRAME_CODES - this.#fill, codes.length - off);
      const t0 = this.#now();
      this.#port.decode(codes, off, take, this.#frame, this.#fill * perCode);
      this.#fill += take;
      off += take;
      if (this.#fill === PBX_FRAME_CODES) {
        this.#fill = 0;
        const opus = this.#opus.encode(this.#frame);
        if (this.#ready.length >= MAX_READY) this.#ready.shift(); // a caller that never takes: bounded
        this.#ready.push(opus);
        this.#encoded++;
      }
      this.#encodeUsTotal += (this.#now() - t0) * 1000;
    }
    return this.#ready.length;
  }

  /** The next encoded Opus frame (20 ms), oldest first. */
  takeOpus(): Buffer | undefined {
    return this.#ready.shift();
  }

  stats(): TranscoderStats {
    const decodes = this.#decoded + this.#concealed;
    return {
      framesDecoded: this.#decoded,
      framesConcealed: this.#concealed,
      decodeErrors: this.#decodeErrors,
      framesEncoded: this.#encoded,
      decodeMeanUs: decodes ? this.#decodeUsTotal / decodes : 0,
      encodeMeanUs: this.#encoded ? this.#encodeUsTotal / this.#encoded : 0,
    };
  }
}
