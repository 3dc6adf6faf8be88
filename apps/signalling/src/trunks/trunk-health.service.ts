import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { SipStackService } from '../sip/sip-stack.service';
import { TrunkDirectory, type TrunkConfig } from '../sip/trunk-directory';
import { TrunkHealthMonitor, type TrunkHealth } from './trunk-health-monitor';
import { TrunkHostMetrics } from './trunk-host.metrics';

/** How long bootstrap waits for the SIP stack (started by SipStackService's hook, in parallel) to listen. */
const SIP_START_WAIT_MS = 10_000;

/**
 * Nest wrapper of TrunkHealthMonitor: OPTIONS through the app's SIP stack, started once the stack
 * listens, stopped (timers cleared) at shutdown; publishes `wagw_trunk_host_up` on every change.
 */
@Injectable()
export class TrunkHealthService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly monitor: TrunkHealthMonitor;
  readonly #metrics = new TrunkHostMetrics();
  readonly #log: Logger;
  #shutdown = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) logger: Logger,
    private readonly sip: SipStackService,
    trunks: TrunkDirectory,
  ) {
    this.#log = logger.child({ component: 'trunk-health' });
    this.monitor = new TrunkHealthMonitor({
      probe: (target, transport) => this.sip.stack.sendOptions(target, transport),
      logger: this.#log,
    });
    this.monitor.on('hostStateChanged', () => this.#metrics.publish(this.monitor.snapshot()));
    this.monitor.setTrunks(trunks.trunks());
    this.#warnKeysInClear(trunks.trunks());
  }

  async onApplicationBootstrap(): Promise<void> {
    const pbx = this.config.pbx;
    if (pbx.udpPort === 0 && pbx.tcpPort === 0 && pbx.tlsPort === 0) return; // SIP off: nothing to probe with
    const until = Date.now() + SIP_START_WAIT_MS;
    while (!this.sip.running && !this.#shutdown && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    if (this.#shutdown) return;
    if (!this.sip.running) return void this.#log.warn('SIP stack not listening: trunk keep-alives not started');
    this.monitor.start();
  }

  onApplicationShutdown(): void {
    this.#shutdown = true;
    this.monitor.stop();
    this.#metrics.clear();
  }

  /** New trunks after a config reload: kept hosts keep their state. */
  setTrunks(trunks: readonly TrunkConfig[]): void {
    this.monitor.setTrunks(trunks);
    this.#metrics.publish(this.monitor.snapshot());
    this.#warnKeysInClear(trunks);
  }

  /** SDES keys travel in the SDP: on a trunk without TLS anyone on the path reads them. */
  #warnKeysInClear(trunks: readonly TrunkConfig[]): void {
    for (const t of trunks) {
      if (t.srtp !== 'off' && t.transport !== 'tls') {
        this.#log.warn({ trunk: t.name, transport: t.transport, srtp: t.srtp }, 'trunk uses SRTP with SDES keys over a transport without TLS: the keys are readable on the path (set transport: tls)');
      }
    }
  }

  snapshot(): TrunkHealth[] {
    return this.monitor.snapshot();
  }
}
