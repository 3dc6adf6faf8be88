/**
 * The RTCP state of one RTP leg (RFC 3550 §6): sender counters for SRs, reception statistics of the remote
 * source for report blocks, the LSR/DLSR bookkeeping of received SRs (§6.4.1), and what the remote reports
 * about our stream (loss, jitter, round-trip time). No I/O: the leg sends what `buildReport` returns.
 */
import {
  ntpFromUnixMs,
  ntpMiddle32,
  parseRtcp,
  serializeRtcp,
  SDES_CNAME,
  type RtcpPacket,
  type RtcpReportBlock,
} from './rtcp-packet';
import { RtpReceiveStats } from './rtp-receive-stats';

export interface RtcpSessionOptions {
  ssrc: number;
  cname: string;
  /** RTP clock of the media this leg sends and receives (8000 for G.711, 48000 for Opus). */
  clockRate: number;
}

/** What the remote's last report block about our SSRC said. */
export interface RemoteReceptionReport {
  fractionLost: number;
  cumulativeLost: number;
  /** Jitter the remote measured on our stream, in ms. */
  jitterMs: number;
  /** Round-trip time from LSR/DLSR (RFC 3550 §6.4.1), null until the remote echoes one of our SRs. */
  roundTripMs: number | null;
}

export class RtcpSession {
  readonly receive: RtpReceiveStats;
  readonly #ssrc: number;
  readonly #cname: string;
  readonly #clockRate: number;
  #packetsSent = 0;
  #octetsSent = 0;
  #sentSinceReport = false;
  #lastSentTs = 0;
  #lastSentAt = 0;
  /** LSR of the last SR received from the remote and when it arrived (monotonic ms). */
  #remoteLsr = 0;
  #remoteSrAt = 0;
  #remoteReport: RemoteReceptionReport | null = null;
  #reportsSent = 0;
  #packetsReceived = 0;

  constructor(options: RtcpSessionOptions) {
    this.#ssrc = options.ssrc;
    this.#cname = options.cname;
    this.#clockRate = options.clockRate;
    this.receive = new RtpReceiveStats(options.clockRate);
  }

  get packetsSent(): number {
    return this.#packetsSent;
  }

  get octetsSent(): number {
    return this.#octetsSent;
  }

  get reportsSent(): number {
    return this.#reportsSent;
  }

  get packetsReceived(): number {
    return this.#packetsReceived;
  }

  get remoteReport(): RemoteReceptionReport | null {
    return this.#remoteReport;
  }

  /** Per sent RTP packet (hot path). */
  onRtpSent(timestamp: number, payloadBytes: number, nowMs: number): void {
    this.#packetsSent++;
    this.#octetsSent += payloadBytes;
    this.#sentSinceReport = true;
    this.#lastSentTs = timestamp;
    this.#lastSentAt = nowMs;
  }

  #reportBlocks(nowMs: number): RtcpReportBlock[] {
    if (!this.receive.started || this.receive.packetsExpected === 0) return [];
    const dlsr = this.#remoteLsr === 0 ? 0 : Math.round(((nowMs - this.#remoteSrAt) / 1000) * 65536);
    return [this.receive.reportBlock(this.#remoteLsr, dlsr)];
  }

  #reportPackets(unixMs: number, nowMs: number): RtcpPacket[] {
    const reports = this.#reportBlocks(nowMs);
    const sdes: RtcpPacket = { type: 'sdes', chunks: [{ ssrc: this.#ssrc, items: [{ type: SDES_CNAME, text: this.#cname }] }] };
    if (!this.#sentSinceReport) return [{ type: 'rr', ssrc: this.#ssrc, reports }, sdes];
    const ntp = ntpFromUnixMs(unixMs);
    const rtpTimestamp = (this.#lastSentTs + Math.round(((nowMs - this.#lastSentAt) * this.#clockRate) / 1000)) >>> 0;
    const sr: RtcpPacket = {
      type: 'sr',
      ssrc: this.#ssrc,
      ntpSeconds: ntp.seconds,
      ntpFraction: ntp.fraction,
      rtpTimestamp,
      packetCount: this.#packetsSent >>> 0,
      octetCount: this.#octetsSent >>> 0,
      reports,
    };
    return [sr, sdes];
  }

  /** The next compound report: SR when we sent RTP since the last report, else RR; then SDES CNAME. */
  buildReport(unixMs: number, nowMs: number): Buffer {
    const packets = this.#reportPackets(unixMs, nowMs);
    this.#sentSinceReport = false;
    this.#reportsSent++;
    return serializeRtcp(packets);
  }

  /** A final report followed by BYE (RFC 3550 §6.6), sent when the leg closes. */
  buildBye(unixMs: number, nowMs: number, reason?: string): Buffer {
    const packets = this.#reportPackets(unixMs, nowMs);
    packets.push(reason === undefined ? { type: 'bye', ssrcs: [this.#ssrc] } : { type: 'bye', ssrcs: [this.#ssrc], reason });
    this.#reportsSent++;
    return serializeRtcp(packets);
  }

  /** Takes in a received compound packet; throws `RtpParseError` when malformed. */
  handle(buf: Buffer, unixMs: number, nowMs: number): RtcpPacket[] {
    const packets = parseRtcp(buf);
    this.#packetsReceived++;
    for (const p of packets) {
      if (p.type === 'sr') {
        this.#remoteLsr = ntpMiddle32(p.ntpSeconds, p.ntpFraction);
        this.#remoteSrAt = nowMs;
      }
      if (p.type === 'sr' || p.type === 'rr') {
        const mine = p.reports.find((r) => r.ssrc === this.#ssrc);
        if (mine) this.#remoteReport = this.#toRemoteReport(mine, unixMs);
      }
    }
    return packets;
  }

  #toRemoteReport(block: RtcpReportBlock, unixMs: number): RemoteReceptionReport {
    let roundTripMs: number | null = null;
    if (block.lastSr !== 0) {
      const ntp = ntpFromUnixMs(unixMs);
      const rtt = (ntpMiddle32(ntp.seconds, ntp.fraction) - block.lastSr - block.delaySinceLastSr) >>> 0;
      // a negative difference (clock skew of the remote's DLSR) wraps to a huge value: ignore it
      if (rtt < 0x80000000) roundTripMs = (rtt / 65536) * 1000;
    }
    return {
      fractionLost: block.fractionLost / 256,
      cumulativeLost: block.cumulativeLost,
      jitterMs: (block.jitter * 1000) / this.#clockRate,
      roundTripMs,
    };
  }
}
