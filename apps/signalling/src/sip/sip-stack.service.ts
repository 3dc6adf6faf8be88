import { Inject, Injectable, Optional, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SipDns, SipStack, type InviteAuthDecision, type InviteAuthorizer, type InviteHandler, type RegisterHandler, type SipListenOptions } from '@wagw/sip';
import { SignallingMetrics } from '../metrics/signalling-metrics';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { SourceGuard } from './source-guard';

/** A PEM file named by a config key; a missing or unreadable one stops the start with the key and the path. */
function readPem(key: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${key}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
}

/**
 * Owns the SIP stack toward the PBX (libs/sip): listens on the configured UDP/TCP/TLS ports at start,
 * closes every socket at shutdown. `stack` throws when SIP is not running (no port configured).
 */
@Injectable()
export class SipStackService implements OnApplicationBootstrap, OnApplicationShutdown {
  #stack: SipStack | undefined;
  #inbound: { authorize: InviteAuthorizer; handle: InviteHandler } | undefined;
  #registrar: RegisterHandler | undefined;
  readonly #guard: SourceGuard;
  /** Name and SRV resolution toward trunks (pbx.dnsServers, else the system's), shared with the trunk host resolver. */
  readonly dns: SipDns;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Optional() private readonly metrics?: SignallingMetrics,
  ) {
    const pbx = config.pbx;
    this.dns = new SipDns({ servers: pbx.dnsServers });
    this.#guard = new SourceGuard({ maxFailures: pbx.authFailureLimit, windowMs: pbx.authFailureWindowS * 1000, blockMs: pbx.authBlockS * 1000, logger: logger.child({ component: 'sip-guard' }) });
  }

  /**
   * The refusal for a source blocked after repeated failed authentications (pbx.authFailureLimit), or
   * undefined: authorisers of INVITE and REGISTER ask first.
   */
  blockedDecision(address: string, method: string): InviteAuthDecision | undefined {
    if (!this.#guard.blocked(address)) return undefined;
    this.metrics?.sipBlocked(method);
    return { action: 'reject', status: 403, reason: 'Forbidden', headers: { Warning: `399 ${this.running ? this.stack.advertisedHost : 'wagw'} "too many failed authentications from ${address}"` } };
  }

  /** INVITEs from the PBX: the authoriser (allow-list, digest) and the handler; applied when the stack starts. */
  setInboundHandlers(authorize: InviteAuthorizer, handle: InviteHandler): void {
    this.#inbound = { authorize, handle };
    this.#applyInbound();
  }

  /** REGISTERs from PBXs (trunks with `registrar: true`); applied when the stack starts. */
  setRegisterHandler(handler: RegisterHandler): void {
    this.#registrar = handler;
    this.#applyInbound();
  }

  #applyInbound(): void {
    if (this.#stack && this.#registrar) this.#stack.onRegister(this.#registrar);
    if (!this.#stack || !this.#inbound) return;
    this.#stack.onInviteAuth(this.#inbound.authorize);
    this.#stack.onInvite(this.#inbound.handle);
  }

  get running(): boolean {
    return this.#stack !== undefined;
  }

  get stack(): SipStack {
    if (!this.#stack) throw new Error('the SIP stack is not running (pbx.udpPort, pbx.tcpPort and pbx.tlsPort are all 0)');
    return this.#stack;
  }

  async onApplicationBootstrap(): Promise<void> {
    const pbx = this.config.pbx;
    if (pbx.udpPort === 0 && pbx.tcpPort === 0 && pbx.tlsPort === 0) {
      this.logger.warn('SIP is off: no pbx port configured');
      return;
    }
    const listen: SipListenOptions = { host: pbx.listenHost, inboundConnections: { total: pbx.maxInboundConnections, perAddress: pbx.maxInboundConnectionsPerAddress } };
    if (pbx.udpPort > 0) listen.udpPort = pbx.udpPort;
    if (pbx.tcpPort > 0) listen.tcpPort = pbx.tcpPort;
    if (pbx.tlsPort > 0) listen.tls = { port: pbx.tlsPort, cert: readPem('pbx.tlsCertFile', pbx.tlsCertFile), key: readPem('pbx.tlsKeyFile', pbx.tlsKeyFile) };
    this.#stack = await SipStack.start({
      listen,
      ...(pbx.publicHost ? { publicHost: pbx.publicHost } : {}),
      userAgent: 'wa-sip-gateway',
      transactionTimeoutMs: pbx.transactionTimeoutMs,
      sessionTimer: pbx.sessionExpiresS > 0 ? { expiresS: pbx.sessionExpiresS, minSeS: pbx.sessionMinSeS } : false,
      ...(pbx.tlsCaFile ? { tlsClient: { ca: readPem('pbx.tlsCaFile', pbx.tlsCaFile) } } : {}),
      dns: this.dns,
      onMalformed: (transport, _reason, answered) => this.metrics?.sipMalformed(transport, answered),
      onConnectionRefused: (transport, limit) => this.metrics?.sipConnectionRefused(transport, limit),
      logger: this.logger, // the SIP stack names itself (component: sip)
    });
    this.#applyInbound();
    const stack = this.#stack;
    if (this.metrics) this.metrics.sipConnections = () => stack.inboundConnectionsByTransport();
    this.#stack.onAuthFailure((f) => {
      this.metrics?.sipAuthFailed(f.method, f.reason);
      this.#guard.failed(f.source.address);
    });
    this.logger.info({ ports: this.#stack.ports, host: this.#stack.advertisedHost }, 'SIP stack listening');
  }

  async onApplicationShutdown(): Promise<void> {
    const s = this.#stack;
    this.#stack = undefined;
    await s?.close();
  }
}
