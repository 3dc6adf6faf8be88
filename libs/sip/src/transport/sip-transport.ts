import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6, createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions } from 'node:tls';
import type { Logger } from '@wagw/logging';
import type { Connection, SipMessage } from 'sip';
import { makeResponse, makeStreamParser, parse, stringify } from 'sip';
import { randomToken, toWire } from '../message/headers';

/**
 * UDP, TCP and TLS transports for the stack (RFC 3261 §18), replacing npm `sip`'s own: ours listens on a
 * port per transport, stamps the right Via, reports every socket error and, on close, destroys every
 * connection (npm `sip` only stops its listening servers, leaving accepted and outgoing sockets open).
 * Parsing and serialising are npm `sip`'s.
 */

export type TransportProtocol = 'udp' | 'tcp' | 'tls';

export interface Endpoint {
  protocol: TransportProtocol;
  address: string;
  port: number;
  /** The host name the address was resolved from: TLS verifies the peer certificate against it (SNI too). */
  hostname?: string;
  /**
   * The SIP domain the host serves (a trunk given as a domain, this host one of its SRV targets): its TLS
   * certificate may name the domain instead of the host (RFC 5922 §4), and SNI names the domain.
   */
  tlsIdentity?: string;
}

/** Trust for the connections we open (toward trunks). */
export interface TlsClientOptions {
  /** CA certificates trusted for outgoing TLS connections (default: Node's bundle). */
  ca?: string | Buffer | (string | Buffer)[];
  /** Verify the peer certificate of outgoing connections. Default true. */
  rejectUnauthorized?: boolean;
}

/** A TLS listener; its `ca`/`rejectUnauthorized` apply to outgoing connections unless `tlsClient` is given. */
export interface TlsListenOptions extends TlsClientOptions {
  port: number;
  key: string | Buffer;
  cert: string | Buffer;
}

export interface TransportOptions {
  host: string;
  /** Host written in Via (and Contact by the stack). Default: `host`. */
  advertisedHost: string;
  udpPort?: number;
  tcpPort?: number;
  tls?: TlsListenOptions;
  /** Trust for outgoing TLS; overrides `tls.ca`/`tls.rejectUnauthorized`. */
  tlsClient?: TlsClientOptions;
  logger: Logger;
  onMessage(message: SipMessage, remote: Endpoint): void;
  /**
   * Each message refused as malformed (not SIP, or a mandatory header missing or unusable), with why, and
   * whether it was answered (a request the peer can match a response to gets a 400 naming why).
   */
  onMalformed?(remote: Endpoint, reason: string, answered: boolean): void;
  /** A stream connection idle this long (no bytes either way) is closed. Default 10 minutes. */
  idleTimeoutMs?: number;
  /** Limits on the TCP and TLS connections others open to us (ours to trunks are not counted). */
  inboundConnections?: InboundConnectionLimits;
  /** Each inbound connection refused at a limit (closed before any byte is read, before TLS). */
  onConnectionRefused?(remote: Endpoint, limit: 'total' | 'per-address'): void;
}

/**
 * How many TCP/TLS connections others may hold open to us at once: a peer (or many) opening connections
 * without end would otherwise take every file descriptor of the process, and its calls with it.
 */
export interface InboundConnectionLimits {
  /** Over both stream transports. Default 1024. */
  total?: number;
  /** From one IP address. Default 64 (a PBX keeps one or a few). */
  perAddress?: number;
}

export const DEFAULT_INBOUND_CONNECTIONS: Required<InboundConnectionLimits> = { total: 1024, perAddress: 64 };

const WIRE_NAME: Record<TransportProtocol, string> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };

type ErrorListener = (err: Error) => void;

interface Flow {
  socket: Socket;
  errorListeners: Set<ErrorListener>;
}

/**
 * Why a parsed message cannot be handled (RFC 3261 §8.1.1: a request carries To, From, CSeq, Call-ID,
 * Max-Forwards and Via, its top Via a branch; §20.16 CSeq is a number and the request's method), or
 * undefined when it can. A branch without RFC 3261's magic cookie (an RFC 2543 peer) is still taken.
 */
export function malformedReason(m: SipMessage): string | undefined {
  const h = m.headers;
  if (m.method === undefined && !(typeof m.status === 'number' && m.status >= 100 && m.status <= 699)) return 'neither a request line nor a status 100-699';
  if (!Array.isArray(h.via) || h.via.length === 0 || typeof h.via[0]?.host !== 'string') return 'no usable Via';
  // transactions are matched by the top Via's branch (RFC 3261 §17.2.3): without one, every such request of
  // a dialog and method would be taken for a retransmission of the first and get its response again
  const branch: unknown = h.via[0].params?.['branch'];
  if (typeof branch !== 'string' || branch === '') return 'top Via without a branch (RFC 3261 §8.1.1.7)';
  if (typeof h['call-id'] !== 'string' || h['call-id'] === '') return 'no Call-ID';
  if (!h.to || typeof h.to.uri !== 'string') return 'no usable To';
  if (!h.from || typeof h.from.uri !== 'string') return 'no usable From';
  if (!h.cseq || !Number.isSafeInteger(h.cseq.seq) || typeof h.cseq.method !== 'string' || h.cseq.method === '') return 'no usable CSeq';
  if (m.method !== undefined && h.cseq.method !== m.method) return `CSeq method ${h.cseq.method} is not the request's ${m.method}`;
  return undefined;
}

/**
 * Whether a request refused by `malformedReason` can still be answered: the peer matches a response by its
 * top Via and CSeq (RFC 3261 §17.1.3) and reads Call-ID, From and To (§8.1.3.3), so all must be usable to
 * copy; an ACK is never answered (§17.1.1.3).
 */
export function canAnswerMalformed(m: SipMessage): boolean {
  const h = m.headers;
  return (
    typeof m.method === 'string' &&
    m.method !== 'ACK' &&
    Array.isArray(h.via) &&
    typeof h.via[0]?.host === 'string' &&
    typeof h['call-id'] === 'string' &&
    h['call-id'] !== '' &&
    typeof h.to?.uri === 'string' &&
    typeof h.from?.uri === 'string' &&
    Number.isSafeInteger(h.cseq?.seq) &&
    typeof h.cseq?.method === 'string' &&
    h.cseq.method !== ''
  );
}

/** The 400 for a malformed request (RFC 3261 §8.2): why in the reason phrase and a Warning (399, §20.43). */
export function badRequestFor(m: SipMessage, reason: string): SipMessage {
  const why = toWire(reason.replace(/["\\\r\n]/g, ' ').slice(0, 120));
  const to = m.headers.to;
  const tagged = to.params?.['tag'] ? to : { ...to, params: { ...to.params, tag: randomToken() } };
  return makeResponse(m, 400, `Bad Request (${why})`, { headers: { to: tagged, warning: `399 wagw "${why}"` } });
}

/**
 * Per source address, what is done with malformed messages: at most one warning per `windowMs` (a flood of
 * garbage must not flood the log; the next warning says how many were refused meanwhile) and at most
 * `answersPerSecond` 400s (a flood must not turn us into a reflector toward a forged source). Bounded:
 * forgets every source when it tracks too many.
 */
class MalformedLog {
  readonly #last = new Map<string, { at: number; suppressed: number }>();
  readonly #answers = new Map<string, { second: number; count: number }>();
  constructor(
    private readonly log: Logger,
    private readonly windowMs = 10_000,
    private readonly answersPerSecond = 20,
  ) {}

  /** Whether one more 400 may go to this source now. */
  mayAnswer(remote: Endpoint): boolean {
    const key = `${remote.protocol}:${remote.address}`;
    const second = Math.floor(Date.now() / 1000);
    const seen = this.#answers.get(key);
    if (seen && seen.second === second) return seen.count++ < this.answersPerSecond;
    if (this.#answers.size >= 1000) this.#answers.clear();
    this.#answers.set(key, { second, count: 1 });
    return true;
  }

  refused(remote: Endpoint, reason: string, answered: boolean): void {
    const key = `${remote.protocol}:${remote.address}`;
    const now = Date.now();
    const seen = this.#last.get(key);
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return;
    }
    if (this.#last.size >= 1000) this.#last.clear();
    this.#last.set(key, { at: now, suppressed: 0 });
    const from = `${remote.protocol}:${remote.address}:${remote.port}`;
    const since = seen?.suppressed ? { refusedSinceLastWarning: seen.suppressed } : {};
    this.log.warn({ from, reason, ...since }, answered ? 'malformed sip request answered 400' : 'malformed sip message dropped');
  }
}

export function summarise(m: SipMessage): string {
  const first = m.method ? `${m.method} ${typeof m.uri === 'string' ? m.uri : ''}` : `${m.status} ${m.reason ?? ''}`;
  return `${first} (${m.headers.cseq?.seq} ${m.headers.cseq?.method}, ${m.headers['call-id']})`;
}

export class SipTransport {
  readonly #options: TransportOptions;
  readonly #log: Logger;
  #udp: UdpSocket | undefined;
  readonly #servers = new Map<TransportProtocol, Server>();
  readonly #ports = new Map<TransportProtocol, number>();
  readonly #flows = new Map<string, Flow>();
  /** Requests sent with the Via they carry (a CANCEL for another process's INVITE: its sent-by, not ours). */
  readonly #viaKept = new WeakSet<SipMessage>();
  #closed = false;
  readonly #malformed: MalformedLog;
  /** Open inbound stream connections, by remote address. */
  readonly #inbound = new Map<string, number>();
  #inboundTotal = 0;
  readonly #limits: Required<InboundConnectionLimits>;
  /** Refusals per remote address since its last warning (one warning per address per 10 s). */
  readonly #refusalLog = new Map<string, { at: number; suppressed: number }>();

  private constructor(options: TransportOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#malformed = new MalformedLog(options.logger);
    this.#limits = { ...DEFAULT_INBOUND_CONNECTIONS, ...options.inboundConnections };
  }

  /** Inbound TCP/TLS connections open now. */
  get inboundConnections(): number {
    return this.#inboundTotal;
  }

  /** Binds every configured transport; rejects (after releasing what was bound) if one fails. */
  static async listen(options: TransportOptions): Promise<SipTransport> {
    const t = new SipTransport(options);
    try {
      if (options.udpPort !== undefined) await t.#listenUdp(options.udpPort);
      if (options.tcpPort !== undefined) await t.#listenStream('tcp', options.tcpPort);
      if (options.tls) await t.#listenStream('tls', options.tls.port);
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  /** Bound port per enabled transport. */
  port(protocol: TransportProtocol): number | undefined {
    return this.#ports.get(protocol);
  }

  get protocols(): TransportProtocol[] {
    return [...this.#ports.keys()];
  }

  /**
   * A flow to `target` for the transaction layer. Stream transports reuse an open connection to the same
   * address and port (RFC 3261 §18.1.1), else connect. `onError` hears connect/write failures and the peer
   * closing the connection while the flow is held.
   */
  open(target: Endpoint, onError?: ErrorListener): Connection {
    const protocol = WIRE_NAME[target.protocol];
    if (this.#closed || !this.#ports.has(target.protocol)) {
      const err = new Error(`transport ${target.protocol} is not available`);
      if (onError) setImmediate(() => onError(err));
      return { protocol, send: () => undefined, release: () => undefined };
    }
    if (target.protocol === 'udp') {
      return { protocol, send: (m) => this.#sendUdp(m, target), release: () => undefined };
    }
    const flow = this.#flowTo(target);
    if (onError) flow.errorListeners.add(onError);
    return {
      protocol,
      send: (m) => this.#writeFlow(flow, m, target),
      release: () => {
        if (onError) flow.errorListeners.delete(onError);
      },
    };
  }

  /**
   * Where responses to a request go (RFC 3261 §18.2.2): back on the connection it came in on, or over UDP
   * to its source address and port; if that connection has closed, to the Via sent-by.
   */
  responder(remote: Endpoint, request: SipMessage): Connection {
    const protocol = WIRE_NAME[remote.protocol];
    const send = (m: SipMessage): void => {
      if (remote.protocol === 'udp') return this.#sendUdp(m, remote);
      const flow = this.#flows.get(flowKey(remote));
      if (flow && !flow.socket.destroyed) return this.#writeFlow(flow, m, remote);
      const via = request.headers.via[0];
      const sentBy: Endpoint = { protocol: remote.protocol, address: remote.address, port: via?.port ?? (remote.protocol === 'tls' ? 5061 : 5060) };
      this.#writeFlow(this.#flowTo(sentBy), m, sentBy);
    };
    return { protocol, send, release: () => undefined };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const flow of this.#flows.values()) flow.socket.destroy();
    this.#flows.clear();
    const closing = [...this.#servers.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    if (this.#udp) {
      const udp = this.#udp;
      closing.push(new Promise<void>((resolve) => udp.close(() => resolve())));
    }
    this.#servers.clear();
    await Promise.all(closing);
  }

  /** Sends `m` with its top Via as it is: the transport does not stamp its own sent-by on it. */
  keepVia(m: SipMessage): void {
    this.#viaKept.add(m);
  }

  #stampVia(m: SipMessage, protocol: TransportProtocol): void {
    if (!m.method || this.#viaKept.has(m)) return;
    const via = m.headers.via[0];
    if (!via) return;
    via.host = this.#options.advertisedHost;
    via.port = this.#ports.get(protocol);
    via.protocol = WIRE_NAME[protocol];
    if (protocol === 'udp' && !('rport' in via.params)) via.params['rport'] = null;
  }

  #serialise(m: SipMessage, protocol: TransportProtocol, target: Endpoint): string {
    this.#stampVia(m, protocol);
    const text = stringify(m);
    this.#log.debug({ to: `${target.protocol}:${target.address}:${target.port}`, sipMessage: summarise(m) }, 'sip send');
    return text;
  }

  #sendUdp(m: SipMessage, target: Endpoint): void {
    const udp = this.#udp;
    if (!udp || this.#closed) return;
    const data = Buffer.from(this.#serialise(m, 'udp', target), 'latin1');
    udp.send(data, target.port, target.address, (err) => {
      if (err) this.#log.warn({ err, to: `${target.address}:${target.port}` }, 'sip udp send failed');
    });
  }

  #writeFlow(flow: Flow, m: SipMessage, target: Endpoint): void {
    const text = this.#serialise(m, target.protocol, target);
    if (flow.socket.destroyed) {
      const err = new Error('connection closed');
      setImmediate(() => this.#failFlow(flow, err));
      return;
    }
    flow.socket.write(text, 'latin1');
  }

  #failFlow(flow: Flow, err: Error): void {
    const listeners = [...flow.errorListeners];
    flow.errorListeners.clear();
    for (const l of listeners) l(err);
  }

  #received(m: SipMessage | undefined, remote: Endpoint): void {
    const reason = m ? malformedReason(m) : 'not a SIP message';
    if (!m || reason !== undefined) {
      const why = reason ?? 'not a SIP message';
      const answered = m !== undefined && canAnswerMalformed(m) && this.#malformed.mayAnswer(remote);
      if (answered) this.responder(remote, m).send(badRequestFor(m, why));
      this.#malformed.refused(remote, why, answered);
      try {
        this.#options.onMalformed?.(remote, why, answered);
      } catch (err) {
        this.#log.error({ err }, 'malformed-message listener threw');
      }
      return;
    }
    if (m.method) {
      const via = m.headers.via[0];
      if (via) {
        via.params['received'] = remote.address;
        if (remote.protocol === 'udp' && 'rport' in via.params) via.params['rport'] = String(remote.port);
      }
    }
    this.#log.debug({ from: `${remote.protocol}:${remote.address}:${remote.port}`, sipMessage: summarise(m) }, 'sip recv');
    try {
      this.#options.onMessage(m, remote);
    } catch (err) {
      this.#log.error({ err, sipMessage: summarise(m) }, 'sip message handler threw');
    }
  }

  async #listenUdp(port: number): Promise<void> {
    const udp = createSocket(isIPv6(this.#options.host) ? 'udp6' : 'udp4');
    this.#udp = udp;
    udp.on('message', (data, rinfo) => this.#received(parse(data), { protocol: 'udp', address: rinfo.address, port: rinfo.port }));
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.#options.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    udp.on('error', (err) => this.#log.warn({ err }, 'sip udp socket error'));
    this.#ports.set('udp', udp.address().port);
  }

  async #listenStream(protocol: 'tcp' | 'tls', port: number): Promise<void> {
    const onSocket = (socket: Socket): void => {
      const remote: Endpoint = { protocol, address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
      this.#register(socket, remote);
    };
    const tls = this.#options.tls;
    const server = protocol === 'tls' && tls ? createTlsServer({ key: tls.key, cert: tls.cert }) : createTcpServer();
    // counted at the TCP accept, before a TLS handshake is spent on a connection over a limit
    server.on('connection', (socket: Socket) => {
      if (!this.#admit(socket, protocol)) return;
      if (protocol === 'tcp') onSocket(socket);
    });
    if (protocol === 'tls') server.on('secureConnection', onSocket);
    if (protocol === 'tls') server.on('tlsClientError', (err: Error) => this.#log.warn({ err }, 'sip tls handshake failed'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.#options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.#log.warn({ err, protocol }, 'sip listening socket error'));
    this.#servers.set(protocol, server);
    const addr = server.address();
    this.#ports.set(protocol, typeof addr === 'object' && addr ? addr.port : port);
  }

  /** Counts an accepted connection until it closes, or closes it at once when it is over a limit. */
  #admit(socket: Socket, protocol: 'tcp' | 'tls'): boolean {
    const address = socket.remoteAddress ?? '';
    const fromAddress = this.#inbound.get(address) ?? 0;
    const limit = this.#inboundTotal >= this.#limits.total ? 'total' : fromAddress >= this.#limits.perAddress ? 'per-address' : undefined;
    if (limit) {
      socket.destroy();
      this.#refused({ protocol, address, port: socket.remotePort ?? 0 }, limit);
      return false;
    }
    this.#inbound.set(address, fromAddress + 1);
    this.#inboundTotal++;
    socket.once('close', () => {
      this.#inboundTotal--;
      const left = (this.#inbound.get(address) ?? 1) - 1;
      if (left > 0) this.#inbound.set(address, left);
      else this.#inbound.delete(address);
    });
    return true;
  }

  #refused(remote: Endpoint, limit: 'total' | 'per-address'): void {
    const now = Date.now();
    const seen = this.#refusalLog.get(remote.address);
    if (seen && now - seen.at < 10_000) seen.suppressed++;
    else {
      if (this.#refusalLog.size >= 1000) this.#refusalLog.clear();
      this.#refusalLog.set(remote.address, { at: now, suppressed: 0 });
      const max = limit === 'total' ? this.#limits.total : this.#limits.perAddress;
      this.#log.warn(
        { from: `${remote.protocol}:${remote.address}:${remote.port}`, limit, max, open: this.#inboundTotal, ...(seen?.suppressed ? { refusedSinceLastWarning: seen.suppressed } : {}) },
        limit === 'total' ? 'sip connection refused: the inbound connection limit is reached' : 'sip connection refused: this address holds its limit of connections',
      );
    }
    try {
      this.#options.onConnectionRefused?.(remote, limit);
    } catch (err) {
      this.#log.error({ err }, 'connection-refused listener threw');
    }
  }

  #flowTo(target: Endpoint): Flow {
    const existing = this.#flows.get(flowKey(target));
    if (existing && !existing.socket.destroyed) return existing;
    const trust = { ...this.#options.tls, ...this.#options.tlsClient };
    let socket: Socket;
    if (target.protocol === 'tls') {
      const opts: ConnectionOptions = { host: target.address, port: target.port, rejectUnauthorized: trust.rejectUnauthorized ?? true };
      if (trust.ca) opts.ca = trust.ca;
      const servername = target.tlsIdentity ?? target.hostname;
      if (servername) opts.servername = servername;
      if (target.tlsIdentity) opts.checkServerIdentity = serverIdentityCheck(target.tlsIdentity, target.hostname ?? target.address);
      socket = tlsConnect(opts);
    } else {
      socket = tcpConnect(target.port, target.address);
    }
    return this.#register(socket, target);
  }

  #register(socket: Socket, remote: Endpoint): Flow {
    const key = flowKey(remote);
    const flow: Flow = { socket, errorListeners: new Set() };
    this.#flows.set(key, flow);
    socket.setEncoding('latin1');
    socket.setTimeout(this.#options.idleTimeoutMs ?? 600_000);
    socket.on('data', makeStreamParser((m) => this.#received(m, remote), () => {
      this.#log.warn({ remote: key }, 'sip stream flooded (oversized message): closing it');
      socket.destroy();
    }));
    socket.on('timeout', () => socket.destroy());
    socket.on('error', (err) => {
      this.#log.warn({ err, remote: key }, 'sip connection error');
      this.#failFlow(flow, err);
    });
    socket.on('close', () => {
      if (this.#flows.get(key) === flow) this.#flows.delete(key);
      this.#failFlow(flow, new Error('connection closed by peer'));
    });
    return flow;
  }
}

function flowKey(e: Endpoint): string {
  return `${e.protocol}|${e.address}|${e.port}`;
}

/** A certificate naming the SIP domain (RFC 5922 §4) or else the host connected to passes; the domain's failure is reported. */
function serverIdentityCheck(domain: string, host: string): NonNullable<ConnectionOptions['checkServerIdentity']> {
  return (_servername, cert) => {
    const byDomain = checkServerIdentity(domain, cert);
    if (!byDomain || !checkServerIdentity(host, cert)) return undefined;
    return byDomain;
  };
}
