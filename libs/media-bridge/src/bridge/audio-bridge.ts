/**
 * Connects the WhatsApp side and the PBX side of a call: two `MediaPort`s, audio both ways, RFC 4733 DTMF
 * both ways, every outgoing stream re-stamped onto its leg's single SSRC (reference §6.1).
 *
 * transcode (PBX negotiated PCMU, PCMA or G.722; all three send 160 bytes per 20 ms on an 8 kHz RTP clock):
 *   WhatsApp -> PBX, `playout: 'arrival'` (default): each Opus packet that is next in sequence is decoded to
 *   the PBX codec and sent at once; the jitter buffer only restores order and finds losses: a missing frame is
 *   concealed (libopus PLC) once a later one has waited `reorderWaitMs` (checked on the playout clock).
 *   Timestamps are the WhatsApp ones converted 48 kHz -> 8 kHz by a `Restamper`, so the PBX stream keeps
 *   the sender's timing and its own jitter buffer absorbs the network's (as with rtpengine). This adds no
 *   latency: the playout clock would add 0-20 ms plus its buffer's target delay (measured p99 > 20 ms).
 *   `playout: 'clock'`: the jitter buffer holds 1-3 frames and the playout clock takes one frame per 20 ms,
 *   decodes it (or conceals a lost one) and sends it with a timestamp from the playout clock (+160 per
 *   frame, also across silences, so the PBX stream never jumps back or sideways): smoother output toward
 *   a PBX without a jitter buffer, at 20-60 ms more latency.
 *   PBX -> WhatsApp: each PBX packet is decoded and encoded to Opus at once (WhatsApp has its own jitter
 *   buffer), timestamps converted 8 kHz -> 48 kHz by a `Restamper`.
 * passthrough (PBX negotiated Opus): payloads are forwarded byte for byte both ways, only the payload type
 *   and timestamps are rewritten (Restamper, 48 kHz -> 48 kHz).
 *
 * DTMF: telephone-event packets are relayed as they arrive (not through the jitter buffer). The event
 * timestamp is converted into the destination's audio timestamp space (48 kHz <-> 8 kHz), the duration stays
 * in 8 kHz units. Without a PBX telephone-event PT, digits from WhatsApp are only reported (`dtmf` event), so
 * signalling can send SIP INFO. `sendDtmfToWa`/`sendDtmfToPbx` originate digits.
 *
 * Ports: the bridge hands `sendRtp` a fresh packet object and payload each time, and keeps received payloads
 * by reference (jitter buffer): ports must give out a payload per packet (RtpLeg and werift do).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '@wagw/logging';
import { ProgressToneFrames, type ProgressTone } from '../audio/progress-tone';
import { OPUS_FRAME_TICKS, OpusPbxTranscoder, PBX_FRAME_CODES, type TranscodedCodec, type TranscoderStats } from '../codec/transcoder';
import { RtpReceiveStats } from '../rtp/rtp-receive-stats';
import { BridgeClosedError, DtmfNotNegotiatedError } from './bridge.errors';
import { dtmfEventOf, DtmfReceiver, DtmfSender, type DtmfOutPacket } from './dtmf';
import { FrameClock, type FrameTicker, type FrameTickListener } from './frame-clock';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from './jitter-buffer';
import type { MediaPort, RtpPacketIn } from './media-port.types';
import { Restamper } from './restamper';
import { SafeEmitter } from './safe-emitter';

export type BridgeMedia =
  | { mode: 'transcode'; pbxCodec: TranscodedCodec; pbxPt: number; waOpusPt?: number }
  | { mode: 'passthrough'; pbxPt: number; waOpusPt?: number };

export interface AudioBridgeOptions {
  wa: MediaPort;
  pbx: MediaPort;
  media: BridgeMedia;
  logger: Logger;
  /** WhatsApp's telephone-event/8000 payload type (default 126). */
  waDtmfPt?: number;
  /** The PBX's negotiated telephone-event payload type; omit when the PBX has none. */
  pbxDtmfPt?: number;
  /** Playout clock; share one per process. Default: a clock of the bridge's own. */
  ticker?: FrameTicker;
  /** Monotonic ms on the ticker's scale (default performance.now). */
  now?: () => number;
  opusComplexity?: number;
  opusBitrateBps?: number;
  jitter?: Omit<JitterBufferOptions, 'clockRate'>;
  /** transcode, WhatsApp -> PBX: decode on arrival (default) or on the playout clock (see the file comment). */
  playout?: 'arrival' | 'clock';
  /** Arrival playout: how long a later frame waits for a missing one before it is concealed (default 5 ms). */
  reorderWaitMs?: number;
  /**
   * First timestamp of the stream toward WhatsApp. A bridge that takes over a call from another (a transfer to
   * another PBX leg) continues the previous bridge's stream here (`waTimestampNow()`): Meta's client expects
   * one SSRC and no timestamp jump (reference §6.1). Default random.
   */
  waInitialTimestamp?: number;
}

export type DtmfDirection = 'wa-to-pbx' | 'pbx-to-wa';

export interface BridgeDtmfEvent {
  direction: DtmfDirection;
  digit: string;
  durationMs: number;
  /** 'rtp': relayed from the other side; 'api': sent by sendDtmfToWa/sendDtmfToPbx. */
  source: 'rtp' | 'api';
}

export interface AudioBridgeEvents extends Record<string, unknown> {
  dtmf: BridgeDtmfEvent;
}

export interface BridgeDirectionStats {
  /** Audio packets received from the source side. */
  packetsIn: number;
  /** Audio packets sent to the destination side (transcode: including concealed frames). */
  packetsOut: number;
  dtmfPacketsIn: number;
  dtmfPacketsOut: number;
  /** Digits completed in this direction (relayed or sent by the API). */
  digits: number;
  /** Packets of a payload type the bridge does not carry. */
  ignored: number;
  /** RFC 3550 loss and jitter of the source stream. */
  lost: number;
  jitterMs: number;
}

export interface AudioBridgeStats {
  mode: BridgeMedia['mode'];
  waToPbx: BridgeDirectionStats;
  pbxToWa: BridgeDirectionStats;
  /** WhatsApp -> PBX jitter buffer (transcode only): late, dropped, concealed, target delay. */
  jitterBuffer: JitterBufferStats | null;
  /** Codec counters and running mean µs per frame (transcode only). */
  transcoder: TranscoderStats | null;
}

interface DirectionCounters {
  packetsIn: number;
  packetsOut: number;
  dtmfPacketsIn: number;
  dtmfPacketsOut: number;
  digits: number;
  ignored: number;
}

const zeroCounters = (): DirectionCounters => ({ packetsIn: 0, packetsOut: 0, dtmfPacketsIn: 0, dtmfPacketsOut: 0, digits: 0, ignored: 0 });

/** The restamper's source id of a tone the bridge plays itself (RTP SSRCs are unsigned: never this). */
const TONE_SSRC = -2;

/** A progress tone played to WhatsApp in place of the PBX's audio, as PBX codes through the transcoder. */
interface WaTone {
  frames: ProgressToneFrames;
  codes: Uint8Array;
  /** Its own source timestamp (8 kHz ticks, as the PBX's): the restamper continues the outgoing stream. */
  ts: number;
}

export class AudioBridge {
  readonly events: SafeEmitter<AudioBridgeEvents>;
  readonly #wa: MediaPort;
  readonly #pbx: MediaPort;
  readonly #mode: BridgeMedia['mode'];
  readonly #pbxPt: number;
  readonly #waOpusPt: number;
  readonly #waDtmfPt: number;
  readonly #pbxDtmfPt: number | null;
  readonly #now: () => number;
  readonly #ticker: FrameTicker;
  readonly #ownClock: FrameClock | null;
  readonly #tickListener: FrameTickListener = { onFrameTick: (now) => this.#onTick(now) };
  readonly #unsubscribe: (() => void)[];
  readonly #jb: JitterBuffer | null;
  readonly #tc: OpusPbxTranscoder | null;
  readonly #toWa: Restamper;
  readonly #toPbx: Restamper | null;
  readonly #arrival: boolean;
  readonly #reorderWaitMs: number;
  /** Arrival playout: the WhatsApp timestamp of the last frame played or concealed. */
  #lastWaTs = 0;
  #lastWaSsrc = 0;
  readonly #waRx = new RtpReceiveStats(48000);
  readonly #pbxRx: RtpReceiveStats;
  readonly #waDtmfRx = new DtmfReceiver();
  readonly #pbxDtmfRx = new DtmfReceiver();
  readonly #waDtmfTx = new DtmfSender();
  readonly #pbxDtmfTx = new DtmfSender();
  readonly #toPbxCount = zeroCounters();
  readonly #toWaCount = zeroCounters();
  /** transcode, WhatsApp -> PBX: timestamp of the next frame on the playout clock, and the last played frame. */
  #pbxFrameTs = Math.floor(Math.random() * 0x100000000);
  #pbxGap = true;
  #anchorWaTs = 0;
  #anchorPbxTs = 0;
  #anchored = false;
  /** The last relayed event's source timestamp and its mapped timestamp, per direction. */
  readonly #toPbxEvent = { src: -1, dst: 0 };
  readonly #toWaEvent = { src: -1, dst: 0 };
  /** transcode, PBX -> WhatsApp: the source timestamp that continues the PBX stream. */
  #pbxNextSrcTs = -1;
  /** transcode, PBX -> WhatsApp: a tone played instead of the PBX's audio (playToWa). */
  #waTone: WaTone | null = null;
  #closed = false;

  constructor(options: AudioBridgeOptions) {
    const media = options.media;
    this.#wa = options.wa;
    this.#pbx = options.pbx;
    this.#mode = media.mode;
    this.#pbxPt = media.pbxPt;
    this.#waOpusPt = media.waOpusPt ?? 111;
    this.#waDtmfPt = options.waDtmfPt ?? 126;
    this.#pbxDtmfPt = options.pbxDtmfPt ?? null;
    this.#now = options.now ?? (() => performance.now());
    this.#arrival = (options.playout ?? 'arrival') === 'arrival';
    this.#reorderWaitMs = options.reorderWaitMs ?? 5;
    this.events = new SafeEmitter<AudioBridgeEvents>(options.logger);
    if (media.mode === 'transcode') {
      this.#tc = new OpusPbxTranscoder({ codec: media.pbxCodec, opusComplexity: options.opusComplexity ?? 5, opusBitrateBps: options.opusBitrateBps });
      this.#jb = new JitterBuffer({ ...options.jitter, clockRate: 48000 });
      this.#toWa = new Restamper({ srcRate: 8000, dstRate: 48000, ...(options.waInitialTimestamp !== undefined ? { initialTimestamp: options.waInitialTimestamp } : {}) });
      this.#toPbx = this.#arrival ? new Restamper({ srcRate: 48000, dstRate: 8000 }) : null;
      this.#pbxRx = new RtpReceiveStats(8000);
    } else {
      this.#tc = null;
      this.#jb = null;
      this.#toWa = new Restamper({ srcRate: 48000, dstRate: 48000, ...(options.waInitialTimestamp !== undefined ? { initialTimestamp: options.waInitialTimestamp } : {}) });
      this.#toPbx = new Restamper({ srcRate: 48000, dstRate: 48000 });
      this.#pbxRx = new RtpReceiveStats(48000);
    }
    this.#ownClock = options.ticker ? null : new FrameClock({ logger: options.logger, now: this.#now });
    this.#ticker = options.ticker ?? (this.#ownClock as FrameClock);
    this.#unsubscribe = [this.#wa.onRtp(this.#onWaRtp), this.#pbx.onRtp(this.#onPbxRtp)];
    this.#ticker.add(this.#tickListener);
  }

  #onWaRtp = (p: RtpPacketIn): void => {
    const now = this.#now();
    if (p.payloadType === this.#waOpusPt) {
      this.#toPbxCount.packetsIn++;
      this.#waRx.update(p.ssrc, p.sequenceNumber, p.timestamp, now);
      if (this.#jb) {
        this.#jb.push(p.sequenceNumber, p.timestamp, p.ssrc, p.payload, now);
        if (this.#arrival) this.#playReady(this.#jb, this.#tc as OpusPbxTranscoder, now);
        return;
      }
      const toPbx = this.#toPbx as Restamper;
      const ts = toPbx.mapAudio(p.ssrc, p.timestamp, now);
      this.#pbx.sendRtp({ payloadType: this.#pbxPt, timestamp: ts, marker: p.marker || toPbx.discontinuity, payload: p.payload });
      this.#toPbxCount.packetsOut++;
    } else if (p.payloadType === this.#waDtmfPt) {
      this.#jb?.skip(p.sequenceNumber, p.ssrc); // events share the audio's sequence space: not a lost frame
      this.#relayDtmf('wa-to-pbx', p, now);
    } else {
      this.#toPbxCount.ignored++;
    }
  };

  #onPbxRtp = (p: RtpPacketIn): void => {
    const now = this.#now();
    if (p.payloadType === this.#pbxPt) {
      this.#toWaCount.packetsIn++;
      this.#pbxRx.update(p.ssrc, p.sequenceNumber, p.timestamp, now);
      if (this.#tc) this.#transcodeToWa(this.#tc, p, now);
      else {
        const ts = this.#toWa.mapAudio(p.ssrc, p.timestamp, now);
        this.#wa.sendRtp({ payloadType: this.#waOpusPt, timestamp: ts, marker: p.marker || this.#toWa.discontinuity, payload: p.payload });
        this.#toWaCount.packetsOut++;
      }
    } else if (this.#pbxDtmfPt !== null && p.payloadType === this.#pbxDtmfPt) {
      this.#relayDtmf('pbx-to-wa', p, now);
    } else {
      this.#toWaCount.ignored++;
    }
  };

  /** PBX -> WhatsApp: PBX audio to Opus frames; a gap in its timestamps drops a partly filled frame. */
  #transcodeToWa(tc: OpusPbxTranscoder, p: RtpPacketIn, now: number): void {
    if (this.#waTone) {
      this.#toWaCount.ignored++; // WhatsApp hears the tone meanwhile
      return;
    }
    let pending = tc.pendingCodes;
    if (pending > 0 && p.timestamp !== this.#pbxNextSrcTs) {
      tc.dropPending();
      pending = 0;
    }
    const startTs = p.timestamp - pending;
    this.#pbxNextSrcTs = (p.timestamp + p.payload.length) >>> 0;
    tc.writePbx(p.payload);
    let k = 0;
    for (let opus = tc.takeOpus(); opus !== undefined; opus = tc.takeOpus(), k++) {
      const ts = this.#toWa.mapAudio(p.ssrc, (startTs + PBX_FRAME_CODES * k) >>> 0, now);
      const marker = (k === 0 && p.marker) || this.#toWa.discontinuity;
      this.#wa.sendRtp({ payloadType: this.#waOpusPt, timestamp: ts, marker, payload: opus });
      this.#toWaCount.packetsOut++;
    }
  }

  #onTick(now: number): void {
    if (this.#jb && this.#tc) {
      if (this.#arrival) this.#concealOverdue(this.#jb, this.#tc, now);
      else this.#playToPbx(this.#jb, this.#tc, now);
    }
    if (this.#waTone && this.#tc) this.#toneToWa(this.#tc, this.#waTone, now);
    this.#completeStale(this.#waDtmfRx, 'wa-to-pbx', now);
    this.#completeStale(this.#pbxDtmfRx, 'pbx-to-wa', now);
    const toWa = this.#waDtmfTx.busy ? this.#waDtmfTx.tick(now, this.#toWa.current(now)) : null;
    if (toWa) this.#sendDtmfPackets(this.#wa, this.#waDtmfPt, toWa, this.#toWaCount);
    if (this.#pbxDtmfPt !== null && this.#pbxDtmfTx.busy) {
      const pbxTs = this.#toPbx ? this.#toPbx.current(now) : this.#pbxFrameTs;
      const toPbx = this.#pbxDtmfTx.tick(now, pbxTs);
      if (toPbx) this.#sendDtmfPackets(this.#pbx, this.#pbxDtmfPt, toPbx, this.#toPbxCount);
    }
  }

  /**
   * Plays `tone` to WhatsApp in place of the PBX's audio (ringback while a transfer's target rings), one frame per
   * tick on the same outgoing stream: its timestamps go on, with the marker bit on each burst. Undefined goes
   * back to the PBX's audio. Transcode mode only: false (nothing played) when the PBX sends Opus through.
   */
  playToWa(tone: ProgressTone | undefined): boolean {
    const tc = this.#tc;
    if (!tc) return false;
    tc.dropPending();
    this.#pbxNextSrcTs = -1;
    if (!tone) {
      this.#waTone = null;
      return false;
    }
    this.#waTone = { frames: new ProgressToneFrames(tone, tc.codec), codes: new Uint8Array(PBX_FRAME_CODES), ts: 0 };
    return true;
  }

  #toneToWa(tc: OpusPbxTranscoder, tone: WaTone, now: number): void {
    const { startsOn } = tone.frames.next(tone.codes);
    tc.writePbx(tone.codes);
    for (let opus = tc.takeOpus(); opus !== undefined; opus = tc.takeOpus()) {
      const ts = this.#toWa.mapAudio(TONE_SSRC, tone.ts, now);
      tone.ts = (tone.ts + PBX_FRAME_CODES) >>> 0;
      this.#wa.sendRtp({ payloadType: this.#waOpusPt, timestamp: ts, marker: startsOn || this.#toWa.discontinuity, payload: opus });
      this.#toWaCount.packetsOut++;
    }
  }

  /** Arrival playout: decodes and sends every frame that is next in sequence, on the WhatsApp timeline. */
  #playReady(jb: JitterBuffer, tc: OpusPbxTranscoder, now: number): void {
    for (let frame = jb.popReady(); frame !== null; frame = jb.popReady()) {
      const out = Buffer.allocUnsafe(PBX_FRAME_CODES);
      tc.opusToPbx(frame.payload, out);
      this.#lastWaTs = frame.timestamp;
      this.#lastWaSsrc = frame.ssrc;
      this.#sendToPbx(frame.timestamp, frame.ssrc, out, now);
    }
  }

  /** Arrival playout, on the clock: conceals frames a later one has waited for, then plays what follows. */
  #concealOverdue(jb: JitterBuffer, tc: OpusPbxTranscoder, now: number): void {
    if (jb.depth === 0) return;
    const conceal = jb.popOverdue(now, this.#reorderWaitMs);
    for (let k = 0; k < conceal; k++) {
      const out = Buffer.allocUnsafe(PBX_FRAME_CODES);
      tc.concealToPbx(out);
      this.#lastWaTs = (this.#lastWaTs + OPUS_FRAME_TICKS) >>> 0;
      this.#sendToPbx(this.#lastWaTs, this.#lastWaSsrc, out, now);
    }
    this.#playReady(jb, tc, now);
  }

  #sendToPbx(waTs: number, ssrc: number, payload: Buffer, now: number): void {
    const toPbx = this.#toPbx as Restamper;
    const ts = toPbx.mapAudio(ssrc, waTs, now);
    this.#pbx.sendRtp({ payloadType: this.#pbxPt, timestamp: ts, marker: toPbx.discontinuity, payload });
    this.#toPbxCount.packetsOut++;
  }

  /** transcode, clock playout: one frame per tick from the jitter buffer, on the playout clock's timestamps. */
  #playToPbx(jb: JitterBuffer, tc: OpusPbxTranscoder, now: number): void {
    const ts = this.#pbxFrameTs;
    this.#pbxFrameTs = (ts + PBX_FRAME_CODES) >>> 0;
    const frame = jb.pop(now);
    if (frame === null) {
      this.#pbxGap = true;
      return;
    }
    const out = Buffer.allocUnsafe(PBX_FRAME_CODES);
    if (frame === 'missing') tc.concealToPbx(out);
    else {
      tc.opusToPbx(frame.payload, out);
      this.#anchorWaTs = frame.timestamp;
      this.#anchorPbxTs = ts;
      this.#anchored = true;
    }
    this.#pbx.sendRtp({ payloadType: this.#pbxPt, timestamp: ts, marker: this.#pbxGap, payload: out });
    this.#pbxGap = false;
    this.#toPbxCount.packetsOut++;
  }

  #relayDtmf(direction: DtmfDirection, p: RtpPacketIn, now: number): void {
    const toPbx = direction === 'wa-to-pbx';
    const rx = toPbx ? this.#waDtmfRx : this.#pbxDtmfRx;
    const count = toPbx ? this.#toPbxCount : this.#toWaCount;
    count.dtmfPacketsIn++;
    const kind = rx.onPacket(p.timestamp, p.payload, now);
    const dstPt = toPbx ? this.#pbxDtmfPt : this.#waDtmfPt;
    if (kind !== 'invalid' && dstPt !== null) {
      // every packet of one event keeps the timestamp mapped at its first packet, even if the playout shifted
      const ev = toPbx ? this.#toPbxEvent : this.#toWaEvent;
      if (ev.src !== p.timestamp) {
        ev.src = p.timestamp;
        ev.dst = toPbx ? this.#pbxEventTs(p.ssrc, p.timestamp, now) : this.#toWa.mapEvent(p.ssrc, p.timestamp, now);
      }
      const ts = ev.dst;
      (toPbx ? this.#pbx : this.#wa).sendRtp({ payloadType: dstPt, timestamp: ts, marker: kind === 'start', payload: p.payload });
      count.dtmfPacketsOut++;
    }
    const done = rx.completed;
    if (done) this.#emitDigit(direction, done.digit, done.durationMs, 'rtp');
  }

  /** A WhatsApp event timestamp (48 kHz audio space) in the PBX stream's timestamp space. */
  #pbxEventTs(ssrc: number, waTs: number, now: number): number {
    if (this.#toPbx) return this.#toPbx.mapEvent(ssrc, waTs, now);
    if (!this.#anchored) return this.#pbxFrameTs;
    return (this.#anchorPbxTs + Math.round(((waTs - this.#anchorWaTs) | 0) / 6)) >>> 0;
  }

  #completeStale(rx: DtmfReceiver, direction: DtmfDirection, now: number): void {
    const done = rx.poll(now);
    if (done) this.#emitDigit(direction, done.digit, done.durationMs, 'rtp');
  }

  #sendDtmfPackets(port: MediaPort, pt: number, packets: DtmfOutPacket[], count: DirectionCounters): void {
    for (const pk of packets) {
      port.sendRtp({ payloadType: pt, timestamp: pk.timestamp, marker: pk.marker, payload: pk.payload });
      count.dtmfPacketsOut++;
    }
  }

  #emitDigit(direction: DtmfDirection, digit: string, durationMs: number, source: 'rtp' | 'api'): void {
    (direction === 'wa-to-pbx' ? this.#toPbxCount : this.#toWaCount).digits++;
    this.events.emit('dtmf', { direction, digit, durationMs, source });
  }

  /** Sends digits to WhatsApp as RFC 4733 events (PT 126, 8 kHz durations); resolves when all were sent. */
  sendDtmfToWa(digits: string, durationMs = 160): Promise<void> {
    return this.#sendDigits(this.#waDtmfTx, 'pbx-to-wa', digits, durationMs);
  }

  /** Sends digits to the PBX as RFC 4733 events; rejects with DtmfNotNegotiatedError when it has no PT. */
  sendDtmfToPbx(digits: string, durationMs = 160): Promise<void> {
    if (this.#pbxDtmfPt === null) return Promise.reject(new DtmfNotNegotiatedError('pbx'));
    return this.#sendDigits(this.#pbxDtmfTx, 'wa-to-pbx', digits, durationMs);
  }

  async #sendDigits(tx: DtmfSender, direction: DtmfDirection, digits: string, durationMs: number): Promise<void> {
    if (this.#closed) throw new BridgeClosedError();
    for (const d of digits) dtmfEventOf(d); // all valid, or none queued
    const sent = [...digits].map((d) => tx.enqueue(d, durationMs).then(() => this.#emitDigit(direction, d.toUpperCase(), durationMs, 'api')));
    await Promise.all(sent);
  }

  /** Where the stream toward WhatsApp stands now, one frame ahead (48 kHz): a successor bridge starts there. */
  waTimestampNow(): number {
    return (this.#toWa.current(this.#now()) + 960) >>> 0;
  }

  stats(): AudioBridgeStats {
    const dir = (c: DirectionCounters, rx: RtpReceiveStats): BridgeDirectionStats => {
      const s = rx.started ? rx.snapshot() : null;
      return { ...c, lost: s ? Math.max(0, s.packetsLost) : 0, jitterMs: s ? s.jitterMs : 0 };
    };
    return {
      mode: this.#mode,
      waToPbx: dir(this.#toPbxCount, this.#waRx),
      pbxToWa: dir(this.#toWaCount, this.#pbxRx),
      jitterBuffer: this.#jb ? this.#jb.stats() : null,
      transcoder: this.#tc ? this.#tc.stats() : null,
    };
  }

  /** Stops forwarding (the ports stay open: their owner closes them); pending API digits reject. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#unsubscribe) off();
    this.#ticker.remove(this.#tickListener);
    this.#ownClock?.stop();
    const err = new BridgeClosedError();
    this.#waDtmfTx.cancel(err);
    this.#pbxDtmfTx.cancel(err);
    this.#jb?.reset();
  }
}
