import { createHash } from 'node:crypto';
import type { Logger } from '@wagw/logging';

/** What the router needs of libs/call-state MediaInstanceRegistry. */
export interface MediaInstanceDirectory {
  /** Those of the given instances whose heartbeat has not expired. */
  live(instanceIds: readonly string[]): Promise<string[]>;
  assign(callId: string, instanceId: string, ttlMs: number): Promise<string>;
  /** Moves the call from `from` to `to` if still on `from`; the call's instance after. */
  reassign(callId: string, from: string, to: string, ttlMs: number): Promise<string>;
  instanceOf(callId: string): Promise<string | null>;
  release(callId: string): Promise<void>;
}

export interface MediaRouterOptions {
  /** signalling.mediaInstances: the instances calls may go to. */
  instances: readonly string[];
  directory: MediaInstanceDirectory;
  logger: Logger;
  /** How long a call's instance is kept if the call never ends cleanly (the live call record's TTL). */
  assignmentTtlMs: number;
  /** How long a read of the live instances is reused. Default 1000 ms. */
  liveCacheMs?: number;
  /** Calls whose instance is remembered in this process (oldest forgotten first; Redis keeps them all). Default 50,000. */
  rememberMax?: number;
  /** How long an instance that refused a new call as full (media.maxCalls) gets no new calls. Default 1000 ms. */
  fullForMs?: number;
  now?: () => number;
}

/** Rendezvous (highest random weight) score of an instance for a call: the same on every signalling instance. */
function weight(callId: string, instanceId: string): number {
  return createHash('sha1').update(callId).update('\0').update(instanceId).digest().readUInt32BE(0);
}

/** The instance among `candidates` that ranks highest for the call (stable while the candidates are). */
export function rankFirst(callId: string, candidates: readonly string[]): string {
  let best = candidates[0] as string;
  let bestWeight = -1;
  for (const id of candidates) {
    const w = weight(callId, id);
    if (w > bestWeight || (w === bestWeight && id < best)) [best, bestWeight] = [id, w];
  }
  return best;
}

/**
 * Which media app instance a call's requests go to, when signalling.mediaInstances lists several. A call's
 * first leg goes to a live instance (heartbeat not expired) chosen by rendezvous hashing of
 * its call id, so calls spread evenly and two legs of one call asked for at the same time land together;
 * that choice is recorded in Redis once, and every later request of the call (here or on another
 * signalling instance) goes to the same instance. When the call ends, the record is released. An instance
 * that refuses a call's first leg as full (media.maxCalls) gets no new calls for `fullForMs`, and the call
 * moves to the next instance that is not (`moveFromFull`).
 */
export class MediaRouter {
  readonly #instances: readonly string[];
  readonly #directory: MediaInstanceDirectory;
  readonly #log: Logger;
  readonly #ttlMs: number;
  readonly #liveCacheMs: number;
  readonly #rememberMax: number;
  readonly #now: () => number;
  readonly #fullForMs: number;
  /** Instances that refused a new call as full, until when. */
  readonly #fullUntil = new Map<string, number>();
  /** callId -> its instance (or the assignment under way). */
  readonly #byCall = new Map<string, Promise<string>>();
  #live: { at: number; ids: Promise<readonly string[]> } | undefined;

  constructor(options: MediaRouterOptions) {
    if (options.instances.length === 0) throw new Error('MediaRouter needs at least one media instance');
    this.#instances = options.instances;
    this.#directory = options.directory;
    this.#log = options.logger;
    this.#ttlMs = options.assignmentTtlMs;
    this.#liveCacheMs = options.liveCacheMs ?? 1000;
    this.#rememberMax = options.rememberMax ?? 50_000;
    this.#now = options.now ?? Date.now;
    this.#fullForMs = options.fullForMs ?? 1000;
  }

  /**
   * The call's first leg was refused by `full` (media.maxCalls): `full` gets no new calls for a while, and the
   * call moves to the live instance that ranks first among those not full. Null when there is none (every
   * instance is full): the call cannot be carried.
   */
  async moveFromFull(callId: string, full: string): Promise<string | null> {
    this.#fullUntil.set(full, this.#now() + this.#fullForMs);
    const open = (await this.#candidates()).filter((id) => !this.#isFull(id));
    if (open.length === 0) return null;
    const moved = this.#directory.reassign(callId, full, rankFirst(callId, open), this.#ttlMs);
    this.#remember(callId, moved);
    const to = await moved;
    this.#log.info({ callId, from: full, to }, 'media instance full (media.maxCalls): call moved to another');
    return to;
  }

  #isFull(instanceId: string): boolean {
    const until = this.#fullUntil.get(instanceId);
    if (until === undefined) return false;
    if (until > this.#now()) return true;
    this.#fullUntil.delete(instanceId);
    return false;
  }

  /** The instance for a new leg of the call: the call's own if it has one, else one chosen and recorded now. */
  forNewLeg(callId: string): Promise<string> {
    const known = this.#byCall.get(callId);
    if (known) return known;
    const assigned = this.#assign(callId);
    this.#remember(callId, assigned);
    // a failed assignment is not remembered: the next request tries again
    assigned.catch(() => this.#byCall.get(callId) === assigned && this.#byCall.delete(callId));
    return assigned;
  }

  /** The instance of an existing call's legs; a call with none recorded gets the one it would be given. */
  async forCall(callId: string): Promise<string> {
    const known = this.#byCall.get(callId);
    if (known) return known;
    const recorded = await this.#directory.instanceOf(callId);
    if (recorded !== null && this.#instances.includes(recorded)) {
      this.#remember(callId, Promise.resolve(recorded));
      return recorded;
    }
    if (recorded !== null) this.#log.warn({ callId, instanceId: recorded }, 'call recorded on a media instance not in signalling.mediaInstances: sent to a listed one');
    return rankFirst(callId, await this.#candidates());
  }

  /** signalling.mediaInstances. */
  get instances(): readonly string[] {
    return this.#instances;
  }

  /** The listed instances whose heartbeat has expired, read now (not the cached view). */
  async lostInstances(): Promise<string[]> {
    const live = await this.#directory.live(this.#instances);
    return this.#instances.filter((id) => !live.includes(id));
  }

  /** The call has ended: its legs are closed, so its instance record goes. */
  async release(callId: string): Promise<void> {
    this.#byCall.delete(callId);
    await this.#directory.release(callId);
  }

  async #assign(callId: string): Promise<string> {
    const candidates = await this.#candidates();
    const open = candidates.filter((id) => !this.#isFull(id));
    // all full: the ranked one refuses, and the call is refused
    const chosen = rankFirst(callId, open.length > 0 ? open : candidates);
    return this.#directory.assign(callId, chosen, this.#ttlMs);
  }

  /** The listed instances that are live; all listed ones if none is (their requests then fail with a deadline). */
  async #candidates(): Promise<readonly string[]> {
    const now = this.#now();
    if (!this.#live || now - this.#live.at >= this.#liveCacheMs) {
      const ids = this.#directory.live(this.#instances).then((live) => {
        const usable = this.#instances.filter((id) => live.includes(id));
        if (usable.length === 0) this.#log.error({ listed: this.#instances }, 'no media instance has a recent heartbeat: new calls go to the listed ones and fail if none answers');
        return usable.length > 0 ? usable : this.#instances;
      });
      this.#live = { at: now, ids };
      ids.catch(() => this.#live?.ids === ids && (this.#live = undefined));
    }
    return this.#live.ids;
  }

  #remember(callId: string, instance: Promise<string>): void {
    this.#byCall.set(callId, instance);
    if (this.#byCall.size > this.#rememberMax) {
      const oldest = this.#byCall.keys().next().value as string;
      this.#byCall.delete(oldest);
    }
  }
}
