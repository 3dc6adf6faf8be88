import { RtcpSrPacket, type RtcpPacket, type RtpPacket } from 'werift';
import type { Logger } from '@wagw/logging';
import type { RtpPacketIn } from '../bridge/media-port.types';
import { DtmfReceiver } from '../bridge/dtmf';
import { OpusRecorder } from '../audio/opus-recorder';
import { OPUS_PAYLOAD_TYPE, TELEPHONE_EVENT_PAYLOAD_TYPE } from '../audio/outbound-audio-stream';
import type { SrtpRtpPacket } from './srtp/srtp-session';
import { RtpReceiveStats } from '../rtp/rtp-receive-stats';
import { ntpMiddle32, parseRtcp, type RtcpReportBlock } from '../rtp/rtcp-packet';

/** A DTMF digit received as RFC 4733 events. */
export interface ReceivedDtmf {
  digit: string;
  durationMs: number;
  /** Local time (ms since epoch) the digit completed. */
  at: number;
}

export interface InboundMediaStats {
  packetsReceived: number;
  /** RTCP compound packets received (Meta counts them as media: a call on hold lives on RTCP). */
  rtcpReceived: number;
  bytesReceived: number;
  firstPacketReceivedAt?: number;
  lastPacketReceivedAt?: number;
  dtmfReceived: ReceivedDtmf[];
}

export interface InboundMediaOptions {
  logger: Logger;
  /** Keep the newest N seconds of decoded Opus (0: do not decode). */
  recordSeconds: number;
  onDtmf?: (digit: ReceivedDtmf) => void;
}

/**
 * What arrives on a WhatsApp audio transport (already SRTP-decrypted by werift): counts it, fans it out to
 * `onRtp` listeners (a throwing listener is logged, never breaks the receive path), decodes PT 126
 * telephone-events into digits and, when recording, decodes PT 111 Opus into a bounded PCM ring.
 */
export class InboundMedia {
  readonly #logger: Logger;
  /** Replaced, never changed in place (as RtpLeg's): a packet's dispatch walks it without a copy. */
  #listeners: ReadonlyArray<(packet: RtpPacketIn) => void> = [];
  readonly #dtmf = new DtmfReceiver();
  readonly #recorder: OpusRecorder | undefined;
  readonly #onDtmf: ((digit: ReceivedDtmf) => void) | undefined;
  readonly #stats: InboundMediaStats = { packetsReceived: 0, rtcpReceived: 0, bytesReceived: 0, dtmfReceived: [] };
  /** RFC 3550 reception statistics of the remote stream (its one SSRC, audio and events). */
  readonly #rx = new RtpReceiveStats(48000);
  #lastSr: { lsr: number; atMs: number } | null = null;

  constructor(options: InboundMediaOptions) {
    this.#logger = options.logger;
    this.#recorder = options.recordSeconds > 0 ? new OpusRecorder(options.recordSeconds) : undefined;
    this.#onDtmf = options.onDtmf;
  }

  get recorder(): OpusRecorder | undefined {
    return this.#recorder;
  }

  onRtp(listener: (packet: RtpPacketIn) => void): () => void {
    if (!this.#listeners.includes(listener)) this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  /** RTP and RTCP packets received so far (a media timeout watches it). */
  get packetsHeard(): number {
    return this.#stats.packetsReceived + this.#stats.rtcpReceived;
  }

  stats(): InboundMediaStats {
    return { ...this.#stats, dtmfReceived: [...this.#stats.dtmfReceived] };
  }

  /** A packet from werift's RTP path. */
  handle(rtp: RtpPacket): void {
    const h = rtp.header;
    this.#dispatch(h.payloadType, h.sequenceNumber, h.timestamp, h.marker, h.ssrc, rtp.payload);
  }

  /** A packet from the SRTP fast path (its payload views the datagram's own buffer: keeping it is safe). */
  handleFast(p: SrtpRtpPacket): void {
    this.#dispatch(p.payloadType, p.sequenceNumber, p.timestamp, p.marker, p.ssrc, p.payload);
  }

  /** RTCP from the remote (werift decrypts it on either path): sender reports feed our reception reports. */
  handleRtcp(rtcp: RtcpPacket): void {
    this.#stats.rtcpReceived++;
    if (rtcp instanceof RtcpSrPacket) this.noteSenderReport(rtcp.senderInfo.ntpTimestamp, Date.now());
  }

  /** Plain compound RTCP from the SRTP fast path: sender reports feed our reception reports. */
  handleRtcpBytes(rtcp: Buffer): void {
    this.#stats.rtcpReceived++;
    let packets: ReturnType<typeof parseRtcp>;
    try {
      packets = parseRtcp(rtcp);
    } catch {
      // malformed RTCP after a valid SRTCP tag: nothing to learn from it
      return;
    }
    for (const p of packets) if (p.type === 'sr') this.#lastSr = { lsr: ntpMiddle32(p.ntpSeconds, p.ntpFraction), atMs: Date.now() };
  }

  /** The remote's last sender report (RFC 3550 §6.4.1 LSR: the middle 32 bits of its NTP timestamp). */
  noteSenderReport(ntpTimestamp: bigint, atMs: number): void {
    this.#lastSr = { lsr: Number((ntpTimestamp >> 16n) & 0xffffffffn), atMs };
  }

  /** A reception report block about the remote stream (RFC 3550 §6.4.1); null before any packet. */
  receptionReport(nowMs: number): RtcpReportBlock | null {
    if (!this.#rx.started) return null;
    const sr = this.#lastSr;
    const dlsr = sr ? Math.min(0xffffffff, Math.round(((nowMs - sr.atMs) * 65536) / 1000)) : 0;
    return this.#rx.reportBlock(sr?.lsr ?? 0, dlsr);
  }

  #dispatch(payloadType: number, sequenceNumber: number, timestamp: number, marker: boolean, ssrc: number, payload: Buffer): void {
    const now = Date.now();
    this.#rx.update(ssrc, sequenceNumber, timestamp, now);
    this.#stats.packetsReceived++;
    this.#stats.bytesReceived += payload.length;
    this.#stats.firstPacketReceivedAt ??= now;
    this.#stats.lastPacketReceivedAt = now;
    if (payloadType === TELEPHONE_EVENT_PAYLOAD_TYPE) this.#dtmfPacket(timestamp, payload, now);
    else if (payloadType === OPUS_PAYLOAD_TYPE) this.#recorder?.push(payload);
    this.#pollDtmf(now);
    const listeners = this.#listeners;
    if (listeners.length === 0) return;
    const packet: RtpPacketIn = { payloadType, sequenceNumber, timestamp, marker, ssrc, payload, receivedAt: now };
    for (const listener of listeners) {
      try {
        listener(packet);
      } catch (err) {
        this.#logger.error({ err }, 'RTP listener threw');
      }
    }
  }

  #dtmfPacket(timestamp: number, payload: Buffer, now: number): void {
    this.#dtmf.onPacket(timestamp, payload, now);
    const done = this.#dtmf.completed;
    if (done) this.#digit({ digit: done.digit, durationMs: done.durationMs, at: now });
  }

  #pollDtmf(now: number): void {
    const done = this.#dtmf.poll(now);
    if (done) this.#digit({ digit: done.digit, durationMs: done.durationMs, at: now });
  }

  #digit(d: ReceivedDtmf): void {
    this.#stats.dtmfReceived.push(d);
    if (this.#stats.dtmfReceived.length > 256) this.#stats.dtmfReceived.shift();
    this.#logger.debug({ digit: d.digit, durationMs: d.durationMs }, 'DTMF received');
    try {
      this.#onDtmf?.(d);
    } catch (err) {
      this.#logger.error({ err }, 'DTMF listener threw');
    }
  }
}
