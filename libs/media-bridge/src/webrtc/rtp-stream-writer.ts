import { randomInt } from 'node:crypto';
import {
  RtcpReceiverInfo,
  RtcpSenderInfo,
  RtcpSourceDescriptionPacket,
  RtcpSrPacket,
  RtpHeader,
  SourceDescriptionChunk,
  SourceDescriptionItem,
  type RTCDtlsTransport,
} from 'werift';
import type { Logger } from '@wagw/logging';
import type { RtpPacketOut } from '../bridge/media-port.types';
import { ntpFromUnixMs, SDES_CNAME, serializeRtcp, type RtcpReportBlock } from '../rtp/rtcp-packet';
import type { SrtpFastPath } from './srtp/srtp-fast-path';

const SR_INTERVAL_MS = 1000;

/** 64-bit NTP timestamp of a wall-clock time (RFC 3550 §4), as werift's RtcpSenderInfo takes it. */
function ntp64(epochMs: number): bigint {
  const { seconds, fraction } = ntpFromUnixMs(epochMs);
  return (BigInt(seconds) << 32n) | BigInt(fraction);
}

export interface RtpStreamWriterOptions {
  dtlsTransport: RTCDtlsTransport;
  ssrc: number;
  /** RTCP SDES CNAME sent with each sender report. */
  cname: string;
  /** RTP clock of the stream's timestamps (Opus: 48000). */
  clockRate: number;
  logger: Logger;
}

export interface RtpWriterStats {
  packetsSent: number;
  octetsSent: number;
  senderReportsSent: number;
  /** Packets refused because DTLS-SRTP was not up. */
  packetsDropped: number;
}

/**
 * Writes every outgoing packet of a leg on ONE SSRC with its own sequence numbers (Meta: one SSRC per
 * direction, reference §6.1), through werift's DTLS transport: `RTCRtpSender.sendRtp` would overwrite
 * the payload type with the negotiated codec's and so could not carry PT 126 telephone-events. Sends RTCP
 * sender reports (with SDES CNAME) about once a second once started, so RTCP keeps flowing during silence.
 */
export class RtpStreamWriter {
  readonly #opts: RtpStreamWriterOptions;
  #sequence = randomInt(0, 0x10000);
  #lastTimestamp: number | undefined;
  #lastSentAt = 0;
  #srTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #fast: SrtpFastPath | null = null;
  #report: ((nowMs: number) => RtcpReportBlock | null) | null = null;
  readonly #stats: RtpWriterStats = { packetsSent: 0, octetsSent: 0, senderReportsSent: 0, packetsDropped: 0 };

  constructor(options: RtpStreamWriterOptions) {
    this.#opts = options;
  }

  get ssrc(): number {
    return this.#opts.ssrc;
  }

  stats(): RtpWriterStats {
    return { ...this.#stats };
  }

  get ready(): boolean {
    return !this.#closed && this.#opts.dtlsTransport.state === 'connected';
  }

  /**
   * From now on RTP goes out through the SRTP fast path (sequence numbers continue). werift then no longer
   * sees the received RTP and sends no receiver reports, so `report` supplies the reception report block that
   * each of our sender reports carries (RFC 3550 §6.4.1).
   */
  useFastPath(fast: SrtpFastPath | null, report?: (nowMs: number) => RtcpReportBlock | null): void {
    this.#fast = fast;
    this.#report = fast && report ? report : null;
  }

  /** Sends one packet; returns false (and counts a drop) when SRTP is not up, ICE refuses, or the writer is closed. */
  write(packet: RtpPacketOut): boolean {
    if (!this.ready) {
      this.#stats.packetsDropped++;
      return false;
    }
    const seq = (this.#sequence + 1) & 0xffff;
    const timestamp = packet.timestamp >>> 0;
    if (this.#fast) {
      if (!this.#fast.send(packet.payloadType, packet.marker, seq, timestamp, this.#opts.ssrc, packet.payload)) {
        this.#stats.packetsDropped++;
        return false;
      }
    } else {
      const header = new RtpHeader({ payloadType: packet.payloadType, sequenceNumber: seq, timestamp, ssrc: this.#opts.ssrc, marker: packet.marker });
      this.#opts.dtlsTransport.sendRtp(packet.payload, header).catch((err: unknown) => {
        this.#opts.logger.debug({ err }, 'SRTP send failed');
      });
    }
    this.#sequence = seq;
    this.#lastTimestamp = timestamp;
    this.#lastSentAt = Date.now();
    this.#stats.packetsSent++;
    this.#stats.octetsSent += packet.payload.length;
    return true;
  }

  /** Starts the RTCP sender-report loop (idempotent). */
  startRtcp(): void {
    if (this.#srTimer || this.#closed) return;
    const tick = (): void => {
      this.#sendReport();
      const jitter = SR_INTERVAL_MS * (0.5 + Math.random());
      this.#srTimer = setTimeout(tick, jitter);
    };
    this.#srTimer = setTimeout(tick, SR_INTERVAL_MS * (0.5 + Math.random()));
  }

  close(): void {
    this.#closed = true;
    if (this.#srTimer) clearTimeout(this.#srTimer);
    this.#srTimer = undefined;
  }

  /** The same SR + SDES CNAME, serialized and protected by the SRTP fast path (no werift objects). */
  #sendFastReport(now: number, rtpTimestamp: number, block: RtcpReportBlock | null): void {
    const ntp = ntpFromUnixMs(now);
    const ssrc = this.#opts.ssrc;
    const rtcp = serializeRtcp([
      { type: 'sr', ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp, packetCount: this.#stats.packetsSent >>> 0, octetCount: this.#stats.octetsSent >>> 0, reports: block ? [block] : [] },
      { type: 'sdes', chunks: [{ ssrc, items: [{ type: SDES_CNAME, text: this.#opts.cname }] }] },
    ]);
    if ((this.#fast as SrtpFastPath).sendRtcp(rtcp)) this.#stats.senderReportsSent++;
  }

  #sendReport(): void {
    if (!this.ready) return;
    const now = Date.now();
    // the RTP timestamp that corresponds to `now`: the last one sent, advanced by the time since (RFC 3550 §6.4.1)
    const elapsedMs = this.#lastTimestamp === undefined ? 0 : now - this.#lastSentAt;
    const rtpTimestamp = ((this.#lastTimestamp ?? 0) + Math.round((elapsedMs * this.#opts.clockRate) / 1000)) >>> 0;
    const block = this.#report?.(now);
    if (this.#fast) {
      this.#sendFastReport(now, rtpTimestamp, block ?? null);
      return;
    }
    const sr = new RtcpSrPacket({
      ssrc: this.#opts.ssrc,
      senderInfo: new RtcpSenderInfo({
        ntpTimestamp: ntp64(now),
        rtpTimestamp,
        packetCount: this.#stats.packetsSent >>> 0,
        octetCount: this.#stats.octetsSent >>> 0,
      }),
      reports: block
        ? [
            new RtcpReceiverInfo({
              ssrc: block.ssrc,
              fractionLost: block.fractionLost,
              packetsLost: block.cumulativeLost,
              highestSequence: block.highestSequence,
              jitter: block.jitter,
              lsr: block.lastSr,
              dlsr: block.delaySinceLastSr,
            }),
          ]
        : [],
    });
    const sdes = new RtcpSourceDescriptionPacket({
      chunks: [new SourceDescriptionChunk({ source: this.#opts.ssrc, items: [new SourceDescriptionItem({ type: 1, text: this.#opts.cname })] })],
    });
    this.#stats.senderReportsSent++;
    this.#opts.dtlsTransport.sendRtcp([sr, sdes]).catch((err: unknown) => {
      this.#opts.logger.debug({ err }, 'SRTCP send failed');
    });
  }
}
