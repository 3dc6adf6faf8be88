import { performance } from 'node:perf_hooks';
import type { Logger } from '@wagw/logging';
import type { ClientTransaction, NameAddr, SipMessage, SipUri, TransactionLayer } from 'sip';
import { makeResponse, makeTransactionLayer, parseUri } from 'sip';
import type { DialogRequestHandler, LegContext, RequestOptions, SentRequest, SipTimers } from '../call/leg-context';
import { requestFinal } from '../call/leg-context';
import { OutboundCall } from '../call/outbound-call';
import { RFC_MIN_SE_S, type SessionTimerPolicy } from '../call/session-timer';
import { assertIncomingInviteSnapshot, inviteForResponse, type IncomingInviteSnapshot } from '../call/incoming-invite';
import { ackOfFailure, assertPendingInviteSnapshot, cancelOf, inviteOf, type PendingInviteSnapshot } from '../call/pending-invite';
import { Dialog, type DialogSnapshot } from '../dialog/dialog';
import { formatReason, nameAddr, newBranch, randomToken, type SipReason } from '../message/headers';
import { Registration, type RegistrationOptions } from '../register/registration';
import { InvalidStateError, reasonPhrase } from '../sip.errors';
import type { InviteAuthorizer, InviteOptions, OptionsResult, RegisterHandler, SipAuthFailure, SipStackOptions } from '../sip.types';
import { resolveProxy, resolveUri, uriTransport, type HostResolver } from '../transport/destination';
import { SipDns } from '../transport/sip-dns';
import { SipTransport, summarise, type Endpoint, type TransportProtocol } from '../transport/sip-transport';
import { IncomingRequestRouter, type InviteHandler } from './incoming-request-router';

const T1_MS = 500; // fixed inside npm `sip`'s transaction layer
const T2_MS = 4000;
const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE, REFER, PRACK';
/** How far past a dialog snapshot's CSeq a BYE from it goes (see byeFromSnapshot). */
const SNAPSHOT_SEQ_AHEAD = 1000;
const DEFAULT_SESSION_TIMER: SessionTimerPolicy = { expiresS: 1800, minSeS: RFC_MIN_SE_S };

function sessionTimerPolicy(option: SessionTimerPolicy | false | undefined): SessionTimerPolicy | undefined {
  if (option === false) return undefined;
  const policy = option ?? DEFAULT_SESSION_TIMER;
  if (!Number.isInteger(policy.minSeS) || policy.minSeS < 1 || !Number.isInteger(policy.expiresS) || policy.expiresS < policy.minSeS) {
    throw new RangeError(`sessionTimer: expiresS (${policy.expiresS}) and minSeS (${policy.minSeS}) must be whole seconds, 1 <= minSeS <= expiresS`);
  }
  return policy;
}

interface Disposable {
  dispose(): void;
}

/**
 * Our SIP stack: npm `sip`'s parser and RFC 3261 transaction layer over our own UDP/TCP/TLS transport
 * (one instance per stack, no module singleton). It fills npm `sip`'s gaps: destinations are resolved
 * here, never by npm `sip`'s route logic (whose flow-token decoding crashes on a Route or Request-URI with
 * our own host), `100 Trying` and 2xx retransmission are sent by the legs, a configurable transaction
 * timeout shortens Timer B/F, and `close()` releases every socket and timer.
 */
export class SipStack {
  readonly #log: Logger;
  readonly #transport: SipTransport;
  readonly #tx: TransactionLayer;
  readonly #timers: SipTimers;
  readonly #sessionTimer: SessionTimerPolicy | undefined;
  readonly #userAgent: string;
  readonly #contactUser: string;
  readonly #advertisedHost: string;
  readonly #router: IncomingRequestRouter;
  readonly #ctx: LegContext;
  /** Messages that came off the wire: responses not in here were synthesised (timeouts, transport errors). */
  readonly #wire = new WeakSet<SipMessage>();
  readonly #legs = new Set<Disposable>();
  readonly #registrations = new Set<Registration>();
  readonly #dialogs = new Map<string, DialogRequestHandler>();
  readonly #txTimers = new Set<NodeJS.Timeout>();
  /**
   * Final responses this stack sent for INVITEs of another process (rejectFromSnapshot), by Via branch, until
   * their ACK: called with true when it comes, false when the stack closes.
   */
  readonly #orphanFinals = new Map<string, (acked: boolean) => void>();
  /**
   * INVITEs of another process this stack CANCELled (cancelFromSnapshot), by Via branch: their final
   * responses come here (the Via's sent-by, or the CANCEL's source with rport) and no transaction of ours
   * knows them, so they are ACKed from the snapshot (a 2xx that crossed the CANCEL: ACK, then BYE).
   */
  readonly #orphanInvites = new Map<string, { snapshot: PendingInviteSnapshot; reason: SipReason | undefined; byeSent: Set<string> }>();
  readonly #resolveHost: HostResolver;
  #closed = false;
  /** Settles when close() starts: requests sent from snapshots stop waiting for an answer then. */
  #onClose!: () => void;
  readonly #closing = new Promise<void>((resolve) => (this.#onClose = resolve));

  private constructor(options: SipStackOptions, transport: SipTransport, advertisedHost: string, log: Logger) {
    this.#log = log;
    this.#transport = transport;
    this.#advertisedHost = advertisedHost;
    this.#userAgent = options.userAgent ?? 'wagw';
    this.#contactUser = options.contactUser ?? 'wagw';
    this.#timers = { t1Ms: T1_MS, t2Ms: T2_MS, transactionTimeoutMs: Math.min(options.transactionTimeoutMs ?? 64 * T1_MS, 64 * T1_MS) };
    this.#sessionTimer = sessionTimerPolicy(options.sessionTimer);
    const dns = options.dns ?? new SipDns();
    this.#resolveHost = (host) => dns.address(host);
    this.#tx = makeTransactionLayer({ 'max-forwards': 70 });
    this.#ctx = this.#makeContext();
    this.#router = new IncomingRequestRouter({
      ctx: this.#ctx,
      log,
      dialogs: this.#dialogs,
      legs: this.#legs,
      contact: (t) => this.#contact(t),
      isClosed: () => this.#closed,
    });
  }

  /** Binds the configured transports and returns a running stack. */
  static async start(options: SipStackOptions): Promise<SipStack> {
    const listen = options.listen;
    if (listen.udpPort === undefined && listen.tcpPort === undefined && !listen.tls) {
      throw new TypeError('SipStack needs at least one of listen.udpPort, listen.tcpPort, listen.tls');
    }
    const advertisedHost = options.publicHost ?? listen.host;
    if (advertisedHost === '0.0.0.0' || advertisedHost === '::') throw new TypeError('publicHost is required when listening on a wildcard address');
    const log = options.logger.child({ component: 'sip' });
    const holder: { stack?: SipStack } = {};
    const transport = await SipTransport.listen({
      host: listen.host,
      advertisedHost,
      ...(listen.udpPort !== undefined ? { udpPort: listen.udpPort } : {}),
      ...(listen.tcpPort !== undefined ? { tcpPort: listen.tcpPort } : {}),
      ...(listen.tls ? { tls: listen.tls } : {}),
      ...(options.tlsClient ? { tlsClient: options.tlsClient } : {}),
      logger: log,
      onMessage: (m, remote) => {
        if (holder.stack) holder.stack.#onMessage(m, remote);
      },
      ...(options.onMalformed ? { onMalformed: (remote: Endpoint, reason: string, answered: boolean) => options.onMalformed?.(remote.protocol, reason, answered) } : {}),
      ...(listen.inboundConnections ? { inboundConnections: listen.inboundConnections } : {}),
      ...(options.onConnectionRefused ? { onConnectionRefused: (remote: Endpoint, limit: 'total' | 'per-address') => options.onConnectionRefused?.(remote.protocol, limit) } : {}),
    });
    const stack = new SipStack(options, transport, advertisedHost, log);
    holder.stack = stack;
    log.info({ host: listen.host, advertisedHost, ports: stack.ports }, 'sip stack listening');
    return stack;
  }

  /** Bound port per enabled transport. */
  /** Inbound TCP/TLS connections open now. */
  get inboundConnections(): number {
    return this.#transport.inboundConnections;
  }

  /** Inbound connections open now, by stream transport. */
  inboundConnectionsByTransport(): { tcp: number; tls: number } {
    return this.#transport.inboundConnectionsByTransport();
  }

  get ports(): Partial<Record<TransportProtocol, number>> {
    const out: Partial<Record<TransportProtocol, number>> = {};
    for (const p of this.#transport.protocols) out[p] = this.#transport.port(p);
    return out;
  }

  get advertisedHost(): string {
    return this.#advertisedHost;
  }

  get timers(): Readonly<SipTimers> {
    return this.#timers;
  }

  /** Starts an outbound call (UAC leg). Attach listeners right away: events follow asynchronously. */
  invite(options: InviteOptions): OutboundCall {
    if (this.#closed) throw new InvalidStateError('invite', 'closed');
    const parsed = parseUri(options.target);
    if (!parsed) throw new TypeError(`not a SIP URI: ${options.target}`);
    const transport = options.transport ?? uriTransport(parsed) ?? 'udp';
    if (this.#transport.port(transport) === undefined) throw new InvalidStateError(`invite over ${transport}`, 'transport not enabled');
    const call = new OutboundCall(this.#ctx, options, transport, options.outboundProxy, options.logger ?? this.#log);
    this.#legs.add(call);
    void call.start();
    return call;
  }

  /** Handles out-of-dialog INVITEs (after `onInviteAuth`). Without a handler INVITEs get 480. */
  onInvite(handler: InviteHandler): void {
    this.#router.inviteHandler = handler;
  }

  /** Decides on each new INVITE before `onInvite` sees it: allow-lists, digest challenges. */
  onInviteAuth(authorizer: InviteAuthorizer): void {
    this.#router.authorizer = authorizer;
  }

  /** Told of each INVITE or REGISTER whose digest credentials failed (the stack logs it too). */
  onAuthFailure(listener: (failure: SipAuthFailure) => void): void {
    this.#router.onAuthFailure = listener;
  }

  /** Answers REGISTER requests (the gateway as registrar, for PBXs that register to it); without one: 405. */
  onRegister(handler: RegisterHandler): void {
    this.#router.registerHandler = handler;
  }

  /**
   * A registration of ours at a registrar (the gateway as a registering trunk or phone of a PBX): `start()`
   * registers and keeps it up, `stop()` removes it. The stack's `close()` stops its timers without signalling.
   */
  registration(options: RegistrationOptions): Registration {
    if (this.#closed) throw new InvalidStateError('register', 'closed');
    const registration = new Registration(options, { ctx: this.#ctx, contact: (t) => this.#contact(t), logger: this.#log });
    this.#registrations.add(registration);
    registration.on('status', (s) => {
      if (s.state === 'stopped') this.#registrations.delete(registration);
    });
    return registration;
  }

  /** Sends OPTIONS (keep-alive / health) and resolves with the final status and round-trip time. */
  async sendOptions(target: string, transport: TransportProtocol = 'udp', options: { outboundProxy?: string; tlsIdentity?: string } = {}): Promise<OptionsResult> {
    if (this.#closed) throw new InvalidStateError('send OPTIONS', 'closed');
    const request: SipMessage = {
      method: 'OPTIONS',
      uri: target,
      headers: {
        via: [],
        'max-forwards': 70,
        from: nameAddr(`sip:${this.#contactUser}@${this.#advertisedHost}`, undefined, randomToken(6)),
        to: nameAddr(target),
        'call-id': `${randomToken(12)}@${this.#advertisedHost}`,
        cseq: { seq: 1, method: 'OPTIONS' },
        contact: [this.#contact(transport)],
        accept: 'application/sdp',
      },
    };
    const started = performance.now();
    const proxy = options.outboundProxy ? { proxy: options.outboundProxy } : {};
    const identity = options.tlsIdentity ? { tlsIdentity: options.tlsIdentity } : {};
    const { response } = await requestFinal(this.#ctx, request, { transport, ...proxy, ...identity });
    return { status: response.status ?? 0, reason: response.reason ?? '', rttMs: Math.round(performance.now() - started) };
  }

  /**
   * BYE in a dialog this stack has no leg for, rebuilt from its snapshot (a call of a signalling process that
   * died): its CSeq 1000 past the snapshot's, past the refreshes and INFOs sent since. Resolves with the
   * final status (408 when nothing answered, 0 when the stack closed first).
   */
  async byeFromSnapshot(snapshot: DialogSnapshot, reason?: SipReason): Promise<number> {
    if (this.#closed) throw new InvalidStateError('send BYE', 'closed');
    const dialog = Dialog.fromSnapshot(snapshot, SNAPSHOT_SEQ_AHEAD);
    const bye = dialog.createRequest('BYE', reason ? { headers: { reason: formatReason(reason) } } : {});
    return this.#finalStatus(requestFinal(this.#ctx, bye, { transport: dialog.transport, hop: dialog.nextHop }));
  }

  /** The final status of a request sent from a snapshot; 0 when the stack closes first (its transactions end unanswered). */
  #finalStatus(final: Promise<{ response: SipMessage }>): Promise<number> {
    return Promise.race([final.then(({ response }) => response.status ?? 0), this.#closing.then(() => 0)]);
  }

  /**
   * CANCEL of an INVITE this stack did not send, from its snapshot (a ringing call of a signalling process
   * that died), with the INVITE's Via so that the PBX matches it. The INVITE's final response is ACKed when
   * it reaches this stack, for 64*T1; a 2xx that crossed the CANCEL is ACKed and hung up with BYE. Resolves
   * with the CANCEL's final status (481 when the INVITE is over, 408 when nothing answered, 0 when the stack
   * closed first).
   */
  async cancelFromSnapshot(snapshot: PendingInviteSnapshot, reason?: SipReason): Promise<number> {
    if (this.#closed) throw new InvalidStateError('send CANCEL', 'closed');
    assertPendingInviteSnapshot(snapshot);
    const branch = snapshot.via.params['branch'] as string;
    this.#orphanInvites.set(branch, { snapshot, reason, byeSent: new Set() });
    const timer = setTimeout(() => {
      this.#txTimers.delete(timer);
      this.#orphanInvites.delete(branch);
    }, 64 * T1_MS);
    timer.unref();
    this.#txTimers.add(timer);
    const cancel = cancelOf(snapshot, reason);
    this.#transport.keepVia(cancel);
    return this.#finalStatus(requestFinal(this.#ctx, cancel, { transport: snapshot.destination.protocol, destination: snapshot.destination }));
  }

  /**
   * Final response (3xx-6xx) to an INVITE this stack did not receive, from its snapshot (a PBX call ringing at
   * a signalling process that died): sent where a response to it goes (its source over UDP, retransmitted
   * until the ACK as Timer G does; over TCP/TLS the INVITE's connection, else a new one to its sent-by).
   * Resolves true once the ACK came, false when none came in 64*T1.
   */
  async rejectFromSnapshot(snapshot: IncomingInviteSnapshot, status: number, reason?: SipReason): Promise<boolean> {
    if (this.#closed) throw new InvalidStateError('send a final response', 'closed');
    assertIncomingInviteSnapshot(snapshot);
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new RangeError(`not a failure status: ${status}`);
    const invite = inviteForResponse(snapshot);
    const response = makeResponse(invite, status, reasonPhrase(status), reason ? { headers: { reason: formatReason(reason) } } : undefined);
    response.headers['server'] ??= this.#userAgent;
    const branch = String(snapshot.via[0]?.params['branch']);
    const connection = this.#transport.responder(snapshot.source, invite);
    return new Promise<boolean>((resolve) => {
      let interval = T1_MS;
      let retransmit: NodeJS.Timeout | undefined;
      const finish = (acked: boolean): void => {
        clearTimeout(retransmit);
        clearTimeout(giveUp);
        this.#txTimers.delete(giveUp);
        if (retransmit) this.#txTimers.delete(retransmit);
        this.#orphanFinals.delete(branch);
        resolve(acked);
      };
      const send = (): void => {
        if (this.#closed) return finish(false);
        connection.send(response);
        if (snapshot.source.protocol !== 'udp') return;
        if (retransmit) this.#txTimers.delete(retransmit);
        retransmit = setTimeout(send, interval);
        this.#txTimers.add(retransmit);
        interval = Math.min(interval * 2, T2_MS);
      };
      const giveUp = setTimeout(() => finish(false), 64 * T1_MS);
      this.#txTimers.add(giveUp);
      this.#orphanFinals.set(branch, finish);
      send();
    });
  }

  /** A final response to an INVITE CANCELled from its snapshot: ACKed (and a 2xx hung up), else false. */
  #answerOrphanInvite(rs: SipMessage): boolean {
    if (rs.headers.cseq?.method !== 'INVITE') return false;
    const branch = rs.headers.via?.[0]?.params['branch'];
    const orphan = typeof branch === 'string' ? this.#orphanInvites.get(branch) : undefined;
    const status = rs.status ?? 0;
    if (!orphan || status < 200) return !!orphan;
    const s = orphan.snapshot;
    if (status >= 300) {
      const ack = ackOfFailure(s, rs);
      this.#transport.keepVia(ack);
      const connection = this.#transport.open(s.destination, (err) => this.#log.warn({ err: err.message }, 'ACK not delivered'));
      connection.send(ack);
      connection.release();
      return true;
    }
    // the PBX answered as the CANCEL went out: ACK its 2xx (each retransmission), BYE once per dialog
    const dialog = Dialog.asUac(inviteOf(s), rs, s.destination.protocol);
    void this.#sendAck(dialog.createAck(s.cseq), dialog.nextHop, dialog.transport);
    if (!orphan.byeSent.has(dialog.remoteTag)) {
      orphan.byeSent.add(dialog.remoteTag);
      this.#log.info({ sipCallId: s.callId }, 'a 2xx crossed the CANCEL of an INVITE of another process: ACK and BYE');
      const bye = dialog.createRequest('BYE', orphan.reason ? { headers: { reason: formatReason(orphan.reason) } } : {});
      void requestFinal(this.#ctx, bye, { transport: dialog.transport, hop: dialog.nextHop }).catch((err: unknown) => this.#log.warn({ err }, 'BYE after a crossed CANCEL failed'));
    }
    return true;
  }

  /** Ends every leg (no signalling), stops every transaction and timer, and closes every socket. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose();
    for (const leg of [...this.#legs]) leg.dispose();
    this.#legs.clear();
    for (const r of [...this.#registrations]) r.dispose();
    this.#registrations.clear();
    this.#dialogs.clear();
    this.#orphanInvites.clear();
    for (const finish of [...this.#orphanFinals.values()]) finish(false);
    for (const t of this.#txTimers) clearTimeout(t);
    this.#txTimers.clear();
    // npm `sip` enters a client transaction's first state on process.nextTick (a shutdown before that is
    // undone, leaving its timers running): let those ticks run, then stop every transaction
    await new Promise((resolve) => setImmediate(resolve));
    this.#tx.destroy();
    await this.#transport.close();
    this.#log.info('sip stack closed');
  }

  #makeContext(): LegContext {
    return {
      logger: this.#log,
      userAgent: this.#userAgent,
      allow: ALLOW,
      timers: this.#timers,
      sessionTimer: this.#sessionTimer,
      advertisedHost: this.#advertisedHost,
      contact: (t) => this.#contact(t),
      sendRequest: (rq, o) => this.#sendRequest(rq, o),
      sendAck: (ack, hop, t) => this.#sendAck(ack, hop, t),
      sendResponse: (rs) => this.#sendResponse(rs),
      registerDialog: (id, h) => void this.#dialogs.set(id, h),
      unregisterDialog: (id) => void this.#dialogs.delete(id),
      legTerminated: (leg) => {
        this.#legs.delete(leg as Disposable);
        this.#router.forget(leg);
      },
    };
  }

  #contact(transport: TransportProtocol): NameAddr {
    const port = this.#transport.port(transport) ?? 0;
    const param = transport === 'udp' ? '' : `;transport=${transport}`;
    return { uri: `sip:${this.#contactUser}@${this.#advertisedHost}:${port}${param}`, params: {} };
  }

  #onMessage(m: SipMessage, remote: Endpoint): void {
    if (this.#closed) return;
    this.#wire.add(m);
    if (!m.method) {
      const tx = this.#tx.getClient(m);
      if (tx) tx.message(m, remote);
      else if (!this.#answerOrphanInvite(m)) this.#log.debug({ sipMessage: summarise(m) }, 'response without a transaction dropped');
      return;
    }
    const server = this.#tx.getServer(m);
    if (server) return server.message(m, remote); // a retransmission, or the ACK of a non-2xx
    if (m.method === 'ACK') {
      const acked = this.#orphanFinals.get(String(m.headers.via[0]?.params['branch']));
      if (acked) return acked(true); // the ACK of a final response sent from a snapshot
    }
    if (m.method !== 'ACK') this.#tx.createServerTransaction(m, this.#transport.responder(remote, m));
    this.#router.route(m, remote);
  }

  async #destination(rq: SipMessage, o: RequestOptions): Promise<Endpoint> {
    const found = await this.#nextHop(rq, o);
    return o.tlsIdentity && found.protocol === 'tls' ? { ...found, tlsIdentity: o.tlsIdentity } : found;
  }

  async #nextHop(rq: SipMessage, o: RequestOptions): Promise<Endpoint> {
    if (o.destination) return o.destination;
    if (o.proxy) return resolveProxy(o.proxy, o.transport, this.#resolveHost);
    return resolveUri(o.hop ?? rq.uri ?? '', o.transport, this.#resolveHost);
  }

  async #sendRequest(rq: SipMessage, o: RequestOptions): Promise<SentRequest | undefined> {
    let destination: Endpoint;
    try {
      destination = await this.#destination(rq, o);
    } catch (err) {
      this.#log.warn({ err, sipMessage: summarise(rq) }, 'no destination for request');
      const why = err instanceof Error ? err.message : String(err);
      setImmediate(() => o.onResponse?.(makeResponse(rq, 503, `Service Unavailable (${why.slice(0, 100)})`), true));
      return undefined;
    }
    if (this.#closed) return undefined;
    if (rq.method !== 'CANCEL') rq.headers.via = [{ params: {} }];
    rq.headers['user-agent'] ??= this.#userAgent;
    let timer: NodeJS.Timeout | undefined;
    const stopTimer = (): void => {
      if (!timer) return;
      clearTimeout(timer);
      this.#txTimers.delete(timer);
      timer = undefined;
    };
    const ref: { tx?: ClientTransaction; final?: boolean } = {};
    const onResponse = (rs: SipMessage): void => {
      const status = rs.status ?? 0;
      if (rq.method === 'INVITE' || status >= 200) stopTimer();
      if (status >= 200) ref.final = true;
      o.onResponse?.(rs, !this.#wire.has(rs));
    };
    const connection = this.#transport.open(destination, (err) => {
      if (ref.final) return; // the connection closed after the transaction got its answer
      this.#log.warn({ err: err.message, sipMessage: summarise(rq) }, 'transport error: request failed');
      // never sent on the wire: the reason keeps why (refused, TLS certificate, ...) for the CDR and the logs
      ref.tx?.message(makeResponse(rq, 503, `Service Unavailable (${err.message.slice(0, 100)})`));
    });
    const created = this.#tx.createClientTransaction(connection, rq, onResponse);
    ref.tx = created;
    if (this.#timers.transactionTimeoutMs < 64 * T1_MS) {
      timer = setTimeout(() => {
        stopTimer();
        created.shutdown();
        onResponse(makeResponse(rq, 408, 'Request Timeout'));
      }, this.#timers.transactionTimeoutMs);
      this.#txTimers.add(timer);
    }
    return {
      destination,
      shutdown: () => {
        stopTimer();
        created.shutdown();
      },
    };
  }

  async #sendAck(ack: SipMessage, hop: string | SipUri, transport: TransportProtocol): Promise<void> {
    let destination: Endpoint;
    try {
      destination = await resolveUri(hop, transport, this.#resolveHost);
    } catch (err) {
      this.#log.warn({ err, sipMessage: summarise(ack) }, 'no destination for ACK');
      return;
    }
    if (this.#closed) return;
    if (!ack.headers.via[0]?.params['branch']) ack.headers.via = [{ params: { branch: newBranch() } }];
    ack.headers['user-agent'] ??= this.#userAgent;
    const connection = this.#transport.open(destination, (err) => this.#log.warn({ err: err.message }, 'ACK not delivered'));
    connection.send(ack);
    connection.release();
  }

  #sendResponse(rs: SipMessage): void {
    if (this.#closed) return;
    const tx = this.#tx.getServer(rs);
    if (!tx) return void this.#log.debug({ sipMessage: summarise(rs) }, 'no server transaction for response (already ended)');
    rs.headers['server'] ??= this.#userAgent;
    tx.send(rs);
  }
}
