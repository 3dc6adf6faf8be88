import { Inject, Injectable, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { CallRepository } from '@wagw/call-state';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { ListLegsReply } from '@wagw/contracts';
import type { Logger } from '@wagw/logging';
import { SignallingMetrics } from '../metrics/signalling-metrics';
import { CALL_REPOSITORY, SIGNALLING_LOGGER } from '../signalling.tokens';
import { MediaBusClient } from './media-bus.client';

/** One leg a media app holds, with where it was found. */
interface HeldLeg {
  instanceId: string;
  kind: 'wa' | 'pbx';
  callId: string;
  legId: string;
  state: string;
  ageMs: number;
}

/** What one sweep found and did. */
export interface OrphanSweepReport {
  /** Legs listed by the media apps that answered. */
  legs: number;
  /** Legs closed: old enough and no live call record. */
  closed: number;
  /** Media instances that did not answer the listing (their legs were left for the next sweep). */
  unreachable: string[];
}

/**
 * A media leg belongs to a call record: the leg is asked for, then recorded on the call, and closed when the
 * call ends. A signalling process that dies between asking for a call's legs and writing its record (they are
 * asked for side by side), or a close that is lost on the bus, leaves a leg nobody will close: a WhatsApp leg
 * fails after media.iceConnectTimeoutMs but stays listed, an RTP leg toward the PBX keeps its port pair and
 * its admission slot (media.maxCalls) until the media app restarts. Every `signalling.orphanLegSweepMs` each
 * signalling process lists the legs of every media instance and closes those at least that old whose call has
 * no live record (none, or ended), then forgets the call's media instance. Closing is idempotent, so two
 * processes sweeping at once do no harm. A leg of a live call is never touched, and its call's record has its
 * TTL renewed when half of it is gone (a call longer than the live TTL, 6 h, with no write would otherwise
 * lose its record).
 */
@Injectable()
export class OrphanLegSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly #everyMs: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<OrphanSweepReport> | undefined;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    @Inject(SIGNALLING_LOGGER) logger: Logger,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly media: MediaBusClient,
    @Optional() private readonly metrics?: SignallingMetrics,
  ) {
    this.#everyMs = config.signalling.orphanLegSweepMs;
    this.#log = logger.child({ component: 'orphan-legs' });
  }

  onApplicationBootstrap(): void {
    if (this.#everyMs === 0) return;
    this.#timer = setInterval(() => void this.sweep(), this.#everyMs);
    this.#timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * One sweep (the timer's; tests call it directly): closes the legs at least `minAgeMs` old (default
   * signalling.orphanLegSweepMs) whose call has no live record. Never throws; one runs at a time.
   */
  sweep(minAgeMs: number = this.#everyMs): Promise<OrphanSweepReport> {
    this.#running ??= this.#sweep(minAgeMs)
      .catch((err: unknown): OrphanSweepReport => {
        this.#log.warn({ err }, 'orphan-leg sweep failed (tried again at the next one)');
        return { legs: 0, closed: 0, unreachable: [] };
      })
      .finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #sweep(minAgeMs: number): Promise<OrphanSweepReport> {
    const unreachable: string[] = [];
    const held: HeldLeg[] = [];
    for (const instanceId of this.media.mediaInstanceIds) {
      let listed: ListLegsReply;
      try {
        listed = await this.media.listLegs(instanceId);
      } catch (err) {
        // a media instance that is down has no legs to leak (the media-instance watchdog ends its calls)
        unreachable.push(instanceId);
        this.#log.debug({ err, mediaInstance: instanceId || undefined }, 'media instance did not list its legs (swept next time)');
        continue;
      }
      for (const l of listed.legs) held.push({ instanceId, kind: 'wa', callId: l.callId, legId: l.legId, state: l.state, ageMs: l.ageMs ?? 0 });
      for (const l of listed.pbxLegs ?? []) held.push({ instanceId, kind: 'pbx', callId: l.callId, legId: l.legId, state: l.state, ageMs: l.ageMs ?? 0 });
    }
    const old = held.filter((l) => l.ageMs >= minAgeMs);
    if (old.length === 0) return { legs: held.length, closed: 0, unreachable };
    const live = await this.calls.liveAmong([...new Set(old.map((l) => l.callId))]);
    // a call may outlast its record's live TTL with no write (no maximum duration): held legs keep it alive
    const renewed = await this.calls.renewLive(live);
    if (renewed > 0) this.#log.info({ calls: renewed }, "long calls' records kept alive (their legs are held)");
    const orphans = old.filter((l) => !live.has(l.callId));
    let closed = 0;
    const forget = new Set<string>();
    for (const leg of orphans) {
      const { instanceId, kind, callId, legId, state, ageMs } = leg;
      this.#log.warn(
        { callId, legId, kind, legState: state, ageMs, mediaInstance: instanceId || undefined },
        'closing a media leg whose call has no live record (orphan: its signalling process died during set-up, or its close was lost)',
      );
      try {
        await this.media.closeLegOn(instanceId, kind, callId, legId, 'orphan leg: no live call record');
        closed += 1;
        forget.add(callId);
        this.metrics?.orphanLegClosed(kind);
      } catch (err) {
        this.#log.warn({ err, callId, legId, kind }, 'orphan leg not closed (tried again at the next sweep)');
      }
    }
    for (const callId of forget) await this.media.releaseCall(callId).catch((err: unknown) => this.#log.debug({ err, callId }, 'media instance of an orphan leg not forgotten (its key expires)'));
    return { legs: held.length, closed, unreachable };
  }
}
