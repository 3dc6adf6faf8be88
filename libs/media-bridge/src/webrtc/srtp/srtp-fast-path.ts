/**
 * The RTP media path of a connected werift leg, without werift's per-packet machinery. werift stays in
 * charge of ICE (checks, consent), DTLS and RTCP; once DTLS-SRTP is up, this takes the leg's RTP:
 *
 * - receive: it wraps the `onData` hook of werift's UDP transports (the function werift's STUN layer
 *   installed), takes RTP datagrams (RFC 5761 demux: not STUN, not DTLS, not RTCP) and passes everything
 *   else on to werift untouched; RTP from an address ICE did not verify is dropped unread, the rest is
 *   authenticated and decrypted in place (srtp-session.ts) and handed to `onRtp` as a reused packet object
 *   whose payload views the datagram;
 * - send: it protects into a new buffer and writes it to the nominated pair's socket, only while
 *   ICE consent allows (werift's `canSendApplicationData`), handed to the kernel within the call (the socket's
 *   lookup answers IP literals at once: `sendToLiteralsAtOnce`);
 * - RTCP (SRTCP) the same way in both directions when the caller takes it (`onRtcp`): werift would parse
 *   every report into objects and feed its receiver statistics, which the gateway never reads.
 *
 * werift's own path per packet (measured in the media app's CPU profile) parses every datagram as STUN
 * first, allocates a native cipher and HMAC, builds header objects bit by bit, and runs the receiver's
 * statistics and NACK bookkeeping the gateway never reads. The hooks used are werift 0.24 internals
 * (pinned in package.json); `attach` checks their shape and returns null when they are not there, and the
 * caller keeps werift's path.
 */
import type { Socket } from 'node:dgram';
import type { RTCDtlsTransport } from 'werift';
import type { Logger } from '@wagw/logging';
import { isSupportedProfile, SrtpProtector, SrtpUnprotector, type SrtpProfile, type SrtpRtpPacket } from './srtp-session';
import { SrtcpProtector, SrtcpUnprotector } from './srtcp-session';
import { sendToLiteralsAtOnce } from '../../rtp/ip-literal-lookup';

/** The parts of werift 0.24 this uses, as they are shaped there. */
interface WeriftUdpTransport {
  type: string;
  socket: {
    send(buf: Buffer, offset: number, length: number, port: number, address: string): void;
    send(buf: Buffer, port: number, address: string): void;
  };
  onData: (data: Buffer, addr: [string, number]) => void;
}
interface WeriftStunProtocol {
  transport?: WeriftUdpTransport;
}
interface WeriftCandidatePair {
  protocol: WeriftStunProtocol;
  remoteAddr: [string, number];
  state?: number;
}
interface WeriftConnection {
  protocols: WeriftStunProtocol[];
  nominated?: WeriftCandidatePair;
  /** The candidate pairs ICE checked; werift keeps a pair SUCCEEDED only when its check's answer came from its remote address. */
  checkList?: WeriftCandidatePair[];
  canSendApplicationData(): boolean;
}
/** werift's `CandidatePairState.SUCCEEDED`. */
const PAIR_SUCCEEDED = 3;
interface WeriftSrtpConfig {
  keys: { localMasterKey: Buffer; localMasterSalt: Buffer; remoteMasterKey: Buffer; remoteMasterSalt: Buffer };
  profile: number;
}

const MAX_PACKET = 1500;

export interface SrtpFastPathStats {
  profile: SrtpProfile;
  packetsReceived: number;
  packetsSent: number;
  /** Sends refused: no nominated pair or no ICE consent. */
  sendsRefused: number;
  authFailures: number;
  replays: number;
  malformed: number;
  /** SRTCP packets taken (authenticated) and refused (forged, replayed, malformed). */
  rtcpReceived: number;
  rtcpRejected: number;
  /** RTP/RTCP datagrams dropped unread: from an address no ICE check succeeded with (RFC 8445 §12). */
  fromOtherSource: number;
}

export interface FastPathHandlers {
  onRtp: (packet: SrtpRtpPacket) => void;
  /** Plain compound RTCP received (a view of the datagram); without it RTCP stays werift's. */
  onRtcp?: (rtcp: Buffer) => void;
}

/** RTP (not RTCP) in a datagram shared with STUN and DTLS (RFC 7983 first byte 128..191; RFC 5761 PT). */
export function isRtpDatagram(data: Uint8Array): boolean {
  const b0 = data[0] as number;
  if (b0 < 128 || b0 > 191 || data.length < 12) return false;
  const pt = (data[1] as number) & 0x7f;
  return pt < 64 || pt > 95;
}

/** RTCP in the same demultiplexing (RFC 5761 §4: packet types 192..223). */
export function isRtcpDatagram(data: Uint8Array): boolean {
  const b0 = data[0] as number;
  if (b0 < 128 || b0 > 191 || data.length < 8) return false;
  const pt = data[1] as number;
  return pt >= 192 && pt <= 223;
}

export class SrtpFastPath {
  readonly #connection: WeriftConnection;
  readonly #protector: SrtpProtector;
  readonly #unprotector: SrtpUnprotector;
  readonly #profile: SrtpProfile;
  readonly #onRtp: (packet: SrtpRtpPacket) => void;
  readonly #onRtcp: ((rtcp: Buffer) => void) | null;
  readonly #rtcpOut: SrtcpProtector;
  readonly #rtcpIn: SrtcpUnprotector;
  readonly #logger: Logger;
  readonly #restore: (() => void)[] = [];
  #received = 0;
  #rtcpReceived = 0;
  #sent = 0;
  #refused = 0;
  #otherSource = 0;
  #nominatedPair: WeriftCandidatePair | undefined;
  #nominatedAddr: [string, number] | undefined;
  #detached = false;

  private constructor(connection: WeriftConnection, config: WeriftSrtpConfig, profile: SrtpProfile, handlers: FastPathHandlers, logger: Logger) {
    this.#connection = connection;
    this.#profile = profile;
    const k = config.keys;
    // werift's "local" keys protect what this side sends, its "remote" keys what it receives
    this.#protector = new SrtpProtector({ key: k.localMasterKey, salt: k.localMasterSalt }, profile);
    this.#unprotector = new SrtpUnprotector({ key: k.remoteMasterKey, salt: k.remoteMasterSalt }, profile);
    this.#rtcpOut = new SrtcpProtector({ key: k.localMasterKey, salt: k.localMasterSalt }, profile);
    this.#rtcpIn = new SrtcpUnprotector({ key: k.remoteMasterKey, salt: k.remoteMasterSalt }, profile);
    this.#onRtp = handlers.onRtp;
    this.#onRtcp = handlers.onRtcp ?? null;
    this.#logger = logger;
  }

  /**
   * Takes over the RTP (and, with `onRtcp`, the RTCP) of a transport whose DTLS-SRTP is up; null (werift
   * keeps it) when that is not possible.
   */
  static attach(dtlsTransport: RTCDtlsTransport, handlers: FastPathHandlers | ((packet: SrtpRtpPacket) => void), logger: Logger): SrtpFastPath | null {
    const h: FastPathHandlers = typeof handlers === 'function' ? { onRtp: handlers } : handlers;
    const config = (dtlsTransport as unknown as { srtp?: { config?: WeriftSrtpConfig } }).srtp?.config;
    const connection = dtlsTransport.iceTransport?.connection as unknown as WeriftConnection | undefined;
    const transports = connection?.protocols?.map((p) => p.transport) ?? [];
    const usable =
      config?.keys?.localMasterKey &&
      isSupportedProfile(config.profile) &&
      connection &&
      typeof connection.canSendApplicationData === 'function' &&
      transports.length > 0 &&
      transports.every((t) => t && t.type === 'udp' && typeof t.onData === 'function' && typeof t.socket?.send === 'function');
    if (!usable || !config || !connection) {
      logger.warn({ profile: config?.profile }, 'SRTP fast path not available: werift handles this leg\'s RTP');
      return null;
    }
    const fast = new SrtpFastPath(connection, config, config.profile as SrtpProfile, h, logger);
    for (const t of transports as WeriftUdpTransport[]) fast.#hook(t);
    return fast;
  }

  get profile(): SrtpProfile {
    return this.#profile;
  }

  /** Protects and sends one compound RTCP packet (SRTCP); false when ICE gives no pair or no consent. */
  sendRtcp(rtcp: Buffer): boolean {
    const pair = this.#connection.nominated;
    const transport = pair?.protocol.transport;
    if (this.#detached || !pair || !transport || !this.#connection.canSendApplicationData()) return false;
    const out = this.#rtcpOut.protect(rtcp);
    transport.socket.send(out, 0, out.length, pair.remoteAddr[1], pair.remoteAddr[0]);
    return true;
  }

  /** Protects and sends one RTP packet on the nominated pair; false when ICE gives no pair or no consent. */
  send(payloadType: number, marker: boolean, seq: number, timestamp: number, ssrc: number, payload: Uint8Array): boolean {
    const pair = this.#connection.nominated;
    const transport = pair?.protocol.transport;
    if (this.#detached || !pair || !transport || !this.#connection.canSendApplicationData()) {
      this.#refused++;
      return false;
    }
    if (payload.length + this.#protector.overhead > MAX_PACKET) throw new RangeError(`RTP payload of ${payload.length} bytes does not fit a datagram`);
    // a fresh buffer (from Node's pool) per packet: dgram may send on a later tick (a full socket buffer, or
    // the default lookup where the swap below was not possible), so a reused one could be overwritten
    const buf = Buffer.allocUnsafe(payload.length + this.#protector.overhead);
    const len = this.#protector.protect(buf, payloadType, marker, seq, timestamp, ssrc, payload);
    // with an offset and length, dgram.send wraps the bytes in another Buffer: not needed when they are all of it
    if (len === buf.length) transport.socket.send(buf, pair.remoteAddr[1], pair.remoteAddr[0]);
    else transport.socket.send(buf, 0, len, pair.remoteAddr[1], pair.remoteAddr[0]);
    this.#sent++;
    return true;
  }

  stats(): SrtpFastPathStats {
    const u = this.#unprotector;
    return {
      profile: this.#profile,
      packetsReceived: this.#received,
      packetsSent: this.#sent,
      sendsRefused: this.#refused,
      authFailures: u.authFailures,
      replays: u.replays,
      malformed: u.malformed,
      rtcpReceived: this.#rtcpReceived,
      rtcpRejected: this.#rtcpIn.rejected,
      fromOtherSource: this.#otherSource,
    };
  }

  /** Gives RTP back to werift (idempotent). */
  detach(): void {
    if (this.#detached) return;
    this.#detached = true;
    for (const r of this.#restore.splice(0)) r();
  }

  #rtcp(data: Buffer): void {
    const plain = this.#rtcpIn.unprotect(data);
    if (!plain) return;
    this.#rtcpReceived++;
    try {
      this.#onRtcp?.(plain);
    } catch (err) {
      this.#logger.error({ err }, 'RTCP listener threw');
    }
  }

  /**
   * Whether a datagram comes from the nominated pair's remote address or, as RFC 8445 §12 allows media on
   * any valid pair, from the remote of another pair whose check succeeded.
   */
  #fromVerifiedSource(addr: [string, number]): boolean {
    const pair = this.#connection.nominated;
    if (pair !== undefined) {
      // werift's remoteAddr is a getter making a new array: read once per nominated pair, not per packet
      if (pair !== this.#nominatedPair) {
        this.#nominatedPair = pair;
        this.#nominatedAddr = pair.remoteAddr;
      }
      const nominated = this.#nominatedAddr as [string, number];
      if (nominated[1] === addr[1] && nominated[0] === addr[0]) return true;
    }
    const pairs = this.#connection.checkList;
    if (!pairs) return false;
    for (const pair of pairs) {
      if (pair.state !== PAIR_SUCCEEDED) continue;
      const remote = pair.remoteAddr;
      if (remote[1] === addr[1] && remote[0] === addr[0]) return true;
    }
    return false;
  }

  #hook(transport: WeriftUdpTransport): void {
    // werift's socket: its sends to the nominated pair's IP would each wait a tick for dns.lookup
    sendToLiteralsAtOnce(transport.socket as unknown as Socket);
    const original = transport.onData;
    transport.onData = (data, addr) => {
      const rtcp = this.#onRtcp !== null && isRtcpDatagram(data);
      if (!rtcp && !isRtpDatagram(data)) return original(data, addr);
      // media comes from the remote of a pair ICE verified, not from whoever learnt the port: anything else
      // is dropped before it costs an authentication
      if (!this.#fromVerifiedSource(addr)) {
        this.#otherSource++;
        return;
      }
      if (rtcp) return this.#rtcp(data);
      const packet = this.#unprotector.unprotect(data);
      if (!packet) return;
      this.#received++;
      try {
        this.#onRtp(packet);
      } catch (err) {
        this.#logger.error({ err }, 'RTP listener threw');
      }
    };
    this.#restore.push(() => {
      transport.onData = original;
    });
  }
}
