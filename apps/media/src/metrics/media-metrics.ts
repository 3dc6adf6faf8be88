import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { AudioBridgeStats } from '@wagw/media-bridge';
import { bridgeTotalsOf, type BridgeRegistryStats, type LegRegistryStats } from './media-totals';

/** Where the media metrics are read from at scrape time (the app's registries and port allocator). */
export interface MediaMetricsSources {
  waLegs: () => LegRegistryStats;
  pbxLegs: () => LegRegistryStats;
  bridges: () => BridgeRegistryStats;
  rtpPorts: () => { pairsInUse: number; pairCapacity: number };
  /** Mid-call SDP changes from the PBX by kind, and the PBX legs held now (absent: not published). */
  pbxMediaChanges?: () => { changes: Readonly<Record<string, number>>; legsOnHold: number };
  /** Calls carried now, media.maxCalls (0: no limit) and new calls refused since start (absent: not published). */
  admission?: () => { calls: number; maxCalls: number; refused: number };
}

export interface MediaMetricsOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC) on this registry. Default true. */
  defaultMetrics?: boolean;
}

const LEGS = ['wa', 'pbx'] as const;
const BRIDGE_MODES = ['transcode', 'passthrough'] as const satisfies readonly AudioBridgeStats['mode'][];

/**
 * A counter whose value is computed at scrape time from totals that only grow. Live RTP loss can shrink by a
 * few packets when a late packet arrives (RFC 3550 A.3), so the published value never goes below what was
 * published before: a counter that decreases reads as a reset to Prometheus.
 */
class ScrapedCounter<L extends string> {
  readonly #published = new Map<string, number>();
  constructor(readonly counter: Counter<L>) {}

  publish(labels: Record<L, string>, value: number): void {
    const key = JSON.stringify(labels);
    const next = Math.max(this.#published.get(key) ?? 0, value);
    this.#published.set(key, next);
    this.counter.inc(labels, next);
  }
}

/**
 * The media app's Prometheus metrics on a registry of its own, all computed at scrape time from the
 * registries' `stats` (no per-packet work: the legs and bridges count already; totals of closed legs and
 * bridges are kept as running sums by the registries).
 */
export class MediaMetrics {
  readonly registry = new Registry();

  constructor(sources: MediaMetricsSources, options: MediaMetricsOptions = {}) {
    const registers = [this.registry];
    new Gauge({
      name: 'wagw_media_legs',
      help: 'Media legs held: kind wa (WebRTC toward WhatsApp) or pbx (RTP toward the PBX).',
      labelNames: ['kind'],
      registers,
      collect() {
        this.set({ kind: 'wa' }, sources.waLegs().legs);
        this.set({ kind: 'pbx' }, sources.pbxLegs().legs);
      },
    });
    new Gauge({
      name: 'wagw_media_bridges',
      help: 'Running audio bridges by mode (transcode: Opus <-> G.711; passthrough: Opus both sides).',
      labelNames: ['mode'],
      registers,
      collect() {
        const live = sources.bridges().live;
        for (const mode of BRIDGE_MODES) this.set({ mode }, live.filter((b) => b.mode === mode).length);
      },
    });
    new Gauge({
      name: 'wagw_rtp_ports_in_use',
      help: 'UDP ports of the RTP range bound by PBX legs (RTP and RTCP: two per leg).',
      registers,
      collect() {
        this.set(sources.rtpPorts().pairsInUse * 2);
      },
    });
    new Gauge({
      name: 'wagw_rtp_ports_capacity',
      help: 'UDP ports the RTP range offers (media.rtpPortMin..rtpPortMax, whole pairs).',
      registers,
      collect() {
        this.set(sources.rtpPorts().pairCapacity * 2);
      },
    });
    this.#packetCounters(sources, registers);
    if (sources.pbxMediaChanges) this.#pbxChangeMetrics(sources.pbxMediaChanges, registers);
    if (sources.admission) this.#admissionMetrics(sources.admission, registers);
    this.#qualityGauges(sources, registers);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  async metrics(): Promise<string> {
    return this.registry.metrics();
  }

  #admissionMetrics(source: NonNullable<MediaMetricsSources['admission']>, registers: Registry[]): void {
    new Gauge({
      name: 'wagw_media_calls',
      help: 'Calls this media app carries now (a call counts from its first leg to its last).',
      registers,
      collect() {
        this.set(source().calls);
      },
    });
    new Gauge({
      name: 'wagw_media_calls_max',
      help: 'media.maxCalls: calls this media app takes at once (0: no limit).',
      registers,
      collect() {
        this.set(source().maxCalls);
      },
    });
    const refused = new ScrapedCounter(
      new Counter({
        name: 'wagw_media_calls_refused_total',
        help: 'New calls refused because this media app carried media.maxCalls already.',
        registers,
        collect() {
          this.reset();
          refused.publish({}, source().refused);
        },
      }),
    );
  }

  #pbxChangeMetrics(source: NonNullable<MediaMetricsSources['pbxMediaChanges']>, registers: Registry[]): void {
    const changes = new ScrapedCounter(
      new Counter({
        name: 'wagw_pbx_media_changes_total',
        help: 'Mid-call SDP from the PBX (re-INVITE, UPDATE, ACK answer), by what it did: move (new address), hold, resume, refresh (nothing changed), refused (488).',
        labelNames: ['change'],
        registers,
        collect() {
          this.reset();
          for (const [change, n] of Object.entries(source().changes)) changes.publish({ change }, n);
        },
      }),
    );
    new Gauge({
      name: 'wagw_pbx_legs_on_hold',
      help: 'PBX legs the PBX holds now (the gateway sends them no RTP).',
      registers,
      collect() {
        this.set(source().legsOnHold);
      },
    });
  }

  #packetCounters(sources: MediaMetricsSources, registers: Registry[]): void {
    const packets = new ScrapedCounter(
      new Counter({
        name: 'wagw_media_packets_total',
        help: 'Media packets per leg kind and direction (in: received from that side, out: sent to it), closed legs included.',
        labelNames: ['leg', 'direction'],
        registers,
        collect() {
          this.reset();
          for (const leg of LEGS) {
            const s = leg === 'wa' ? sources.waLegs() : sources.pbxLegs();
            packets.publish({ leg, direction: 'in' }, s.packetsIn);
            packets.publish({ leg, direction: 'out' }, s.packetsOut);
          }
        },
      }),
    );
    const timeouts = new ScrapedCounter(
      new Counter({
        name: 'wagw_media_timeouts_total',
        help: 'Bridged calls found with a silent side (no RTP or RTCP for media.rtpTimeoutS, rtpHoldTimeoutS on hold), by that side; each ends its call.',
        labelNames: ['leg'],
        registers,
        collect() {
          this.reset();
          const t = sources.bridges().timeouts;
          for (const leg of LEGS) timeouts.publish({ leg }, t[leg]);
        },
      }),
    );
    const lost = new ScrapedCounter(
      new Counter({
        name: 'wagw_media_packets_lost_total',
        help: 'Packets lost (RFC 3550 cumulative loss) in the stream received from each leg, over bridged calls.',
        labelNames: ['leg'],
        registers,
        collect() {
          this.reset();
          const { live, closed } = sources.bridges();
          lost.publish({ leg: 'wa' }, closed.lostWa + sum(live, (b) => b.waToPbx.lost));
          lost.publish({ leg: 'pbx' }, closed.lostPbx + sum(live, (b) => b.pbxToWa.lost));
        },
      }),
    );
  }

  #qualityGauges(sources: MediaMetricsSources, registers: Registry[]): void {
    new Gauge({
      name: 'wagw_media_jitter_seconds',
      help: 'RFC 3550 interarrival jitter of the stream received from each leg, mean over running bridges (absent without one).',
      labelNames: ['leg'],
      registers,
      collect() {
        this.reset();
        const live = sources.bridges().live;
        if (live.length === 0) return;
        this.set({ leg: 'wa' }, sum(live, (b) => b.waToPbx.jitterMs) / live.length / 1000);
        this.set({ leg: 'pbx' }, sum(live, (b) => b.pbxToWa.jitterMs) / live.length / 1000);
      },
    });
    new Gauge({
      name: 'wagw_transcode_seconds',
      help: 'Mean time to transcode one 20 ms frame over running bridges: decode (Opus -> G.711) or encode (G.711 -> Opus); absent while none transcodes.',
      labelNames: ['op'],
      registers,
      collect() {
        this.reset();
        const totals = sources.bridges().live.map(bridgeTotalsOf);
        const decodeFrames = sum(totals, (t) => t.decodeFrames);
        const encodeFrames = sum(totals, (t) => t.encodeFrames);
        if (decodeFrames > 0) this.set({ op: 'decode' }, sum(totals, (t) => t.decodeUs) / decodeFrames / 1e6);
        if (encodeFrames > 0) this.set({ op: 'encode' }, sum(totals, (t) => t.encodeUs) / encodeFrames / 1e6);
      },
    });
    const frames = new ScrapedCounter(
      new Counter({
        name: 'wagw_transcode_frames_total',
        help: 'Frames transcoded since start (decode: Opus -> G.711 with PLC frames; encode: G.711 -> Opus), stopped bridges included.',
        labelNames: ['op'],
        registers,
        collect() {
          this.reset();
          const { live, closed } = sources.bridges();
          const totals = live.map(bridgeTotalsOf);
          frames.publish({ op: 'decode' }, closed.decodeFrames + sum(totals, (t) => t.decodeFrames));
          frames.publish({ op: 'encode' }, closed.encodeFrames + sum(totals, (t) => t.encodeFrames));
        },
      }),
    );
    const spent = new ScrapedCounter(
      new Counter({
        name: 'wagw_transcode_seconds_total',
        help: 'Time spent transcoding since start, by op (rate over wagw_transcode_frames_total: recent mean per frame).',
        labelNames: ['op'],
        registers,
        collect() {
          this.reset();
          const { live, closed } = sources.bridges();
          const totals = live.map(bridgeTotalsOf);
          spent.publish({ op: 'decode' }, (closed.decodeUs + sum(totals, (t) => t.decodeUs)) / 1e6);
          spent.publish({ op: 'encode' }, (closed.encodeUs + sum(totals, (t) => t.encodeUs)) / 1e6);
        },
      }),
    );
  }
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  let total = 0;
  for (const item of items) total += of(item);
  return total;
}
