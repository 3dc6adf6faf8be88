import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys';

/** How often a signalling process writes its heartbeat. */
export const SIGNALLING_HEARTBEAT_MS = 2000;
/**
 * A heartbeat expires this long after it was written. Generous: a process whose heartbeat expired has its
 * calls ended by another one, so only a process stopped for this long (a crash, a hang) may look lost.
 */
export const SIGNALLING_HEARTBEAT_TTL_MS = 10_000;

/**
 * The signalling processes sharing a Redis, for ending the calls of one that died. Each process has an id of
 * its own (new at every start, so a restarted process is another instance), and each heartbeat both records
 * it in a set and keeps its heartbeat key alive (`signalling:instance:<id>`, Redis's clock), so a process
 * that was stalled long enough to be reaped and forgotten is watched again once it beats; a clean stop
 * removes both. An id in the set without a heartbeat is a process that stopped without saying so: one of the live
 * processes claims it (`signalling:reaper:<id>`, SET NX) and ends its calls, then forgets it.
 */
export class SignallingInstanceRegistry {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async heartbeat(instanceId: string, ttlMs: number = SIGNALLING_HEARTBEAT_TTL_MS): Promise<void> {
    await this.#redis.multi().sadd(this.#keys.signallingInstances, instanceId).set(this.#keys.signallingInstance(instanceId), String(Date.now()), 'PX', ttlMs).exec();
  }

  /** True while the instance's heartbeat lasts. */
  async isAlive(instanceId: string): Promise<boolean> {
    return (await this.#redis.exists(this.#keys.signallingInstance(instanceId))) === 1;
  }

  /** The ids recorded whose heartbeat lasts (the signalling processes running now). */
  async live(): Promise<string[]> {
    return (await this.#recorded()).filter((r) => r.beating).map((r) => r.id);
  }

  /** The ids recorded whose heartbeat has expired. */
  async lost(): Promise<string[]> {
    return (await this.#recorded()).filter((r) => !r.beating).map((r) => r.id);
  }

  /** Every recorded id, and whether its heartbeat lasts. */
  async #recorded(): Promise<{ id: string; beating: boolean }[]> {
    const ids = await this.#redis.smembers(this.#keys.signallingInstances);
    if (ids.length === 0) return [];
    const beats = await this.#redis.mget(...ids.map((id) => this.#keys.signallingInstance(id)));
    return ids.map((id, i) => ({ id, beating: beats[i] !== null }));
  }

  /**
   * True when `by` may end the calls of the lost instance `lostId`: no other process claimed it within
   * `ttlMs` (`by` itself may claim it again, e.g. to retry a call it could not end).
   */
  async claim(lostId: string, by: string, ttlMs: number): Promise<boolean> {
    const key = this.#keys.signallingReaper(lostId);
    if ((await this.#redis.set(key, by, 'PX', ttlMs, 'NX')) === 'OK') return true;
    return (await this.#redis.get(key)) === by;
  }

  /**
   * Drops an instance from the set, with its heartbeat and claim: a process stopping cleanly (its calls
   * drained), or a lost one whose calls are all ended.
   */
  async forget(instanceId: string): Promise<void> {
    await this.#redis
      .multi()
      .srem(this.#keys.signallingInstances, instanceId)
      .del(this.#keys.signallingInstance(instanceId), this.#keys.signallingReaper(instanceId))
      .exec();
  }
}
