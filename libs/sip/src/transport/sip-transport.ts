import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { isIPv6, createServer as createTcpServer, connect as tcpConnect, type Server, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions } from 'node:tls';
import type { Logger } from '@wagw/logging';
import type { Connection, SipMessage } from 'sip';
import { makeStreamParser, parse, stringify } from 'sip';
import { InboundConnections, type ConnectionLimit, type InboundConnectionLimits } from './inbound-connections';
import { badRequestFor, canAnswerMalformed, malformedReason, MalformedLog } from './malformed';

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
  onConnectionRefused?(remote: Endpoint, limit: ConnectionLimit): void;
}

const WIRE_NAME: Record<TransportProtocol, string> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS' };

type ErrorListener = (err: Error) => void;

interface Flow {
  socket: Socket;
  errorListeners: Set<ErrorListener>;
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
  readonly #inbound: InboundConnections;

  private constructor(options: TransportOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#malformed = new MalformedLog(options.logger);
    this.#inbound = new InboundConnections(options.inboundConnections ?? {}, options.logger, options.onConnectionRefused);
  }

  /** Inbound TCP/TLS connections open now. */
  get inboundConnections(): number {
    return this.#inbound.total;
  }

  /** Inbound connections open now, by stream transport. */
  inboundConnectionsByTransport(): { tcp: number; tls: number } {
    return this.#inbound.byTransport();
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
      if (!this.#inbound.admit(socket, protocol)) return;
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
