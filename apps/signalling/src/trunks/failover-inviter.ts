import { randomBytes } from 'node:crypto';
import type { Logger } from '@wagw/logging';
import { InvalidStateError, TypedEmitter, type CallFailedEvent, type InviteOptions, type OutboundCall, type OutboundCallEvents, type RemoteSdpHandler, type SipReason, type TransferHandler } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';
import type { ChannelGrant, LimitedTrunk } from './trunk-channels';

/** What the inviter needs of the SIP stack (SipStack satisfies it). */
export interface InviteSender {
  invite(options: InviteOptions): OutboundCall;
}

/** What the inviter needs of the health monitor (TrunkHealthMonitor satisfies it). */
export interface HostRanking {
  hostsInOrder(trunk: TrunkConfig): string[];
  reportFailure(trunkName: string, host: string, reason: string): void;
  /** For a trunk whose PBX registers to us: the Contact it registered (our Request-URI toward it). */
  registeredContact?(trunk: TrunkConfig): string | undefined;
  /** The configured domain `host` is an SRV target of (absent: the host was configured as it is). */
  srvDomain?(trunk: TrunkConfig, host: string): string | undefined;
}

/** The caller's INVITE options; the inviter adds the transport, the outbound proxy (host) and the Call-ID. */
export type TrunkInviteOptions = Omit<InviteOptions, 'transport' | 'outboundProxy' | 'callId'>;

/** What the inviter needs of the trunks' channel limits (TrunkChannels satisfies it). */
export interface ChannelLimiter {
  acquire(trunk: LimitedTrunk, member: string, direction: 'to-pbx'): Promise<ChannelGrant>;
  release(trunkName: string, member: string): Promise<void>;
}

export interface FailoverInviterOptions {
  /** The running stack (a function: the stack starts after the inviter is built). */
  sender: () => InviteSender;
  ranking: HostRanking;
  logger: Logger;
  /** Channel limits of trunks with `maxCalls` (absent: no trunk is limited). */
  channels?: ChannelLimiter;
}

function hostOf(hostPort: string): string {
  return hostPort.replace(/:\d+$/, '');
}

/**
 * Failures after which the same request goes to the trunk's next host (RFC 3263 §4.3: a transport error,
 * a timeout or a 503 means "try the next server"): unreachable (no response, transport error, 502-504),
 * 408, 503. A busy, declined, unanswered or cancelled call is an answer, not a host failure.
 */
export function isHostFailure(f: CallFailedEvent): boolean {
  if (f.cause === 'cancelled' || f.cause === 'no-answer') return false;
  return f.cause === 'unreachable' || f.cause === 'timeout' || f.status === 408 || f.status === 503;
}

interface Attempt {
  host: string;
  call: OutboundCall;
  /** Set when we gave up on this attempt (no response in time): its later events are ignored. */
  abandoned: boolean;
  noResponseTimer: NodeJS.Timeout | undefined;
}

/**
 * One INVITE toward a trunk that fails over between the trunk's hosts: the first healthy host is tried,
 * then the next one on a host failure (`isHostFailure`) or when the host sends nothing at all within the
 * trunk's `failoverTimeoutMs`. Every attempt carries the same Call-ID (same request, another server).
 * Events of the current attempt are forwarded; `failed` only once no host is left (or on an answer
 * such as busy, or our own hangup).
 *
 * On a trunk with `maxCalls`, a channel is taken first (TrunkChannels, keyed by the Call-ID, made here so
 * that `callId` is known at once): with none free the call fails with 503 without an INVITE; the channel is
 * given back when the call fails or, once answered, ends.
 */
export class TrunkCall extends TypedEmitter<OutboundCallEvents> {
  #callId: string | undefined;
  readonly #trunk: TrunkConfig;
  readonly #hosts: string[];
  readonly #options: TrunkInviteOptions;
  readonly #sender: InviteSender;
  readonly #ranking: HostRanking;
  readonly #log: Logger;
  readonly #startedAt = Date.now();
  #attempt: Attempt | undefined;
  #next = 0;
  #hangup: { reason: SipReason | undefined } | undefined;
  #done = false;
  readonly #channels: ChannelLimiter | undefined;
  #holdsChannel = false;

  constructor(trunk: TrunkConfig, options: TrunkInviteOptions, deps: { sender: InviteSender; ranking: HostRanking; logger: Logger; channels?: ChannelLimiter }) {
    super(deps.logger);
    this.#trunk = trunk;
    this.#sender = deps.sender;
    this.#ranking = deps.ranking;
    this.#log = deps.logger;
    this.#channels = trunk.maxCalls > 0 ? deps.channels : undefined;
    this.#hosts = deps.ranking.hostsInOrder(trunk);
    const contact = trunk.registrar ? deps.ranking.registeredContact?.(trunk) : undefined;
    // toward a registered PBX: its Contact as Request-URI, the destination in To (RFC 3261 §10, §16.5)
    this.#options = contact ? { ...options, target: contact, to: options.to ?? options.target } : options;
    if (this.#hosts.length === 0 && !trunk.registrar) throw new TypeError(`trunk ${trunk.name} has no hosts`);
  }

  /** Call-ID of every attempt (the first attempt's, kept for the next ones: the same request). */
  get callId(): string {
    if (!this.#callId) throw new Error('TrunkCall not started');
    return this.#callId;
  }

  /** The host of the current (or answering) attempt. */
  get host(): string | undefined {
    return this.#attempt?.host;
  }

  /** The SIP leg of the current attempt (the answered one once `answered` fired). */
  get leg(): OutboundCall | undefined {
    return this.#attempt?.call;
  }

  /**
   * Sends the INVITE to the first host (the inviter calls it once; the stack sends asynchronously). A
   * registrar trunk whose PBX is not registered fails at once with 480, on the next tick, like any answer.
   */
  start(): void {
    if (this.#hosts.length === 0) {
      this.#callId = `${randomBytes(12).toString('hex')}@unsent`;
      this.#log.warn({ trunk: this.#trunk.name }, 'INVITE not sent: no PBX registered on the trunk');
      setImmediate(() => this.#finish({ status: 480, reason: 'Temporarily Unavailable (PBX not registered)', cause: 'unreachable' }));
      return;
    }
    const channels = this.#channels;
    if (!channels) return this.#tryNext();
    const callId = (this.#callId = `${randomBytes(12).toString('hex')}@wagw`);
    void channels.acquire(this.#trunk, callId, 'to-pbx').then((grant) => {
      if (!grant.granted) {
        this.#log.warn({ trunk: this.#trunk.name, maxCalls: this.#trunk.maxCalls, inUse: grant.inUse }, 'INVITE not sent: the trunk is at its call limit (maxCalls)');
        return this.#finish({ status: 503, reason: `Service Unavailable (trunk ${this.#trunk.name} at its limit of ${this.#trunk.maxCalls} calls)`, cause: 'unreachable' });
      }
      this.#holdsChannel = true;
      if (this.#hangup) return this.#finish({ status: 487, reason: 'Request Terminated', cause: 'cancelled' });
      this.#tryNext();
    }, (err: unknown) => {
      // a limiter that cannot answer must not leave the call hanging without an outcome
      this.#log.error({ err, trunk: this.#trunk.name }, 'trunk channel not taken: INVITE not sent');
      this.#finish({ status: 503, reason: 'Service Unavailable (trunk channel limit not checked)', cause: 'unreachable' });
    });
  }

  /**
   * Our end of the call, `text` in its Reason header (RFC 3326): before the answer a CANCEL saying
   * `SIP;cause=487` (Request Terminated), after it a BYE saying `Q.850;cause=16` (normal call clearing).
   */
  end(text: string): Promise<void> {
    const reason = text.slice(0, 100);
    return this.hangup(this.leg?.state === 'confirmed' ? { protocol: 'Q.850', cause: 16, text: reason } : { protocol: 'SIP', cause: 487, text: reason });
  }

  /** CANCEL before the answer (no further host is tried), BYE after it. */
  async hangup(reason?: SipReason): Promise<void> {
    this.#hangup ??= { reason };
    const a = this.#attempt;
    if (a && !a.abandoned) await a.call.hangup(reason);
  }

  /** In-dialog INFO (after the answer), on the answering host's leg. */
  sendInfo(contentType: string, body: string): Promise<number> {
    return this.#leg('send INFO').sendInfo(contentType, body);
  }

  /** One DTMF digit as `application/dtmf-relay` INFO (after the answer). */
  sendDtmf(digit: string, durationMs?: number): Promise<number> {
    return this.#leg('send DTMF').sendDtmf(digit, durationMs);
  }

  /** REFER (blind transfer) from the PBX goes to `handler` (after the answer, on the answering host's leg). */
  setTransferHandler(handler: TransferHandler): void {
    this.#leg('take REFER').setTransferHandler(handler);
  }

  /** Mid-call SDP from the PBX goes to `handler` (after the answer, on the answering host's leg). */
  setSdpHandler(handler: RemoteSdpHandler): void {
    this.#leg('take mid-call SDP').setSdpHandler(handler);
  }

  #leg(operation: string): OutboundCall {
    const a = this.#attempt;
    if (!a || a.abandoned) throw new InvalidStateError(operation, 'no attempt');
    return a.call;
  }

  #tryNext(): void {
    const host = this.#hosts[this.#next++];
    if (host === undefined) return;
    const ringLeft = this.#options.ringTimeoutMs === undefined ? undefined : Math.max(1000, this.#options.ringTimeoutMs - (Date.now() - this.#startedAt));
    let call: OutboundCall;
    const srvDomain = this.#ranking.srvDomain?.(this.#trunk, host);
    try {
      call = this.#sender.invite({
        ...this.#options,
        ...(ringLeft !== undefined ? { ringTimeoutMs: ringLeft } : {}),
        // an SRV target stands for its domain: From names the domain, as the Request-URI does
        from: { ...this.#options.from, host: this.#options.from.host ?? (this.#trunk.fromDomain || srvDomain || hostOf(host)) },
        transport: this.#trunk.transport,
        outboundProxy: host,
        // and over TLS its certificate may name the domain (RFC 5922 §4)
        ...(srvDomain && this.#trunk.transport === 'tls' ? { tlsIdentity: srvDomain } : {}),
        maxRedirects: this.#trunk.maxRedirects,
        ...(this.#callId ? { callId: this.#callId } : {}),
      });
    } catch (err) {
      if (!this.#callId) throw err; // the first INVITE: the caller sees the error, as with SipStack.invite
      return this.#finish({ status: 503, reason: `Not Sent (${(err as Error).message})`.slice(0, 100), cause: 'unreachable' }); // e.g. the stack is closing
    }
    this.#callId ??= call.callId;
    const attempt: Attempt = { host, call, abandoned: false, noResponseTimer: undefined };
    this.#attempt = attempt;
    if (this.#next > 1) this.#log.warn({ trunk: this.#trunk.name, host, attempt: this.#next }, 'INVITE failing over to the next trunk host');
    this.#listen(attempt);
    const waitMs = this.#trunk.failoverTimeoutMs;
    if (waitMs > 0 && this.#next < this.#hosts.length) {
      attempt.noResponseTimer = setTimeout(() => this.#onNoResponse(attempt), waitMs);
    }
  }

  #listen(a: Attempt): void {
    const responded = (): void => {
      clearTimeout(a.noResponseTimer);
      a.noResponseTimer = undefined;
    };
    const live = (): boolean => !a.abandoned && this.#attempt === a;
    a.call.on('trying', () => {
      responded();
      if (live()) this.safeEmit('trying');
    });
    a.call.on('redirected', (r) => {
      responded(); // the host answered (3xx): the INVITE to the new target is this host's too
      if (!live()) return;
      this.#log.info({ trunk: this.#trunk.name, host: a.host, status: r.status, target: r.target }, 'the PBX redirected the call: INVITE to the new target');
      this.safeEmit('redirected', r);
    });
    a.call.on('progress', (p) => {
      responded();
      if (live()) this.safeEmit('progress', p);
    });
    a.call.on('answered', (e) => {
      responded();
      if (live()) this.safeEmit('answered', e);
    });
    a.call.on('failed', (f) => {
      responded();
      if (live()) this.#onFailed(a, f);
    });
    a.call.on('ended', (e) => {
      if (!live()) return;
      this.#releaseChannel();
      this.safeEmit('ended', e);
    });
    a.call.on('info', (i) => {
      if (live()) this.safeEmit('info', i);
    });
  }

  #onNoResponse(a: Attempt): void {
    a.noResponseTimer = undefined;
    if (!(this.#attempt === a && !a.abandoned && a.call.state === 'calling')) return;
    a.abandoned = true;
    a.call.dispose(); // no provisional yet, so no CANCEL is possible (RFC 3261 §9.1): end the transaction
    this.#hostFailed(a.host, `no response within ${this.#trunk.failoverTimeoutMs} ms`, { status: 408, reason: 'No Response', cause: 'unreachable' });
  }

  #onFailed(a: Attempt, f: CallFailedEvent): void {
    if (!this.#hangup && isHostFailure(f)) return this.#hostFailed(a.host, `${f.status} ${f.reason}`.trim(), f);
    this.#finish(f);
  }

  #hostFailed(host: string, reason: string, f: CallFailedEvent): void {
    this.#ranking.reportFailure(this.#trunk.name, host, reason);
    if (this.#hangup) return this.#finish({ status: 487, reason: 'Request Terminated', cause: 'cancelled' });
    if (this.#next >= this.#hosts.length) {
      this.#log.warn({ trunk: this.#trunk.name, host, reason }, 'INVITE failed on the last trunk host');
      return this.#finish(f);
    }
    this.#log.warn({ trunk: this.#trunk.name, host, reason }, 'trunk host failed the INVITE');
    this.#tryNext();
  }

  #finish(f: CallFailedEvent): void {
    if (this.#done) return;
    this.#done = true;
    this.#releaseChannel();
    this.safeEmit('failed', f);
  }

  #releaseChannel(): void {
    if (!this.#holdsChannel || !this.#channels || !this.#callId) return;
    this.#holdsChannel = false;
    void this.#channels.release(this.#trunk.name, this.#callId);
  }
}

/** Builds TrunkCalls: the one way the signalling app sends an INVITE over a trunk. */
export class FailoverInviter {
  readonly #options: FailoverInviterOptions;

  constructor(options: FailoverInviterOptions) {
    this.#options = options;
  }

  /** Starts an INVITE over `trunk`; attach listeners right away (events follow asynchronously). */
  invite(trunk: TrunkConfig, options: TrunkInviteOptions): TrunkCall {
    const sender = this.#options.sender();
    const channels = this.#options.channels;
    const call = new TrunkCall(trunk, options, { sender, ranking: this.#options.ranking, logger: options.logger ?? this.#options.logger, ...(channels ? { channels } : {}) });
    call.start();
    return call;
  }
}
