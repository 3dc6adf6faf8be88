import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by SHA (EVALSHA), loaded on first use or after a Redis restart (NOSCRIPT). Every key it
 * touches is passed in KEYS (built by `redisKeys` of @wagw/call-state); scripts never build key names.
 */
export class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

/**
 * Compare-and-set replacement of a permission record, in one step: refuses unless the stored version (0 for
 * a missing hash) equals the expected one; replaces the whole hash with the given fields plus version + 1;
 * sets the TTL (ms) or, for a TTL of 0, leaves the record without expiry.
 * KEYS: permission hash. ARGV: expectedVersion, ttlMs, field, value, ...
 * Returns {'OK', newVersion} | {'CONFLICT', storedVersion}.
 */
export const REPLACE_PERMISSION = new LuaScript(`
local cur = redis.call('HGET', KEYS[1], 'version') or '0'
if cur ~= ARGV[1] then return {'CONFLICT', cur} end
local ver = tostring(tonumber(cur) + 1)
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'version', ver, unpack(ARGV, 3))
local ttl = tonumber(ARGV[2])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
return {'OK', ver}
`);
