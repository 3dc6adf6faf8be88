import type { Logger } from '@wagw/logging';
import type { DtmfInfo, SipParty, SipReason } from './message/headers';
import type { SessionTimerPolicy } from './call/session-timer';
import type { CallCause } from './sip.errors';
import type { SipDns } from './transport/sip-dns';
import type { InboundConnectionLimits } from './transport/inbound-connections';
import type { TlsClientOptions, TlsListenOptions, TransportProtocol } from './transport/sip-transport';

/** Public option and event types of libs/sip. */

export interface SipListenOptions {
  /** Address to bind. With 0.0.0.0, `publicHost` is required (it goes into Via and Contact). */
  host: string;
  /** UDP port (0: any free port). Omit to disable UDP. */
  udpPort?: number;
  /** TCP port (0: any free port). Omit to disable TCP. */
  tcpPort?: number;
  tls?: TlsListenOptions;
  /** Limits on the TCP/TLS connections peers open to us (default 1024 in all, 64 from one address). */
  inboundConnections?: InboundConnectionLimits;
}

export interface SipStackOptions {
  listen: SipListenOptions;
  /** Host or address written in Via and Contact. Default: `listen.host`. */
  publicHost?: string;
  /** User-Agent (requests) and Server (responses) value. Default `wagw`. */
  userAgent?: string;
  logger: Logger;
  /**
   * Timer B/F (RFC 3261 §17.1.1.2): how long a request may go without a response before it fails as
   * unreachable. Default and maximum 64*T1 = 32000 ms (npm `sip` fixes T1 at 500 ms).
   */
  transactionTimeoutMs?: number;
  /** User part of our Contact URI. Default `wagw`. */
  contactUser?: string;
  /** Trust for the TLS connections the stack opens (toward trunks). Default: Node's CA bundle, verified. */
  tlsClient?: TlsClientOptions;
  /**
   * Session timers (RFC 4028) on every dialog: our INVITEs ask for `expiresS`, peers asking for less than
   * `minSeS` get 422, and a dialog nobody refreshes in time ends with BYE (`ended`, cause `session-expired`).
   * Default `{ expiresS: 1800, minSeS: 90 }`; `false`: off (`timer` neither supported nor required).
   */
  sessionTimer?: SessionTimerPolicy | false;
  /** Resolves the host names of destinations (A records). Default: the system's resolver. */
  dns?: SipDns;
  /**
   * Told of each message refused as malformed (not SIP, or a mandatory header missing or unusable), e.g. to
   * count them, and whether it was answered (a 400 naming why, to a request whose response the peer can
   * match; the rest are dropped); the transport already logs them (one warning per source per 10 s).
   */
  onMalformed?: (transport: TransportProtocol, reason: string, answered: boolean) => void;
  /** Told of each inbound TCP/TLS connection closed at once because a limit of `listen.inboundConnections` was reached (the transport logs it too). */
  onConnectionRefused?: (transport: TransportProtocol, limit: 'total' | 'per-address') => void;
}

export interface DigestCredentials {
  username: string;
  password: string;
  /** Answer only challenges of this realm (default: the first challenge). */
  realm?: string;
}

export interface InviteOptions {
  /** Request-URI, e.g. `sip:1001@pbx.example.com`. */
  target: string;
  /** Default `udp` (a `transport` parameter in `target` or the proxy URI wins). */
  transport?: TransportProtocol;
  from: { user: string; host?: string; displayName?: string };
  /** To URI (default: `target`), optionally with a display name. */
  to?: string | { uri: string; displayName?: string };
  /** Our SDP offer. */
  sdp: string;
  /** Extra headers (name -> value), e.g. `P-Asserted-Identity`, `X-WA-Call-Id`. */
  headers?: Record<string, string>;
  /** Credentials for a 401/407 from the trunk (answered once). */
  auth?: DigestCredentials;
  /** `host[:port]` or a SIP URI: send the INVITE there whatever the Request-URI's host. */
  outboundProxy?: string;
  /**
   * Over TLS: the SIP domain the host serves (a trunk given as a domain, the host one of its SRV targets):
   * the host's certificate may name the domain instead of the host (RFC 5922 §4); SNI names the domain.
   */
  tlsIdentity?: string;
  /** CANCEL when no 2xx came within this time (cause `no-answer`). Default: no limit. */
  ringTimeoutMs?: number;
  /**
   * Redirections (300-302: call forwarding) to follow: the INVITE again (CSeq + 1, same Call-ID and tags) to
   * the 3xx's Contact of highest q, through `outboundProxy` when set, else only when that Contact is on the
   * same host and port as `target` (a redirect cannot send the call elsewhere). Default 0: a 3xx fails.
   */
  maxRedirects?: number;
  /** Call-ID to use (default: random). */
  callId?: string;
  logger?: Logger;
}

export interface ProgressEvent {
  status: 180 | 183;
  reason: string;
  sdp?: string;
}

export interface AnsweredEvent {
  sdp?: string;
  /** Generic headers of the 2xx (lowercase names). */
  headers: Record<string, string>;
}

export interface CallFailedEvent {
  status: number;
  reason: string;
  cause: CallCause;
  /** Seconds from a Retry-After header. */
  retryAfter?: number;
  /** The `Reason` header of the response, if any. */
  sipReason?: SipReason;
}

/**
 * Why a call leg ended: a BYE (either way), no ACK for our 2xx, the stack closing, the session timer
 * (RFC 4028): no refresh from the far end in time, or our refresh answered 408/481 (we sent the BYE), or no
 * PRACK for our reliable provisional response within 64*T1 (RFC 3262: we rejected the INVITE with 504).
 */
export type EndedCause = 'bye' | 'no-ack' | 'shutdown' | 'session-expired' | 'no-prack';

export interface CallEndedEvent {
  by: 'local' | 'remote';
  cause: EndedCause;
  /** The `Reason` header of the BYE (remote) or the one we sent (local). */
  reason?: SipReason;
}

export interface InfoEvent {
  contentType: string;
  body: string;
  /** Set when the INFO carried a DTMF digit (application/dtmf-relay or application/dtmf). */
  dtmf?: DtmfInfo;
}

/** Events common to both legs. */
export interface CallLegEvents {
  ended: [CallEndedEvent];
  info: [InfoEvent];
  /** The far end moved the dialog to a new remote target (a re-INVITE or UPDATE with another Contact, RFC 3261 §12.2.2). */
  targetRefresh: [TargetRefreshEvent];
}

export interface TargetRefreshEvent {
  /** The new remote target: where in-dialog requests (BYE) go now. */
  target: string;
}

export interface RedirectedEvent {
  status: number;
  /** The Request-URI of the new INVITE. */
  target: string;
}

export interface OutboundCallEvents extends CallLegEvents {
  trying: [];
  /** A 3xx was followed: the INVITE went again, to `target`. */
  redirected: [RedirectedEvent];
  progress: [ProgressEvent];
  answered: [AnsweredEvent];
  failed: [CallFailedEvent];
}

export interface CancelledEvent {
  reason?: SipReason;
}

export interface AckedEvent {
  sdp?: string;
}

export interface InboundCallEvents extends CallLegEvents {
  /** The caller cancelled before we answered; we sent 200 to the CANCEL and 487 to the INVITE. */
  cancelled: [CancelledEvent];
  /**
   * The ACK for our 2xx arrived; `sdp` is its body when it has one: the answer, when our 2xx carried the
   * offer (the INVITE had none: "delayed offer", RFC 3261 §13.2.1).
   */
  acked: [AckedEvent];
  /**
   * The PRACK of our reliable provisional that carried our offer (an INVITE without SDP, so the offer went in
   * the first reliable response, RFC 3261 §13.2.1) carried the answer (RFC 3262 §5): the offer/answer is
   * complete before the 2xx, and the ACK carries no SDP.
   */
  prackAnswer: [{ sdp: string }];
}

/** What an INVITE authoriser sees of the request. */
export interface InboundRequestInfo {
  method: string;
  callId: string;
  requestUri: string;
  from: SipParty;
  to: SipParty;
  source: { address: string; port: number };
  transport: TransportProtocol;
  headers: Readonly<Record<string, string>>;
}

/**
 * The decision on an out-of-dialog INVITE before the application sees it:
 * `accept`; `reject` with a status (e.g. 403 for an address not on the allow-list); or `digest`, which
 * challenges (401, or 407 with `proxy`) unless the request carries valid credentials for `realm`.
 */
export type InviteAuthDecision =
  | { action: 'accept' }
  | { action: 'reject'; status: number; reason?: string; headers?: Record<string, string> }
  | {
      action: 'digest';
      realm: string;
      proxy?: boolean;
      /** The password of `username`, or undefined for an unknown user. */
      password: (username: string) => string | undefined | Promise<string | undefined>;
    };

export type InviteAuthorizer = (request: InboundRequestInfo) => InviteAuthDecision | Promise<InviteAuthDecision>;

/** A REGISTER (RFC 3261 §10) that reached us: the address of record, the contacts, the expiry asked for. */
export interface RegisterRequestInfo extends InboundRequestInfo {
  /** Contacts in the request, each with its `expires` parameter when it has one. */
  contacts: { uri: string; expires?: number }[];
  /** `Contact: *` (remove every binding; only with Expires: 0). */
  wildcard: boolean;
  /** The Expires header, when present. */
  expires?: number;
}

/** What a registrar answers: 200 with the bindings now held (each with its granted expiry), or an error. */
export type RegisterResult =
  | { status: 200; bindings: { uri: string; expires: number }[] }
  | { status: number; reason?: string; headers?: Record<string, string> };

/**
 * The application's registrar: `authorize` decides who may register (reject, or a digest challenge, 401
 * unless `proxy`), then `register` applies the request and gives the answer.
 */
export interface RegisterHandler {
  authorize(request: RegisterRequestInfo): InviteAuthDecision | Promise<InviteAuthDecision>;
  register(request: RegisterRequestInfo): RegisterResult | Promise<RegisterResult>;
}

/** A request whose digest credentials failed: a wrong password, or a user nobody configured. */
export interface SipAuthFailure {
  method: string;
  reason: 'unknown-user' | 'bad-password';
  username: string;
  source: { address: string; port: number };
}

export interface OptionsResult {
  status: number;
  reason: string;
  rttMs: number;
}

export interface RejectOptions {
  /** Extra headers, e.g. `{ 'Retry-After': '30', Warning: '399 gw "No agent"' }`. */
  headers?: Record<string, string>;
  reason?: SipReason;
}
