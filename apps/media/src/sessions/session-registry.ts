import { Inject, Injectable, Optional, type BeforeApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { callLogger, type Logger } from '@wagw/logging';
import type { WaLeg, WaLegState } from '@wagw/media-bridge';
import { MEDIA_LOGGER, WA_LEG_FACTORY } from '../media.tokens';
import { WaLegEventsPublisher } from '../bus/wa-leg-events.publisher';
import { LegNotFoundError, ShuttingDownError } from './media.errors';
import { CallAdmission } from './call-admission';
import type { WaLegFactory } from './wa-leg.factory';
import { PacketTally, waLegPackets, type LegRegistryStats } from '../metrics/media-totals';

interface LegEntry {
  callId: string;
  legId: string;
  leg: WaLeg;
  /** performance.now() when made. */
  createdAt: number;
}

export interface CreatedLeg {
  legId: string;
  sdpType: 'offer' | 'answer';
  sdp: string;
}

export interface LegSummary {
  callId: string;
  legId: string;
  state: WaLegState;
  /** Since the leg was made. */
  ageMs: number;
}

/**
 * Owns the process's WhatsApp legs by legId (each bound to its callId), publishes their state changes,
 * and on shutdown stops taking new legs and closes every open one (STYLE §1 drain). Each leg counts toward
 * its call's admission (media.maxCalls): the first leg of a new call over the limit is refused.
 */
@Injectable()
export class SessionRegistry implements BeforeApplicationShutdown {
  readonly #legs = new Map<string, LegEntry>();
  readonly #packets = new PacketTally(waLegPackets);
  #draining = false;

  constructor(
    @Inject(WA_LEG_FACTORY) private readonly factory: WaLegFactory,
    private readonly events: WaLegEventsPublisher,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
    @Optional() private readonly admission: CallAdmission = new CallAdmission(0),
  ) {}

  get size(): number {
    return this.#legs.size;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Legs held now and packet totals over every leg since start, closed ones included (metrics). */
  get stats(): LegRegistryStats {
    return { legs: this.#legs.size, ...this.#packets.total([...this.#legs.values()].map((e) => e.leg)) };
  }

  /** User-initiated with Meta's offer (we answer), business-initiated without (we offer). */
  async create(callId: string, remoteOffer?: string): Promise<CreatedLeg> {
    if (this.#draining) throw new ShuttingDownError();
    this.admission.admitLeg(callId);
    const legId = `wa-${randomUUID()}`;
    const log = callLogger(this.logger, { callId }).child({ legId });
    let made: Awaited<ReturnType<WaLegFactory['createOffer']>>;
    try {
      made = remoteOffer ? await this.factory.answerOffer(remoteOffer, log) : await this.factory.createOffer(log);
    } catch (err) {
      this.admission.releaseLeg(callId);
      throw err;
    }
    const { leg, sdp } = made;
    this.#legs.set(legId, { callId, legId, leg, createdAt: performance.now() });
    if (leg.state !== 'new') this.events.stateChanged(callId, legId, leg.state);
    leg.on('stateChanged', ({ state, reason }) => this.events.stateChanged(callId, legId, state, reason));
    log.info({ sdpType: remoteOffer ? 'answer' : 'offer' }, 'WhatsApp leg created');
    return { legId, sdpType: remoteOffer ? 'answer' : 'offer', sdp };
  }

  get(callId: string, legId: string): WaLeg {
    const entry = this.#legs.get(legId);
    if (!entry || entry.callId !== callId) throw new LegNotFoundError(callId, legId);
    return entry.leg;
  }

  /** Idempotent: closing a leg that is already gone succeeds; a legId of another call does not. */
  async close(callId: string, legId: string, reason: string): Promise<void> {
    const entry = this.#legs.get(legId);
    if (!entry) {
      this.logger.debug({ callId, legId }, 'close of an unknown WhatsApp leg (already closed)');
      return;
    }
    if (entry.callId !== callId) throw new LegNotFoundError(callId, legId);
    this.#legs.delete(legId);
    this.admission.releaseLeg(callId);
    this.#packets.retire(entry.leg);
    await entry.leg.close(reason);
  }

  list(): LegSummary[] {
    const now = performance.now();
    return [...this.#legs.values()].map(({ callId, legId, leg, createdAt }) => ({ callId, legId, state: leg.state, ageMs: Math.floor(now - createdAt) }));
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.#draining = true;
    const entries = [...this.#legs.values()];
    this.#legs.clear();
    for (const e of entries) {
      this.admission.releaseLeg(e.callId);
      this.#packets.retire(e.leg);
    }
    if (entries.length) this.logger.info({ legs: entries.length }, 'closing WhatsApp legs for shutdown');
    await Promise.all(entries.map((e) => e.leg.close('media app shutting down')));
  }
}
