import type { Redis } from 'ioredis';
import type { RedisKeys } from './keys';

/** How often a media instance writes its heartbeat. */
export const MEDIA_HEARTBEAT_MS = 1000;
/** A heartbeat expires this long after it was written: an instance that stops beating gets no new calls. */
export const MEDIA_HEARTBEAT_TTL_MS = 3500;

/** KEYS[1] the call's record; ARGV from, to, ttlMs: compare-and-set, returns the record after. */
const REASSIGN = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
  return ARGV[2]
end
return cur
`;

/**
 * Which media app instances are alive, and which instance each call's legs are on, when signalling spreads
 * calls over several (`signalling.mediaInstances`). An instance's heartbeat is a key that expires
 * (`media:instance:<id>`, Redis's clock, so the hosts' clocks need not agree); a call's instance is recorded
 * once (`media:call:<callId>`, SET NX) so that every signalling instance, and this one after a restart,
 * sends the call's later requests to the same media instance.
 */
export class MediaInstanceRegistry {
  readonly #redis: Redis;
  readonly #keys: RedisKeys;

  constructor(redis: Redis, keys: RedisKeys) {
    this.#redis = redis;
    this.#keys = keys;
  }

  async heartbeat(instanceId: string, ttlMs: number = MEDIA_HEARTBEAT_TTL_MS): Promise<void> {
    await this.#redis.set(this.#keys.mediaInstance(instanceId), String(Date.now()), 'PX', ttlMs);
  }

  /** An instance shutting down: no new calls for it from now on. */
  async remove(instanceId: string): Promise<void> {
    await this.#redis.del(this.#keys.mediaInstance(instanceId));
  }

  /** Those of `instanceIds` whose heartbeat has not expired. */
  async live(instanceIds: readonly string[]): Promise<string[]> {
    if (instanceIds.length === 0) return [];
    const beats = await this.#redis.mget(...instanceIds.map((id) => this.#keys.mediaInstance(id)));
    return instanceIds.filter((_, i) => beats[i] !== null);
  }

  /** Records `instanceId` as the call's unless it already has one; returns the call's instance either way. */
  async assign(callId: string, instanceId: string, ttlMs: number): Promise<string> {
    const key = this.#keys.mediaOfCall(callId);
    if ((await this.#redis.set(key, instanceId, 'PX', ttlMs, 'NX')) === 'OK') return instanceId;
    return (await this.#redis.get(key)) ?? instanceId;
  }

  /**
   * Moves the call to `to` if it is still recorded on `from` (that instance refused its first leg: full);
   * returns the call's instance after the move, whoever made it (two legs of a call refused together move
   * to the same instance).
   */
  async reassign(callId: string, from: string, to: string, ttlMs: number): Promise<string> {
    const now = (await this.#redis.eval(REASSIGN, 1, this.#keys.mediaOfCall(callId), from, to, ttlMs)) as string | null;
    return now ?? to;
  }

  /** The instance recorded for the call, if any. */
  instanceOf(callId: string): Promise<string | null> {
    return this.#redis.get(this.#keys.mediaOfCall(callId));
  }

  async release(callId: string): Promise<void> {
    await this.#redis.del(this.#keys.mediaOfCall(callId));
  }
}
