import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { RegistrationStatus } from '@wagw/sip';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { SipStackService } from '../sip/sip-stack.service';
import { TrunkDirectory, type TrunkConfig } from '../sip/trunk-directory';
import type { HostRanking } from './failover-inviter';
import { TrunkHealthMonitor, type TrunkHealth } from './trunk-health-monitor';
import { publishRegistrations } from './trunk-registration.metrics';
import { TrunkRegistrations, type TrunkBinding } from './trunk-registrations';
import { TrunkHostMetrics } from './trunk-host.metrics';
import { TrunkOutboundRegistrations } from './trunk-outbound-registrations';
import { TrunkHostResolver } from './trunk-host-resolver';

/** How long bootstrap waits for the SIP stack (started by SipStackService's hook, in parallel) to listen. */
const SIP_START_WAIT_MS = 10_000;
/** How long bootstrap waits for the trunks' first DNS resolution before probing and registering (it goes on after). */
const DNS_START_WAIT_MS = 5_000;

/**
 * A trunk's health; for a registrar trunk where its PBX is registered (null: not registered); for a trunk
 * the gateway registers to, the state of that registration.
 */
export interface TrunkState extends Omit<TrunkHealth, 'hosts'> {
  /** Each host's health; an SRV target with the configured domain it stands for. */
  hosts: (TrunkHealth['hosts'][number] & { srvDomain?: string })[];
  registration?: TrunkBinding | null;
  outboundRegistration?: RegistrationStatus;
}

/**
 * Nest wrapper of TrunkHealthMonitor: OPTIONS through the app's SIP stack, started once the stack
 * listens, stopped (timers cleared) at shutdown; publishes `wagw_trunk_host_up` on every change. Also
 * the registrar of trunks whose PBX registers to the gateway (TrunkRegistrations): REGISTERs from the SIP
 * stack, and where calls toward such a trunk go (`ranking`).
 */
@Injectable()
export class TrunkHealthService implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly monitor: TrunkHealthMonitor;
  readonly registrations: TrunkRegistrations;
  /** The gateway's own registrations (trunks with register: true), once the SIP stack listens. */
  #outbound: TrunkOutboundRegistrations | undefined;
  readonly #metrics = new TrunkHostMetrics();
  /** Trunk hosts through DNS (SRV targets, addresses of names): what the monitor probes and calls go to. */
  readonly #hosts: TrunkHostResolver;
  readonly #log: Logger;
  readonly #unpublish: () => void;
  #shutdown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) logger: Logger,
    private readonly sip: SipStackService,
    private readonly trunks: TrunkDirectory,
  ) {
    this.#log = logger.child({ component: 'trunk-health' });
    this.monitor = new TrunkHealthMonitor({
      probe: (target, transport) => this.sip.stack.sendOptions(target, transport, transport === 'tls' ? this.#tlsIdentityOf(target) : {}),
      logger: this.#log,
    });
    this.monitor.on('hostStateChanged', () => this.#metrics.publish(this.monitor.snapshot()));
    this.#hosts = new TrunkHostResolver({
      dns: sip.dns,
      logger: logger.child({ component: 'trunk-dns' }),
      refreshMs: config.pbx.dnsRefreshS * 1000,
      onChange: () => this.#applyResolvedHosts(),
    });
    this.monitor.setTrunks(this.#resolvedTrunks(trunks.trunks()));
    this.#warnKeysInClear(trunks.trunks());
    this.registrations = new TrunkRegistrations({ logger: logger.child({ component: 'trunk-registrar' }) });
    this.registrations.setTrunks(trunks.trunks());
    const realm = (): string => (this.sip.running ? this.sip.stack.advertisedHost : 'wagw');
    this.sip.setRegisterHandler({
      authorize: (r) => this.sip.blockedDecision(r.source.address, 'REGISTER') ?? this.registrations.authorize(r, realm()),
      register: (r) => this.registrations.register(r),
    });
    this.#unpublish = publishRegistrations(() => [
      ...this.#trunkNames((t) => t.registrar).map((trunk) => ({ trunk, registered: this.registrations.binding(trunk) !== undefined })),
      ...(this.#outbound?.states() ?? []),
    ]);
  }

  /**
   * Where INVITEs toward a trunk go: its hosts by health, or, for a registrar trunk, where its PBX registered
   * from (with the Contact it registered as Request-URI).
   */
  get ranking(): HostRanking {
    return {
      hostsInOrder: (trunk) => {
        if (!trunk.registrar) return this.monitor.hostsInOrder(trunk);
        const b = this.registrations.binding(trunk.name);
        return b ? [`${b.source.address}:${b.source.port}`] : [];
      },
      reportFailure: (trunk, host, reason) => this.monitor.reportFailure(trunk, host, reason),
      registeredContact: (trunk) => this.registrations.binding(trunk.name)?.contact,
      srvDomain: (trunk, host) => this.#hosts.resolved(trunk).srvDomain.get(host),
    };
  }

  /** The addresses of a trunk's hosts (names resolved): where its INVITEs may come from without allowFrom. */
  hostAddresses(trunk: TrunkConfig): readonly string[] {
    return this.#hosts.resolved(trunk).addresses;
  }

  /** The user the gateway registers as on `trunk` (register: true), if it does. */
  registeredUser(trunk: TrunkConfig): string | undefined {
    return this.#outbound?.registeredUser(trunk);
  }

  /** The source address of the PBX registered on `trunk`, if any (its INVITEs are taken from there). */
  registeredSource(trunk: TrunkConfig): string | undefined {
    return trunk.registrar ? this.registrations.binding(trunk.name)?.source.address : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const pbx = this.config.pbx;
    if (pbx.udpPort === 0 && pbx.tcpPort === 0 && pbx.tlsPort === 0) return; // SIP off: nothing to probe with
    const until = Date.now() + SIP_START_WAIT_MS;
    while (!this.sip.running && !this.#shutdown && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (this.#shutdown) return;
    if (!this.sip.running) return void this.#log.warn('SIP stack not listening: trunk keep-alives and registrations not started');
    const resolved = this.#resolveHosts(this.trunks.trunks());
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([resolved, new Promise<void>((r) => (waited = setTimeout(r, DNS_START_WAIT_MS)))]);
    clearTimeout(waited);
    if (this.#shutdown) return;
    this.monitor.start();
    const stack = this.sip.stack;
    this.#outbound = new TrunkOutboundRegistrations({
      registration: (o) => stack.registration(o),
      hostsInOrder: (t) => this.monitor.hostsInOrder(t),
      logger: this.#log.child({ component: 'trunk-register' }),
    });
    this.#outbound.setTrunks(this.trunks.trunks());
  }

  /** The PBX stops sending calls as the shutdown starts: our registrations are removed (Expires: 0). */
  async beforeApplicationShutdown(): Promise<void> {
    this.#shutdown = true;
    await this.#outbound?.stop();
  }

  onApplicationShutdown(): void {
    this.#shutdown = true;
    this.#hosts.stop();
    this.monitor.stop();
    this.registrations.close();
    this.#unpublish();
    this.#metrics.clear();
  }

  /** New trunks after a config reload: kept hosts keep their state. */
  setTrunks(trunks: readonly TrunkConfig[]): void {
    this.monitor.setTrunks(this.#resolvedTrunks(trunks));
    this.#metrics.publish(this.monitor.snapshot());
    if (this.sip.running) void this.#resolveHosts(trunks);
    this.#warnKeysInClear(trunks);
    this.registrations.setTrunks(trunks);
    this.#outbound?.setTrunks(trunks);
  }

  /** Trunks with their hosts as DNS gave them (SRV targets in order; configured hosts until resolved). */
  /** For an OPTIONS probe to `sip:<host>` over TLS: the domain the host is an SRV target of, if any (its certificate may name it). */
  #tlsIdentityOf(target: string): { tlsIdentity?: string } {
    const host = target.replace(/^sips?:/, '');
    for (const trunk of this.trunks.trunks()) {
      const domain = this.#hosts.resolved(trunk).srvDomain.get(host);
      if (domain) return { tlsIdentity: domain };
    }
    return {};
  }

  #resolvedTrunks(trunks: readonly TrunkConfig[]): TrunkConfig[] {
    return trunks.map((t) => (t.registrar ? t : { ...t, hosts: this.#hosts.resolved(t).hosts }));
  }

  #resolveHosts(trunks: readonly TrunkConfig[]): Promise<void> {
    return this.#hosts.setTrunks(trunks).catch((err: unknown) => this.#log.error({ err }, 'resolving trunk hosts failed'));
  }

  /** DNS gave other targets or addresses: the monitor probes the new ones (hosts kept keep their state). */
  #applyResolvedHosts(): void {
    if (this.#shutdown) return;
    this.monitor.setTrunks(this.#resolvedTrunks(this.trunks.trunks()));
    this.#metrics.publish(this.monitor.snapshot());
  }

  #trunkNames(pred: (t: TrunkConfig) => boolean): string[] {
    return this.trunks
      .trunks()
      .filter(pred)
      .map((t) => t.name);
  }

  /** SDES keys travel in the SDP: on a trunk without TLS anyone on the path reads them. */
  #warnKeysInClear(trunks: readonly TrunkConfig[]): void {
    for (const t of trunks) {
      if (t.srtp !== 'off' && t.transport !== 'tls') {
        this.#log.warn({ trunk: t.name, transport: t.transport, srtp: t.srtp }, 'trunk uses SRTP with SDES keys over a transport without TLS: the keys are readable on the path (set transport: tls)');
      }
    }
  }

  snapshot(): TrunkState[] {
    const registrar = new Set(this.#trunkNames((t) => t.registrar));
    const configured = new Map(this.trunks.trunks().map((t) => [t.name, t]));
    return this.monitor.snapshot().map((h) => {
      const outbound = this.#outbound?.status(h.name);
      const trunk = configured.get(h.name);
      const srvDomain = trunk ? this.#hosts.resolved(trunk).srvDomain : undefined;
      const hosts = h.hosts.map((host) => {
        const domain = srvDomain?.get(host.host);
        return domain ? { ...host, srvDomain: domain } : host;
      });
      const state: TrunkState = registrar.has(h.name) ? { ...h, hosts, registration: this.registrations.binding(h.name) ?? null } : { ...h, hosts };
      return outbound ? { ...state, outboundRegistration: outbound } : state;
    });
  }
}
