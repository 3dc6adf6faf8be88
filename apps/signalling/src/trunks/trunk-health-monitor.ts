import type { Logger } from '@wagw/logging';
import { TypedEmitter, type OptionsResult } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';

/**
 * Health of every trunk host from OPTIONS keep-alives (RFC 3261 §11), and the order in which a call tries
 * a trunk's hosts. Plain class: the prober, clock and timers are injected; Nest wraps it in
 * TrunkHealthService.
 *
 *   unknown --(answer)--> up --(downAfterFailures failures)--> down --(upAfterSuccesses answers)--> up
 *   unknown --(downAfterFailures failures)--> down
 *
 * An answer is any final response except 408 and 503 (which our stack also synthesises for "no response"
 * and transport errors): a 404 or 405 still proves the host is there. One probe per host is in flight at
 * a time; a probe still unanswered when the next is due counts as a failure, and its late answer (UDP
 * retransmissions keep going until Timer F) still counts as a success.
 */

export type HostState = 'unknown' | 'up' | 'down';

export interface HostHealth {
  trunk: string;
  host: string;
  state: HostState;
  /** Epoch ms of the last state change (or of the start of monitoring). */
  since: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  lastProbe?: { at: number; status: number; reason: string; rttMs: number };
  lastFailure?: { at: number; reason: string };
}

export interface TrunkHealth {
  name: string;
  transport: TrunkConfig['transport'];
  /** SDES-SRTP policy of the trunk's media (off, optional, mandatory). */
  srtp: TrunkConfig['srtp'];
  /** Codecs offered to the trunk, in preference order. */
  codecs: TrunkConfig['codecs'];
  /** 0 when keep-alives are off (hosts stay `unknown` and are tried in configured order). */
  optionsIntervalMs: number;
  hosts: HostHealth[];
}

export interface HostStateChanged {
  trunk: string;
  host: string;
  from: HostState;
  to: HostState;
  reason: string;
}

export interface TrunkHealthEvents {
  hostStateChanged: [HostStateChanged];
}

/** Sends one OPTIONS to `target` over `transport`; rejects when it cannot be sent at all. */
export type OptionsProber = (target: string, transport: TrunkConfig['transport']) => Promise<OptionsResult>;

export interface TrunkHealthMonitorOptions {
  probe: OptionsProber;
  logger: Logger;
  /** Epoch ms (wall clock; health is not on the emulator's clock). */
  now?: () => number;
}

interface HostEntry {
  health: HostHealth;
  inFlight: { overdue: boolean } | undefined;
}

interface TrunkEntry {
  config: TrunkConfig;
  hosts: Map<string, HostEntry>;
  timer: NodeJS.Timeout | undefined;
}

/** Statuses that mean "no usable answer": Request Timeout and Service Unavailable (both also local). */
export function isAliveStatus(status: number): boolean {
  return status >= 200 && status !== 408 && status !== 503;
}

export class TrunkHealthMonitor extends TypedEmitter<TrunkHealthEvents> {
  readonly #probe: OptionsProber;
  readonly #log: Logger;
  readonly #now: () => number;
  #trunks = new Map<string, TrunkEntry>();
  #running = false;
  #stopped = false;

  constructor(options: TrunkHealthMonitorOptions) {
    super(options.logger);
    this.#probe = options.probe;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The trunks to watch (at start and after a config reload). A host that stays (same trunk name and
   * host:port) keeps its state; removed ones are forgotten; timers restart with the new intervals.
   */
  setTrunks(trunks: readonly TrunkConfig[]): void {
    const next = new Map<string, TrunkEntry>();
    for (const config of trunks) {
      const old = this.#trunks.get(config.name);
      const hosts = new Map<string, HostEntry>();
      for (const host of config.hosts) {
        const kept = old && old.config.transport === config.transport ? old.hosts.get(host) : undefined;
        hosts.set(host, kept ?? { health: this.#fresh(config.name, host), inFlight: undefined });
      }
      next.set(config.name, { config, hosts, timer: undefined });
    }
    this.#stopTimers();
    this.#trunks = next;
    if (this.#running) this.#startTimers();
  }

  /** Starts the keep-alives (a first probe of every host at once). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = false;
    this.#startTimers();
  }

  /** Clears every timer; probes in flight are ignored when they settle. */
  stop(): void {
    this.#running = false;
    this.#stopped = true;
    this.#stopTimers();
  }

  /** Hosts to try for a call, best first: up (and unknown) hosts in configured order, then down ones. */
  hostsInOrder(trunk: TrunkConfig): string[] {
    const entry = this.#trunks.get(trunk.name);
    const isDown = (host: string): boolean => entry?.hosts.get(host)?.health.state === 'down';
    const hosts = entry?.config.hosts ?? trunk.hosts; // the hosts it was given (resolved: SRV targets)
    return [...hosts.filter((h) => !isDown(h)), ...hosts.filter(isDown)];
  }

  /**
   * A call found the host unreachable (no response, 408, 503, transport error): counts like a failed
   * probe. Ignored when keep-alives are off for the trunk, since nothing would bring the host back up.
   */
  reportFailure(trunkName: string, host: string, reason: string): void {
    const entry = this.#trunks.get(trunkName);
    const h = entry?.hosts.get(host);
    if (!entry || !h || entry.config.optionsIntervalMs === 0) return;
    this.#failure(entry.config, h, `call: ${reason}`);
  }

  /** Every trunk and host with its state, in configured order. */
  snapshot(): TrunkHealth[] {
    return [...this.#trunks.values()].map((t) => ({
      name: t.config.name,
      transport: t.config.transport,
      srtp: t.config.srtp,
      codecs: [...t.config.codecs],
      optionsIntervalMs: t.config.optionsIntervalMs,
      hosts: [...t.hosts.values()].map((h) => structuredClone(h.health)),
    }));
  }

  /** Probes every host of every probing trunk now (tests, and the CLI's status refresh). */
  probeAll(): Promise<void> {
    const all = [...this.#trunks.values()].filter((t) => t.config.optionsIntervalMs > 0).map((t) => this.#tick(t));
    return Promise.all(all).then(() => undefined);
  }

  #fresh(trunk: string, host: string): HostHealth {
    return { trunk, host, state: 'unknown', since: this.#now(), consecutiveFailures: 0, consecutiveSuccesses: 0 };
  }

  #startTimers(): void {
    for (const t of this.#trunks.values()) {
      if (t.config.optionsIntervalMs <= 0) continue;
      void this.#tick(t);
      t.timer = setInterval(() => void this.#tick(t), t.config.optionsIntervalMs);
    }
  }

  #stopTimers(): void {
    for (const t of this.#trunks.values()) {
      if (t.timer) clearInterval(t.timer);
      t.timer = undefined;
    }
  }

  async #tick(t: TrunkEntry): Promise<void> {
    await Promise.all([...t.hosts.values()].map((h) => this.#probeHost(t, h)));
  }

  async #probeHost(t: TrunkEntry, h: HostEntry): Promise<void> {
    if (h.inFlight) {
      h.inFlight.overdue = true;
      this.#failure(t.config, h, 'no response to OPTIONS');
      return;
    }
    const flight = { overdue: false };
    h.inFlight = flight;
    let result: OptionsResult | undefined;
    let error: string | undefined;
    try {
      result = await this.#probe(`sip:${h.health.host}`, t.config.transport);
    } catch (err) {
      error = (err as Error).message;
    }
    h.inFlight = undefined;
    const current = this.#trunks.get(t.config.name);
    if (this.#stopped || current?.hosts.get(h.health.host) !== h) return; // stopped, or the host left the config
    if (result) h.health.lastProbe = { at: this.#now(), status: result.status, reason: result.reason, rttMs: result.rttMs };
    if (result && isAliveStatus(result.status)) this.#success(current.config, h);
    else if (!flight.overdue) this.#failure(current.config, h, result ? `OPTIONS ${result.status} ${result.reason}`.trim() : `OPTIONS not sent: ${error}`);
  }

  #success(trunk: TrunkConfig, h: HostEntry): void {
    const s = h.health;
    s.consecutiveSuccesses++;
    s.consecutiveFailures = 0;
    if (s.state === 'unknown' || (s.state === 'down' && s.consecutiveSuccesses >= trunk.upAfterSuccesses)) {
      this.#change(h, 'up', `${s.consecutiveSuccesses} answered OPTIONS`);
    }
  }

  #failure(trunk: TrunkConfig, h: HostEntry, reason: string): void {
    const s = h.health;
    s.consecutiveFailures++;
    s.consecutiveSuccesses = 0;
    s.lastFailure = { at: this.#now(), reason };
    if (s.state !== 'down' && s.consecutiveFailures >= trunk.downAfterFailures) this.#change(h, 'down', `${s.consecutiveFailures} failures, last: ${reason}`);
  }

  #change(h: HostEntry, to: HostState, reason: string): void {
    const s = h.health;
    const from = s.state;
    s.state = to;
    s.since = this.#now();
    const fields = { trunk: s.trunk, host: s.host, from, to, reason };
    if (to === 'down') this.#log.warn(fields, 'trunk host down');
    else this.#log.info(fields, 'trunk host up');
    this.safeEmit('hostStateChanged', fields);
  }
}
