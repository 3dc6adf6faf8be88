import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys';

/** How often a media instance writes its heartbeat. */
export const MEDIA_HEARTBEAT_MS = 1000;
/** A media instance whose last heartbeat is older than this is not given new calls. */
export const MEDIA_LIVE_WITHIN_MS = 3500;
/** Heartbeats of instances gone this long are dropped from the index (by the live ones' heartbeats). */
const FORGET_AFTER_MS = 86_400_000;

/**
 * Which media app instances are alive, and which instance each call's legs are on, when signalling spreads
 * calls over several (`signalling.mediaInstances`). Instances write a heartbeat (`media:instances`, scored
 * by time); a call's instance is recorded once (`media:call:<callId>`, SET NX) so that every signalling
 * instance, and this one after a restart, sends the call's later requests to the same media instance.
 */
export class MediaInstanceRegistry {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;
  readonly #now: () => number;

  constructor(redis: Redis, keys: RedisKeys, now: () => number = Date.now) {
    this.#redis = redis;
    this.#keys = keys;
    this.#now = now;
  }

  async heartbeat(instanceId: string): Promise<void> {
    const now = this.#now();
    await this.#redis
      .multi()
      .zadd(this.#keys.mediaInstances, now, instanceId)
      .zremrangebyscore(this.#keys.mediaInstances, '-inf', now - FORGET_AFTER_MS)
      .exec();
  }

  /** An instance shutting down: no new calls for it from now on. */
  async remove(instanceId: string): Promise<void> {
    await this.#redis.zrem(this.#keys.mediaInstances, instanceId);
  }

  /** Instances with a heartbeat within `withinMs`, in no particular order. */
  live(withinMs: number = MEDIA_LIVE_WITHIN_MS): Promise<string[]> {
    return this.#redis.zrangebyscore(this.#keys.mediaInstances, this.#now() - withinMs, '+inf');
  }

  /** Records `instanceId` as the call's unless it already has one; returns the call's instance either way. */
  async assign(callId: string, instanceId: string, ttlMs: number): Promise<string> {
    const key = this.#keys.mediaOfCall(callId);
    if ((await this.#redis.set(key, instanceId, 'PX', ttlMs, 'NX')) === 'OK') return instanceId;
    return (await this.#redis.get(key)) ?? instanceId;
  }

  /** The instance recorded for the call, if any. */
  instanceOf(callId: string): Promise<string | null> {
    return this.#redis.get(this.#keys.mediaOfCall(callId));
  }

  async release(callId: string): Promise<void> {
    await this.#redis.del(this.#keys.mediaOfCall(callId));
  }
}
