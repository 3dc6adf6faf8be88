import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CALL_DIRECTIONS, DIRECTION_STATES, type CallDirection, type CallRecord } from '@wagw/call-state';
import { callFailureCategory } from './call-failure-category';

/** A trunk with `maxCalls`, as its metrics show it (TrunkChannels.snapshot). */
export interface TrunkChannelsRow {
  trunk: string;
  maxCalls: number;
  inUse: number | null;
  refused: Record<'to-pbx' | 'from-pbx', number>;
}

/** What `POST /webhooks/whatsapp` and the work after its ack did with a delivery (one bounded label). */
export const WEBHOOK_RESULTS = ['accepted', 'bad_signature', 'bad_json', 'duplicate', 'dead_letter', 'other_number', 'error'] as const;
export type WebhookResult = (typeof WEBHOOK_RESULTS)[number];

export interface SignallingMetricsOptions {
  /** Live calls (any state but `ended`), read from Redis at each scrape. */
  listActive?: () => Promise<readonly Pick<CallRecord, 'direction' | 'state'>[]>;
  /** One Redis round trip (PING) at each scrape; a failure leaves the RTT series out and sets redis_up 0. */
  redisPing?: () => Promise<unknown>;
  /** Longest a scrape waits for the PING. Default 1000 ms. */
  redisPingTimeoutMs?: number;
  /**
   * With several media apps (signalling.mediaInstances): which of them have a live heartbeat, read at each
   * scrape (wagw_media_instance_up).
   */
  mediaInstancesUp?: () => Promise<Readonly<Record<string, boolean>>>;
  /** Process metrics (CPU, memory, event-loop lag, GC) on this registry. Default true. */
  defaultMetrics?: boolean;
}

/** Answer times: people pick up after seconds, and a ring timeout is at most a few minutes. */
const SETUP_BUCKETS_S = [0.25, 0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60, 90, 120];
/** A PING on a healthy local Redis takes well under a millisecond. */
const RTT_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
/** The webhook is acknowledged before any processing: milliseconds. */
const ACK_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

/**
 * The signalling app's Prometheus metrics on a registry of its own (never prom-client's global one: tests
 * boot several apps, and several times, in one process). Call counters are fed by the call repository
 * (`MeteredCallRepository`) so every use case is covered; gauges are computed at scrape time.
 */
export class SignallingMetrics {
  readonly registry = new Registry();
  readonly #setups: Counter<'direction'>;
  readonly #entries: Counter<'entry'>;
  readonly #ended: Counter<'direction' | 'outcome' | 'ended_by'>;
  readonly #failures: Counter<'direction' | 'cause'>;
  readonly #setupSeconds: Histogram<'direction'>;
  readonly #webhooks: Counter<'result'>;
  readonly #ackSeconds: Histogram;
  readonly #graph: Counter<'operation' | 'status'>;
  readonly #sipAuthFailures: Counter<'method' | 'reason'>;
  readonly #sipBlocked: Counter<'method'>;
  readonly #sipMalformed: Counter<'transport' | 'outcome'>;
  readonly #sipConnectionsRefused: Counter<'transport' | 'limit'>;
  readonly #instancesLost: Counter;
  readonly #orphansEnded: Counter;
  readonly #orphanLegsClosed: Counter<'kind'>;
  #listActive: SignallingMetricsOptions['listActive'];
  #trunkChannels: (() => Promise<readonly TrunkChannelsRow[]>) | undefined;
  #sipConnectionsSource: (() => { tcp: number; tls: number }) | undefined;

  constructor(options: SignallingMetricsOptions = {}) {
    const registers = [this.registry];
    this.#listActive = options.listActive;
    this.#setups = new Counter({ name: 'wagw_call_setups_total', help: 'Calls created (set-up attempts), by direction.', labelNames: ['direction'], registers });
    this.#entries = new Counter({
      name: 'wagw_inbound_calls_by_entry_total',
      help: 'Calls WhatsApp users placed, by where from: call_button, deep_link, or none (the chat\'s call icon, the call log, a contact).',
      labelNames: ['entry'],
      registers,
    });
    this.#ended = new Counter({
      name: 'wagw_calls_ended_total',
      help: 'Calls that reached ended: answered (were active) or failed, by who ended them.',
      labelNames: ['direction', 'outcome', 'ended_by'],
      registers,
    });
    this.#failures = new Counter({ name: 'wagw_call_failures_total', help: 'Calls ended without being answered, by failure category.', labelNames: ['direction', 'cause'], registers });
    this.#setupSeconds = new Histogram({ name: 'wagw_call_setup_seconds', help: 'Time from call creation to active.', labelNames: ['direction'], buckets: SETUP_BUCKETS_S, registers });
    this.#webhooks = new Counter({ name: 'wagw_webhooks_total', help: 'WhatsApp webhook deliveries and events, by result.', labelNames: ['result'], registers });
    this.#ackSeconds = new Histogram({ name: 'wagw_webhook_ack_seconds', help: 'Time to answer a webhook POST (signature check and ack).', buckets: ACK_BUCKETS_S, registers });
    this.#graph = new Counter({ name: 'wagw_graph_requests_total', help: 'Graph API HTTP attempts, by operation and HTTP status.', labelNames: ['operation', 'status'], registers });
    this.#sipAuthFailures = new Counter({
      name: 'wagw_sip_auth_failures_total',
      help: 'INVITEs and REGISTERs from the PBX side whose digest credentials failed, by method and reason (unknown-user, bad-password).',
      labelNames: ['method', 'reason'],
      registers,
    });
    this.#sipBlocked = new Counter({
      name: 'wagw_sip_blocked_requests_total',
      help: 'INVITEs and REGISTERs refused (403) because their source failed authentication too often (pbx.authFailureLimit).',
      labelNames: ['method'],
      registers,
    });
    this.#sipMalformed = new Counter({
      name: 'wagw_sip_malformed_total',
      help: 'SIP messages refused as malformed (not SIP, or a mandatory header missing or unusable), by transport and outcome: answered (a 400 naming why) or dropped (nothing a response could be matched to, or past 20 answers per second to one source); each source is logged at most once per 10 s.',
      labelNames: ['transport', 'outcome'],
      registers,
    });
    this.#sipConnectionsRefused = new Counter({
      name: 'wagw_sip_connections_refused_total',
      help: 'Inbound SIP TCP/TLS connections closed at their accept because a limit was reached: limit="total" (pbx.maxInboundConnections) or "per-address" (pbx.maxInboundConnectionsPerAddress), by transport.',
      labelNames: ['transport', 'limit'],
      registers,
    });
    const sipConnections = (): { tcp: number; tls: number } | undefined => this.#sipConnectionsSource?.();
    new Gauge({
      name: 'wagw_sip_inbound_connections',
      help: 'SIP TCP/TLS connections peers hold open to this process now, by transport (limits: pbx.maxInboundConnections, pbx.maxInboundConnectionsPerAddress).',
      labelNames: ['transport'],
      registers,
      collect() {
        this.reset();
        const open = sipConnections();
        if (!open) return;
        this.set({ transport: 'tcp' }, open.tcp);
        this.set({ transport: 'tls' }, open.tls);
      },
    });
    this.#instancesLost = new Counter({
      name: 'wagw_signalling_instances_lost_total',
      help: 'Signalling processes found gone (heartbeat expired) whose calls this process ended.',
      registers,
    });
    this.#orphansEnded = new Counter({
      name: 'wagw_orphaned_calls_ended_total',
      help: 'Calls of a lost signalling process that this process ended (WhatsApp, media and the PBX released).',
      registers,
    });
    this.#orphanLegsClosed = new Counter({
      name: 'wagw_orphan_legs_closed_total',
      help: 'Media legs found with no live call record (a signalling process died while setting the call up, or a close was lost) and closed, by kind (wa, pbx).',
      labelNames: ['kind'],
      registers,
    });
    for (const kind of ['wa', 'pbx']) this.#orphanLegsClosed.inc({ kind }, 0);
    this.#activeCallsGauge(registers);
    this.#trunkChannelMetrics(registers);
    if (options.redisPing) this.#redisGauges(registers, options.redisPing, options.redisPingTimeoutMs ?? 1000);
    if (options.mediaInstancesUp) this.#mediaInstancesGauge(registers, options.mediaInstancesUp);
    for (const direction of CALL_DIRECTIONS) this.#setups.inc({ direction }, 0);
    for (const entry of ['call_button', 'deep_link', 'none']) this.#entries.inc({ entry }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Where `wagw_calls_active` reads live calls from (set once the repository exists). */
  set listActive(source: NonNullable<SignallingMetricsOptions['listActive']>) {
    this.#listActive = source;
  }

  /** Where the trunks' channel metrics are read from (set once TrunkChannels exists). */
  /** Where the open inbound SIP TCP/TLS connections are read at scrape time (the SIP stack, once it listens). */
  set sipConnections(source: () => { tcp: number; tls: number }) {
    this.#sipConnectionsSource = source;
  }

  set trunkChannels(source: () => Promise<readonly TrunkChannelsRow[]>) {
    this.#trunkChannels = source;
  }

  /** A request from the PBX side failed digest authentication (a wrong password, an unknown user). */
  sipAuthFailed(method: string, reason: string): void {
    this.#sipAuthFailures.inc({ method, reason });
  }

  /** A SIP message refused as malformed: answered 400 or dropped. */
  sipMalformed(transport: string, answered: boolean): void {
    this.#sipMalformed.inc({ transport, outcome: answered ? 'answered' : 'dropped' });
  }

  /** An inbound SIP connection closed at its accept: a connection limit was reached. */
  sipConnectionRefused(transport: string, limit: string): void {
    this.#sipConnectionsRefused.inc({ transport, limit });
  }

  /** A request refused because its source is blocked (pbx.authFailureLimit). */
  sipBlocked(method: string): void {
    this.#sipBlocked.inc({ method });
  }

  /** Calls of a lost signalling process ended here; `instanceDone` once all of them are (the instance forgotten). */
  orphansEnded(calls: number, instanceDone: boolean): void {
    this.#orphansEnded.inc(calls);
    if (instanceDone) this.#instancesLost.inc();
  }

  /** A media leg with no live call, closed by the orphan-leg sweep. */
  orphanLegClosed(kind: 'wa' | 'pbx'): void {
    this.#orphanLegsClosed.inc({ kind });
  }

  callCreated(direction: CallDirection, entryPoint?: CallRecord['entryPoint']): void {
    this.#setups.inc({ direction });
    if (direction === 'inbound') this.#entries.inc({ entry: entryPoint ?? 'none' });
  }

  /** The call became active: its set-up time, creation to answer. */
  callAnswered(record: Pick<CallRecord, 'direction' | 'createdAt' | 'answeredAt'>): void {
    if (record.answeredAt === undefined) return;
    this.#setupSeconds.observe({ direction: record.direction }, Math.max(0, record.answeredAt - record.createdAt) / 1000);
  }

  /** The call reached `ended`: answered or failed, and for a failure its category. */
  callEnded(record: Pick<CallRecord, 'direction' | 'answeredAt' | 'endedBy' | 'endCause' | 'waCause' | 'sipCause'>): void {
    const answered = record.answeredAt !== undefined;
    this.#ended.inc({ direction: record.direction, outcome: answered ? 'answered' : 'failed', ended_by: record.endedBy ?? 'system' });
    if (!answered) this.#failures.inc({ direction: record.direction, cause: callFailureCategory(record) });
  }

  webhook(result: WebhookResult, count = 1): void {
    if (count > 0) this.#webhooks.inc({ result }, count);
  }

  webhookAcked(seconds: number): void {
    this.#ackSeconds.observe(seconds);
  }

  /** One Graph API HTTP attempt; `status` is the HTTP status or `network_error`. Both labels are bounded by the caller. */
  graphRequest(operation: string, status: string): void {
    this.#graph.inc({ operation, status });
  }

  async metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #activeCallsGauge(registers: Registry[]): void {
    const sourceNow = () => this.#listActive;
    new Gauge({
      name: 'wagw_calls_active',
      help: 'Calls not ended yet, by direction and state (all instances: read from Redis).',
      labelNames: ['direction', 'state'],
      registers,
      async collect() {
        const source = sourceNow();
        this.reset();
        if (!source) return;
        // Redis unreachable: no series rather than a failed scrape (wagw_redis_up says why)
        const calls = await source().catch(() => undefined);
        if (!calls) return;
        // every state a direction can be in is present (0 when empty), so a rate or an alert never sees a gap
        for (const direction of CALL_DIRECTIONS) {
          for (const state of DIRECTION_STATES[direction]) if (state !== 'ended') this.set({ direction, state }, 0);
        }
        for (const call of calls) if (call.state !== 'ended') this.inc({ direction: call.direction, state: call.state });
      },
    });
  }

  /** Channels of trunks with maxCalls: in use (all instances), the limit, and calls refused for want of one. */
  #trunkChannelMetrics(registers: Registry[]): void {
    // one snapshot per scrape for the three series (prom-client collects a registry's metrics concurrently)
    let inFlight: Promise<readonly TrunkChannelsRow[]> | undefined;
    const rows = (): Promise<readonly TrunkChannelsRow[]> => {
      const source = this.#trunkChannels;
      if (!source) return Promise.resolve([]);
      inFlight ??= source()
        .catch(() => [])
        .finally(() => {
          inFlight = undefined;
        });
      return inFlight;
    };
    new Gauge({
      name: 'wagw_trunk_channels_in_use',
      help: 'Calls on each trunk with maxCalls now (channels), both directions, counted by every signalling instance (absent when Redis does not answer).',
      labelNames: ['trunk'],
      registers,
      async collect() {
        this.reset();
        for (const r of await rows()) if (r.inUse !== null) this.set({ trunk: r.trunk }, r.inUse);
      },
    });
    new Gauge({
      name: 'wagw_trunk_channels_max',
      help: 'The maxCalls of each trunk that has one.',
      labelNames: ['trunk'],
      registers,
      async collect() {
        this.reset();
        for (const r of await rows()) this.set({ trunk: r.trunk }, r.maxCalls);
      },
    });
    new Counter({
      name: 'wagw_trunk_calls_refused_total',
      help: 'Calls refused at once because their trunk was at maxCalls, by direction (to-pbx: our INVITE not sent; from-pbx: its INVITE answered 503), by this instance.',
      labelNames: ['trunk', 'direction'],
      registers,
      async collect() {
        this.reset();
        for (const r of await rows()) for (const [direction, n] of Object.entries(r.refused)) this.inc({ trunk: r.trunk, direction }, n);
      },
    });
  }

  #mediaInstancesGauge(registers: Registry[], up: NonNullable<SignallingMetricsOptions['mediaInstancesUp']>): void {
    new Gauge({
      name: 'wagw_media_instance_up',
      help: 'Media apps listed in signalling.mediaInstances: 1 while their heartbeat is live (new calls go to them), else 0.',
      labelNames: ['instance'],
      registers,
      async collect() {
        this.reset();
        // Redis unreachable: no series rather than a failed scrape (wagw_redis_up says why)
        const states = await up().catch(() => undefined);
        for (const [instance, live] of Object.entries(states ?? {})) this.set({ instance }, live ? 1 : 0);
      },
    });
  }

  /** Both gauges of one scrape share one PING (prom-client collects a registry's metrics concurrently). */
  #redisGauges(registers: Registry[], ping: () => Promise<unknown>, timeoutMs: number): void {
    let inFlight: Promise<number | undefined> | undefined;
    const rtt = (): Promise<number | undefined> => {
      inFlight ??= pingRtt(ping, timeoutMs).finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    };
    const rttSeconds = new Histogram({
      name: 'wagw_redis_rtt_seconds',
      help: 'Round-trip time of the Redis PING made at each scrape (not observed when it failed or timed out).',
      buckets: RTT_BUCKETS_S,
      registers,
      async collect() {
        const seconds = await rtt();
        if (seconds !== undefined) rttSeconds.observe(seconds);
      },
    });
    new Gauge({
      name: 'wagw_redis_up',
      help: '1 when the scrape-time Redis PING was answered in time, else 0.',
      registers,
      async collect() {
        this.set((await rtt()) === undefined ? 0 : 1);
      },
    });
  }
}

/** Seconds of one PING, or undefined when it failed or took longer than `timeoutMs` (the timer is cleared either way). */
async function pingRtt(ping: () => Promise<unknown>, timeoutMs: number): Promise<number | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const started = process.hrtime.bigint();
  const reply = ping().then(
    () => Number(process.hrtime.bigint() - started) / 1e9,
    () => undefined,
  );
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    return await Promise.race([reply, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
