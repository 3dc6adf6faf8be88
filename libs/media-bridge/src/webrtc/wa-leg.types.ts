import type { Logger } from '@wagw/logging';
import type { ReceivedDtmf } from './inbound-media';
import type { FrameTicker } from '../bridge/frame-clock';

/**
 * Lifecycle of a WhatsApp leg:
 *
 *   new --(local SDP ready, ICE checks start)--> connecting --(ICE + DTLS up)--> connected
 *    |                                              |                              |
 *    +------------------ close() -------------------+---- timeout / ICE failure ---+--> failed
 *   any state --close()--> closed (terminal)
 *
 * `failed` releases the sockets at once; `close()` is still the owner's job and moves it to `closed`.
 */
export const WA_LEG_STATES = ['new', 'connecting', 'connected', 'failed', 'closed'] as const;
export type WaLegState = (typeof WA_LEG_STATES)[number];

export type WaLegRole = 'answerer' | 'offerer';

export interface WaLegOptions {
  /** Bind to and advertise only this local IPv4 address (no other interface, no IPv6). */
  iceAddress?: string;
  /** Advertise this IPv4 address in the candidates instead of the local one (1:1 NAT). */
  publicAddress?: string;
  /** host:port of a STUN server for a server-reflexive candidate; omitted: host candidates only. */
  stunServer?: string;
  /** The leg fails when ICE + DTLS are not up this long after checks start. */
  connectTimeoutMs: number;
  logger: Logger;
  /** Keep the newest N seconds of received audio decoded, for analyseTone/recording (0 or omitted: off). */
  recordSeconds?: number;
  /** 20 ms clock for the tone/DTMF helpers (a shared FrameClock); a private one when omitted. */
  clock?: FrameTicker;
  /**
   * Carry RTP on the SRTP fast path once DTLS is up (srtp/srtp-fast-path.ts; default true); false keeps
   * werift's own RTP path. RTCP, ICE and DTLS are werift's either way.
   */
  fastSrtp?: boolean;
}

export interface WaLegStateChange {
  state: WaLegState;
  previous: WaLegState;
  reason?: string;
}

export interface WaLegEvents extends Record<string, unknown> {
  stateChanged: WaLegStateChange;
  dtmf: ReceivedDtmf;
}

export interface WaLegStats {
  state: WaLegState;
  role: WaLegRole;
  mediaStarted: boolean;
  /** The SSRC of everything this leg sends. */
  ssrc: number;
  packetsReceived: number;
  bytesReceived: number;
  packetsSent: number;
  octetsSent: number;
  senderReportsSent: number;
  /** Packets refused by the media gate (before startMedia) or because DTLS-SRTP was not up. */
  packetsGated: number;
  packetsDropped: number;
  dtmfReceived: ReceivedDtmf[];
  /** Filled once connected. */
  dtlsRole?: 'client' | 'server' | 'auto';
  iceControlling?: boolean;
  connectedAfterMs?: number;
  /** Who carries RTP once connected: the SRTP fast path or werift. */
  rtpPath?: 'fast' | 'werift';
  /** SRTP and SRTCP packets refused on receive (forged, replayed, malformed), fast path only. */
  srtpRejected?: number;
  /** SRTCP packets received on the fast path. */
  rtcpReceived?: number;
  /** RTP/RTCP datagrams dropped unread because no ICE check succeeded with their source, fast path only. */
  packetsFromOtherSource?: number;
}
