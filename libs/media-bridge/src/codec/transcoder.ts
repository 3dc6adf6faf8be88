/**
 * Opus <-> G.711 for one call, in 20 ms frames. Opus keeps its 48 kHz RTP clock on the wire (RFC 7587) but is
 * decoded and encoded at an 8 kHz codec rate: libopus resamples internally, so the G.711 side needs no
 * resampler, and an 8 kHz encoder costs about a third of a 48 kHz one (reference test-peers.md).
 *
 * Loss (WhatsApp -> PBX): `concealToG711` runs libopus PLC by decoding a TOC-only packet built from the last
 * packet's TOC (RFC 6716 §3.2.1: a 0-byte frame means "lost"), which keeps the decoder's mode and bandwidth.
 * The @evan/opus binding does not expose `decode_fec`, so in-band FEC of the next packet cannot be used to
 * rebuild a lost one; our own encoder does emit FEC (on by default) for WhatsApp's decoder.
 *
 * PBX -> WhatsApp: G.711 packets of any size fill a 20 ms frame; each complete frame is encoded once and
 * queued for `takeOpus()`. Per-frame work allocates only what the binding returns (one array per call).
 */
import { performance } from 'node:perf_hooks';
import { OpusCodec } from '../audio/opus';
import { ALAW_DECODE, encodeG711FromLe, MULAW_DECODE, type G711Law } from './g711';

/** 20 ms at 8 kHz. */
export const G711_FRAME_SAMPLES = 160;
/** One 20 ms frame in Opus's 48 kHz RTP clock. */
export const OPUS_FRAME_TICKS = 960;

export interface OpusG711TranscoderOptions {
  law: G711Law;
  /** Opus encoder complexity 0..10 (default 5: the measured sweet spot for many calls per core). */
  opusComplexity?: number;
  /** Opus bitrate toward WhatsApp (default 16000: narrowband voice with room for in-band FEC). */
  opusBitrateBps?: number;
  /** In-band FEC in our Opus stream (default true). */
  opusFec?: boolean;
  /** Loss the encoder plans FEC for, percent (default 10). */
  opusPacketLossPercent?: number;
  /** High-resolution clock in ms, for the timing statistics (default performance.now). */
  now?: () => number;
}

export interface TranscoderStats {
  /** Opus packets decoded to G.711 (WhatsApp -> PBX). */
  framesDecoded: number;
  /** Frames produced by PLC (lost or undecodable Opus). */
  framesConcealed: number;
  /** Opus packets that libopus rejected (concealed instead). */
  decodeErrors: number;
  /** Opus frames encoded from G.711 (PBX -> WhatsApp). */
  framesEncoded: number;
  /** Running mean µs of one Opus decode + G.711 encode (including PLC frames). */
  decodeMeanUs: number;
  /** Running mean µs of one G.711 decode + Opus encode of a 20 ms frame. */
  encodeMeanUs: number;
}

const MAX_READY = 8;

export class OpusG711Transcoder {
  readonly law: G711Law;
  readonly #opus: OpusCodec;
  readonly #now: () => number;
  readonly #plcPacket = new Uint8Array(1);
  readonly #frame = new Int16Array(G711_FRAME_SAMPLES);
  readonly #decodeTable: Readonly<Int16Array>;
  #fill = 0;
  readonly #ready: Buffer[] = [];
  #lastToc = -1;
  #decoded = 0;
  #concealed = 0;
  #decodeErrors = 0;
  #encoded = 0;
  #decodeUsTotal = 0;
  #encodeUsTotal = 0;

  constructor(options: OpusG711TranscoderOptions) {
    this.law = options.law;
    this.#decodeTable = options.law === 'PCMU' ? MULAW_DECODE : ALAW_DECODE;
    this.#now = options.now ?? (() => performance.now());
    this.#opus = new OpusCodec(8000, {
      complexity: options.opusComplexity ?? 5,
      bitrateBps: options.opusBitrateBps ?? 16000,
      inbandFec: options.opusFec ?? true,
      packetLossPercent: options.opusPacketLossPercent ?? 10,
    });
  }

  /**
   * WhatsApp -> PBX: decodes one Opus packet into G.711 codes in `out` (160 for a 20 ms packet); returns the
   * number of samples (at most `out.length`). An undecodable packet is concealed instead (`decodeErrors`).
   */
  opusToG711(packet: Uint8Array, out: Uint8Array): number {
    const t0 = this.#now();
    let pcm: Uint8Array;
    try {
      pcm = this.#opus.decodeLe(packet);
    } catch {
      // corrupt packet: conceal it like a lost one (libopus state is unchanged by a rejected packet)
      this.#decodeErrors++;
      return this.concealToG711(out);
    }
    if (packet.length > 0) this.#lastToc = packet[0] as number;
    // WhatsApp sends 20 ms (reference §6.1); a longer frame is cut to what `out` holds
    const n = encodeG711FromLe(this.law, pcm, out, Math.min(pcm.length, out.length * 2));
    this.#decoded++;
    this.#decodeUsTotal += (this.#now() - t0) * 1000;
    return n;
  }

  /** A lost Opus frame: `samples` (default 20 ms) of PLC output as G.711 codes in `out`. */
  concealToG711(out: Uint8Array, samples = G711_FRAME_SAMPLES): number {
    const t0 = this.#now();
    if (samples > out.length) throw new RangeError('conceal: output buffer too small');
    let written = 0;
    if (this.#lastToc >= 0) {
      this.#plcPacket[0] = this.#lastToc & 0xfc; // code 0: one frame, of 0 bytes
      // frames shorter than 20 ms (2.5..10 ms TOCs) need several PLC calls: at most 8 for 2.5 ms
      for (let i = 0; i < 8 && written < samples; i++) {
        const pcm = this.#opus.decodeLe(this.#plcPacket);
        const take = Math.min(pcm.length >> 1, samples - written);
        if (take === 0) break;
        encodeG711FromLe(this.law, pcm, out.subarray(written), take * 2);
        written += take;
      }
    }
    // nothing decoded yet (or PLC returned nothing): G.711 silence
    if (written < samples) out.fill(this.law === 'PCMU' ? 0xff : 0xd5, written, samples);
    this.#concealed++;
    this.#decodeUsTotal += (this.#now() - t0) * 1000;
    return samples;
  }

  /** Samples waiting in the frame being filled (PBX -> WhatsApp). */
  get pendingSamples(): number {
    return this.#fill;
  }

  /** Drops a partly filled frame (a gap in the G.711 stream). */
  dropPending(): void {
    this.#fill = 0;
  }

  /**
   * PBX -> WhatsApp: adds G.711 codes; every completed 20 ms frame is encoded to Opus and queued. Returns the
   * number of frames now ready (`takeOpus`).
   */
  writeG711(codes: Uint8Array): number {
    let off = 0;
    while (off < codes.length) {
      const take = Math.min(G711_FRAME_SAMPLES - this.#fill, codes.length - off);
      const t0 = this.#now();
      const table = this.#decodeTable;
      const frame = this.#frame;
      for (let i = 0; i < take; i++) frame[this.#fill + i] = table[codes[off + i] as number] as number;
      this.#fill += take;
      off += take;
      if (this.#fill === G711_FRAME_SAMPLES) {
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
