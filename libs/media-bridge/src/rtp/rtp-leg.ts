/**
 * The PBX side of a call's media: RTP over UDP (RFC 3550) on an even port, RTCP on the odd one; SRTP with
 * SDES keys when negotiated. (Over 400 lines, STYLE's mark: receive, send, latching, RTCP and SRTP share the
 * one hot-path state of a leg, and splitting them would put a call between each packet and its checks.)
 *
 * Remote address: first the SDP's (`remote`, or `setRemote` after an answer/re-INVITE); then learned
 * symmetrically from what arrives ("latching", for phones behind NAT whose SDP shows a private address).
 * Rule: the leg latches to the source of the first valid RTP packet whose payload type is one of the
 * negotiated `payloadTypes`, from ANY address (the SDP address of a NATed phone is useless, so restricting
 * to it would defeat the purpose). Once latched, packets from other sources are dropped, unless the latched
 * source has been silent for `relatchAfterMs` (NAT rebinding, a phone that moved): then the next valid
 * packet from a new source takes over. `setRemote` starts learning again, except from the sources it
 * replaced: after a re-INVITE moved the media (a transfer), packets still in flight from the old phone must
 * not pull the stream back to it, so the old SDP address and the old latched source are ignored until a new
 * source is latched. RTCP latches the same way on the odd port; until an RTCP packet arrives, RTCP goes to
 * the latched RTP address at port + 1 (or the SDP's).
 *
 * Sending: one random SSRC and our own sequence numbers for everything sent through `sendRtp`
 * (MediaPort contract). Reports: SR (or RR when we sent nothing) plus SDES CNAME every ~`rtcpIntervalMs`
 * (randomised x0.5..1.5, RFC 3550 §6.2), BYE on close.
 *
 * SRTP (SDES keys, RFC 4568, when `srtp` is given): what goes out is protected with our key, RTP as SRTP and
 * RTCP as SRTCP; what comes in must authenticate with the remote's key before it is looked at at all (no
 * latching, no statistics from a packet that does not), and is decrypted in place. A re-INVITE that changes
 * the remote's key calls `setSrtpRemoteKey`.
 *
 * Hot path: no allocation of our own per packet. The `RtpPacketIn` given to listeners is one reused object:
 * copy its fields if you keep them; its `payload` is a view of that datagram's own buffer, which Node
 * allocates per datagram, so keeping the payload is safe. Sends use a ring of 16 preallocated buffers, because
 * node:dgram defers the actual send to a later tick.
 */
import { randomBytes, randomInt } from 'node:crypto';
import type { RemoteInfo } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { Logger } from '@wagw/logging';
import type { MediaPort, RtpPacketIn, RtpPacketOut } from '../bridge/media-port.types';
import { SafeEmitter } from '../bridge/safe-emitter';
import { SrtcpProtector, SrtcpUnprotector } from '../webrtc/srtp/srtcp-session';
import { SrtpProtector, SrtpUnprotector, type SrtpMasterKey, type SrtpProfile } from '../webrtc/srtp/srtp-session';
import type { RtcpPacket } from './rtcp-packet';
import { RtcpSession, type RemoteReceptionReport } from './rtcp-session';
import { createRtpPacket, parseRtpInto, RTP_FIXED_HEADER_LENGTH, writeSimpleRtp } from './rtp-packet';
import type { RtpReceiveSnapshot } from './rtp-receive-stats';
import type { RtpSocketPair } from './port-allocator';

const SEND_RING = 16;
const MAX_PACKET = 1500;

export interface RtpRemote {
  address: string;
  port: number;
  /** RTCP port (a=rtcp); default port + 1. */
  rtcpPort?: number;
}

/** SRTP on an RTP leg: the profile of the chosen crypto suite and each side's master key. */
export interface RtpLegSrtp {
  profile: SrtpProfile;
  /** Ours: protects what we send. */
  local: SrtpMasterKey;
  /** The remote's: opens what arrives. */
  remote: SrtpMasterKey;
}

interface SrtpState {
  rtpOut: SrtpProtector;
  rtcpOut: SrtcpProtector;
  rtpIn: SrtpUnprotector;
  rtcpIn: SrtcpUnprotector;
  profile: SrtpProfile;
  /** Bytes of SRTP tag after an RTP payload. */
  tagLength: number;
}

export interface RtpLegOptions {
  /** A bound pair from `RtpPortAllocator.allocate()`; released by `close()`. */
  pair: RtpSocketPair;
  /** Remote from the SDP (c= and m=), if known yet. */
  remote?: RtpRemote;
  /** Payload types negotiated for this session (audio and telephone-event). */
  payloadTypes: readonly number[];
  /** Clock rate of the audio payload (8000 for G.711, 48000 for Opus): jitter and SR timestamps. */
  clockRate: number;
  logger: Logger;
  /** Learn the remote from received packets (default true). */
  latching?: boolean;
  /** Silence of the latched source after which another source may take over (default 2000 ms). */
  relatchAfterMs?: number;
  /** Mean RTCP report interval (default 5000 ms). */
  rtcpIntervalMs?: number;
  cname?: string;
  /**
   * Whether RTP goes out (default true). False while the PBX does not receive (its SDP says sendonly or
   * inactive, RFC 3264 §5.1, or holds with c=0.0.0.0): packets handed to `sendRtp` are dropped and counted.
   */
  sending?: boolean;
  /** SRTP with SDES keys (default: plain RTP). */
  srtp?: RtpLegSrtp;
  /** Monotonic clock in ms for `receivedAt` (default performance.now). */
  now?: () => number;
}

export interface RtpLegStats {
  localRtpPort: number;
  ssrc: number;
  /** Where RTP goes now (latched or from the SDP). */
  remote: RtpRemote | null;
  latched: boolean;
  packetsSent: number;
  octetsSent: number;
  packetsReceived: number;
  octetsReceived: number;
  /** Datagrams on the RTP port that were not valid RTP. */
  packetsInvalid: number;
  /** Valid RTP with a payload type not negotiated. */
  packetsUnexpectedPayloadType: number;
  /** Dropped because they came from another source than the latched one. */
  packetsFromOtherSource: number;
  /** sendRtp calls while no remote address was known. */
  sendsWithoutRemote: number;
  /** sendRtp calls dropped while not sending (the PBX holds the call or does not receive). */
  sendsOnHold: number;
  sendErrors: number;
  /** Whether the leg runs SRTP. */
  srtp: boolean;
  /** SRTP and SRTCP packets refused: failed authentication, replayed or malformed. */
  srtpRejected: number;
  /** RFC 3550 reception statistics of the remote source (A.1, A.3, A.8); null before any packet. */
  receive: RtpReceiveSnapshot | null;
  rtcpSent: number;
  rtcpReceived: number;
  rtcpInvalid: number;
  /** What the remote reported about our stream in its last SR/RR. */
  remoteReport: RemoteReceptionReport | null;
}

export interface RtpLegEvents extends Record<string, unknown> {
  /** The leg latched (or re-latched) to a source. */
  latched: { kind: 'rtp' | 'rtcp'; address: string; port: number };
  rtcp: RtcpPacket[];
  bye: { ssrcs: number[]; reason?: string };
}

interface Endpoint {
  address: string;
  port: number;
}

export class RtpLeg implements MediaPort {
  readonly ssrc: number;
  readonly events: SafeEmitter<RtpLegEvents>;
  readonly #pair: RtpSocketPair;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #latching: boolean;
  readonly #relatchAfterMs: number;
  readonly #rtcpIntervalMs: number;
  readonly #acceptedPt = new Uint8Array(128);
  readonly #rtcp: RtcpSession;
  readonly #rx = createRtpPacket();
  readonly #packetIn: RtpPacketIn = { payloadType: 0, sequenceNumber: 0, timestamp: 0, marker: false, ssrc: 0, payload: Buffer.alloc(0), receivedAt: 0 };
  readonly #sendRing: Buffer[] = Array.from({ length: SEND_RING }, () => Buffer.allocUnsafe(MAX_PACKET));
  #sendIndex = 0;
  #listeners: ReadonlyArray<(p: RtpPacketIn) => void> = [];
  #sdpRtp: Endpoint | null = null;
  #sdpRtcp: Endpoint | null = null;
  #latchedRtp: Endpoint | null = null;
  #latchedRtcp: Endpoint | null = null;
  /** Sources a `setRemote` replaced (RTP and RTCP): not latched again until a new source is. */
  #retired: Endpoint[] = [];
  #lastFromLatchedAt = 0;
  #seq: number;
  #counters = { received: 0, octetsReceived: 0, invalid: 0, unexpectedPt: 0, otherSource: 0, noRemote: 0, onHold: 0, sendErrors: 0, rtcpInvalid: 0, srtpRejected: 0 };
  #srtp: SrtpState | null = null;
  #sending: boolean;
  #rtcpTimer: NodeJS.Timeout | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: RtpLegOptions) {
    this.#pair = options.pair;
    this.#logger = options.logger;
    this.#now = options.now ?? (() => performance.now());
    this.#latching = options.latching ?? true;
    this.#relatchAfterMs = options.relatchAfterMs ?? 2000;
    this.#rtcpIntervalMs = options.rtcpIntervalMs ?? 5000;
    this.#sending = options.sending ?? true;
    for (const pt of options.payloadTypes) this.#acceptedPt[pt & 0x7f] = 1;
    this.ssrc = randomBytes(4).readUInt32BE(0);
    this.#seq = randomInt(0, 0x10000);
    this.events = new SafeEmitter<RtpLegEvents>(this.#logger);
    const cname = options.cname ?? `wagw-${randomBytes(6).toString('hex')}`;
    this.#rtcp = new RtcpSession({ ssrc: this.ssrc, cname, clockRate: options.clockRate });
    if (options.srtp) this.#srtp = srtpState(options.srtp);
    if (options.remote) this.setRemote(options.remote);
    this.#pair.rtp.on('message', this.#onRtpMessage);
    this.#pair.rtcp.on('message', this.#onRtcpMessage);
    this.#pair.rtp.on('error', this.#onSocketError);
    this.#pair.rtcp.on('error', this.#onSocketError);
    this.#scheduleRtcp();
  }

  get localRtpPort(): number {
    return this.#pair.rtpPort;
  }

  get localRtcpPort(): number {
    return this.#pair.rtcpPort;
  }

  /** Where RTP goes now: the latched source, else the SDP's address. */
  get remote(): RtpRemote | null {
    const rtp = this.#latchedRtp ?? this.#sdpRtp;
    if (!rtp) return null;
    const rtcp = this.#rtcpDestination();
    return rtcp ? { address: rtp.address, port: rtp.port, rtcpPort: rtcp.port } : { address: rtp.address, port: rtp.port };
  }

  /** Sets the remote from an SDP (answer or re-INVITE) and starts learning the source again. */
  setRemote(remote: RtpRemote): void {
    const moved = (e: Endpoint | null): e is Endpoint => e !== null && (e.address !== remote.address || (e.port !== remote.port && e.port !== (remote.rtcpPort ?? remote.port + 1)));
    this.#retired = [this.#sdpRtp, this.#latchedRtp, this.#sdpRtcp, this.#latchedRtcp].filter(moved);
    this.#sdpRtp = { address: remote.address, port: remote.port };
    this.#sdpRtcp = { address: remote.address, port: remote.rtcpPort ?? remote.port + 1 };
    this.#latchedRtp = null;
    this.#latchedRtcp = null;
  }

  /** Whether RTP goes out now (see `RtpLegOptions.sending`). */
  get sending(): boolean {
    return this.#sending;
  }

  /** Starts or stops sending RTP (hold and resume by SDP); RTCP and receiving go on either way. */
  setSending(sending: boolean): void {
    this.#sending = sending;
  }

  /** Whether the leg runs SRTP. */
  get secure(): boolean {
    return this.#srtp !== null;
  }

  /**
   * The remote's new SDES key (a re-INVITE that re-keys, RFC 4568 §7.1.4): what arrives from now on opens
   * with it, with fresh replay windows; our own key and stream go on. Throws on a plain RTP leg.
   */
  setSrtpRemoteKey(remote: SrtpMasterKey): void {
    const s = this.#srtp;
    if (!s) throw new Error('setSrtpRemoteKey on a plain RTP leg');
    s.rtpIn = new SrtpUnprotector(remote, s.profile);
    s.rtcpIn = new SrtcpUnprotector(remote, s.profile);
  }

  onRtp(listener: (packet: RtpPacketIn) => void): () => void {
    this.#listeners = [...this.#listeners, listener];
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  sendRtp(packet: RtpPacketOut): void {
    if (this.#closed) return;
    if (!this.#sending) {
      this.#counters.onHold++;
      return;
    }
    const dest = this.#latchedRtp ?? this.#sdpRtp;
    if (!dest) {
      this.#counters.noRemote++;
      return;
    }
    this.#seq = (this.#seq + 1) & 0xffff;
    const buf = this.#sendRing[this.#sendIndex] as Buffer;
    this.#sendIndex = (this.#sendIndex + 1) % SEND_RING;
    const srtp = this.#srtp;
    const len = srtp
      ? srtp.rtpOut.protect(buf, packet.payloadType, packet.marker, this.#seq, packet.timestamp, this.ssrc, packet.payload)
      : writeSimpleRtp(buf, packet.payloadType, packet.marker, this.#seq, packet.timestamp, this.ssrc, packet.payload);
    this.#pair.rtp.send(buf, 0, len, dest.port, dest.address);
    this.#rtcp.onRtpSent(packet.timestamp, packet.payload.length, this.#now());
  }

  #onRtpMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    const rx = this.#rx;
    const srtp = this.#srtp;
    if (srtp) {
      if (srtp.rtpIn.unprotect(msg) === null) {
        this.#counters.srtpRejected++;
        return;
      }
      // decrypted in place: the header is as sent, the tag is cut off
      msg = msg.subarray(0, msg.length - srtp.tagLength);
    }
    if (!parseRtpInto(msg, rx)) {
      this.#counters.invalid++;
      return;
    }
    if (this.#acceptedPt[rx.payloadType] !== 1) {
      this.#counters.unexpectedPt++;
      return;
    }
    const now = this.#now();
    if (!this.#acceptSource(rinfo, now)) {
      this.#counters.otherSource++;
      return;
    }
    this.#counters.received++;
    this.#counters.octetsReceived += rx.payload.length;
    this.#rtcp.receive.update(rx.ssrc, rx.sequenceNumber, rx.timestamp, now);
    const p = this.#packetIn;
    p.payloadType = rx.payloadType;
    p.sequenceNumber = rx.sequenceNumber;
    p.timestamp = rx.timestamp;
    p.marker = rx.marker;
    p.ssrc = rx.ssrc;
    p.payload = rx.payload;
    p.receivedAt = now;
    const listeners = this.#listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as (p: RtpPacketIn) => void)(p);
      } catch (err) {
        this.#logger.error({ err }, 'RTP listener threw');
      }
    }
  };

  /** Latching (see the file comment). */
  #acceptSource(rinfo: RemoteInfo, now: number): boolean {
    if (!this.#latching) return true;
    const cur = this.#latchedRtp;
    if (cur !== null && cur.port === rinfo.port && cur.address === rinfo.address) {
      this.#lastFromLatchedAt = now;
      return true;
    }
    if (cur !== null && now - this.#lastFromLatchedAt < this.#relatchAfterMs) return false;
    if (this.#isRetired(rinfo)) return false;
    this.#retired = [];
    this.#latchedRtp = { address: rinfo.address, port: rinfo.port };
    this.#lastFromLatchedAt = now;
    this.#logger.debug({ address: rinfo.address, port: rinfo.port, relatch: cur !== null }, 'RTP source latched');
    this.events.emit('latched', { kind: 'rtp', address: rinfo.address, port: rinfo.port });
    return true;
  }

  #isRetired(rinfo: RemoteInfo): boolean {
    const retired = this.#retired;
    for (let i = 0; i < retired.length; i++) {
      const e = retired[i] as Endpoint;
      if (e.port === rinfo.port && e.address === rinfo.address) return true;
    }
    return false;
  }

  #onRtcpMessage = (msg: Buffer, rinfo: RemoteInfo): void => {
    if (this.#srtp) {
      const plain = this.#srtp.rtcpIn.unprotect(msg);
      if (plain === null) {
        this.#counters.srtpRejected++;
        return;
      }
      msg = plain;
    }
    let packets: RtcpPacket[];
    try {
      packets = this.#rtcp.handle(msg, Date.now(), this.#now());
    } catch {
      // not RTCP (or truncated): counted, never fatal
      this.#counters.rtcpInvalid++;
      return;
    }
    if (this.#latching && !this.#isRetired(rinfo)) {
      const cur = this.#latchedRtcp;
      if (!cur || cur.address !== rinfo.address || cur.port !== rinfo.port) {
        this.#latchedRtcp = { address: rinfo.address, port: rinfo.port };
        this.events.emit('latched', { kind: 'rtcp', address: rinfo.address, port: rinfo.port });
      }
    }
    this.events.emit('rtcp', packets);
    for (const p of packets) if (p.type === 'bye') this.events.emit('bye', p.reason === undefined ? { ssrcs: p.ssrcs } : { ssrcs: p.ssrcs, reason: p.reason });
  };

  #onSocketError = (err: Error): void => {
    this.#counters.sendErrors++;
    this.#logger.warn({ err, localPort: this.#pair.rtpPort }, 'RTP socket error');
  };

  #rtcpDestination(): Endpoint | null {
    if (this.#latchedRtcp) return this.#latchedRtcp;
    if (this.#latchedRtp) return { address: this.#latchedRtp.address, port: this.#latchedRtp.port + 1 };
    return this.#sdpRtcp;
  }

  #scheduleRtcp(): void {
    const delay = this.#rtcpIntervalMs * (0.5 + Math.random());
    this.#rtcpTimer = setTimeout(() => {
      this.#sendReport();
      this.#scheduleRtcp();
    }, delay);
    this.#rtcpTimer.unref();
  }

  #sendReport(): void {
    const dest = this.#rtcpDestination();
    if (!dest) return;
    const report = this.#rtcp.buildReport(Date.now(), this.#now());
    this.#pair.rtcp.send(this.#srtp ? this.#srtp.rtcpOut.protect(report) : report, dest.port, dest.address);
  }

  /**
   * Packets heard from the PBX so far: RTP from the accepted source (any payload type, comfort noise too)
   * and valid RTCP. What a media timeout watches; cheap to read.
   */
  get packetsHeard(): number {
    return this.#counters.received + this.#counters.unexpectedPt + this.#rtcp.packetsReceived;
  }

  stats(): RtpLegStats {
    const c = this.#counters;
    return {
      localRtpPort: this.#pair.rtpPort,
      ssrc: this.ssrc,
      remote: this.remote,
      latched: this.#latchedRtp !== null,
      packetsSent: this.#rtcp.packetsSent,
      octetsSent: this.#rtcp.octetsSent,
      packetsReceived: c.received,
      octetsReceived: c.octetsReceived,
      packetsInvalid: c.invalid,
      packetsUnexpectedPayloadType: c.unexpectedPt,
      packetsFromOtherSource: c.otherSource,
      sendsWithoutRemote: c.noRemote,
      sendsOnHold: c.onHold,
      sendErrors: c.sendErrors,
      srtp: this.#srtp !== null,
      srtpRejected: c.srtpRejected,
      receive: this.#rtcp.receive.started ? this.#rtcp.receive.snapshot() : null,
      rtcpSent: this.#rtcp.reportsSent,
      rtcpReceived: this.#rtcp.packetsReceived,
      rtcpInvalid: c.rtcpInvalid,
      remoteReport: this.#rtcp.remoteReport,
    };
  }

  /** Sends RTCP BYE (when a remote is known), stops the timer and releases both ports. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    clearTimeout(this.#rtcpTimer);
    this.#listeners = [];
    const dest = this.#rtcpDestination();
    if (dest) {
      const plainBye = this.#rtcp.buildBye(Date.now(), this.#now());
      const bye = this.#srtp ? this.#srtp.rtcpOut.protect(plainBye) : plainBye;
      // the send completes (or fails) before the socket closes; a failure only costs the BYE
      await new Promise<void>((resolve) => this.#pair.rtcp.send(bye, dest.port, dest.address, () => resolve()));
    }
    this.#pair.rtp.off('message', this.#onRtpMessage);
    this.#pair.rtcp.off('message', this.#onRtcpMessage);
    await this.#pair.release();
    this.#pair.rtp.off('error', this.#onSocketError);
    this.#pair.rtcp.off('error', this.#onSocketError);
    this.events.removeAll();
  }
}

function srtpState(o: RtpLegSrtp): SrtpState {
  const rtpOut = new SrtpProtector(o.local, o.profile);
  return {
    rtpOut,
    rtcpOut: new SrtcpProtector(o.local, o.profile),
    rtpIn: new SrtpUnprotector(o.remote, o.profile),
    rtcpIn: new SrtcpUnprotector(o.remote, o.profile),
    profile: o.profile,
    tagLength: rtpOut.overhead - RTP_FIXED_HEADER_LENGTH,
  };
}
