import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/**
 * A Lua script run by SHA (EVALSHA), loaded on first use or after a Redis restart (NOSCRIPT). Every key it
 * touches is passed in KEYS, built by `keys.ts`; scripts never build key names.
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
 * Creates a call record unless it exists.
 * KEYS: call hash, active index, [wacall alias]. ARGV: ttlMs, callId, createdAt, field, value, ...
 * Returns {'OK'} | {'EXISTS'} | {'WA_TAKEN', ownerCallId}.
 */
export const CREATE_CALL = new LuaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return {'EXISTS'} end
local alias = KEYS[3]
if alias then
  local owner = redis.call('GET', alias)
  if owner and owner ~= ARGV[2] then return {'WA_TAKEN', owner} end
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
if alias then redis.call('SET', alias, ARGV[2], 'PX', ARGV[1]) end
return {'OK'}
`);

/**
 * Compare-and-set write of a call record, in one step:
 * - refuses unless the stored version equals the expected one; refuses to leave `ended` or to change a
 *   waCallId once set, or to take a waCallId that maps to another call;
 * - HSET the fields, version + 1, updatedAt; PEXPIRE by the (new) state's TTL;
 * - live states: ZADD the active index; `ended`: ZREM it, ZADD the ended index by endedAt and trim that
 *   index by age and size;
 * - the wacall alias follows the record, ended included: the same TTL as the record (so a CDR is found by its
 *   WhatsApp call id for as long as it is kept, and a late connect for it is known).
 * KEYS: call hash, active index, ended index, [wacall alias].
 * ARGV: expectedVersion, nowMs, ttlsJson {state: ms}, endedIndexMax, endedPruneBeforeMs, callId, reply, field, value, ...
 * (reply `hash`: the new hash comes back; `brief`: only 'OK', for a writer that holds the record it wrote on).
 * Returns {'OK', field, value, ...} (the new hash) or {'OK'} | {'NOT_FOUND'} | {'CONFLICT', version}
 *   | {'TERMINAL'} | {'WA_IMMUTABLE', waCallId} | {'WA_TAKEN', ownerCallId} | {'BAD_STATE', state}.
 */
export const UPDATE_CALL = new LuaScript(`
local cur = redis.call('HMGET', KEYS[1], 'version', 'state', 'createdAt', 'waCallId')
if not cur[1] then return {'NOT_FOUND'} end
if cur[1] ~= ARGV[1] then return {'CONFLICT', cur[1]} end
local newState, newWa, endedAt = cur[2], false, false
for i = 8, #ARGV - 1, 2 do
  local f = ARGV[i]
  if f == 'state' then newState = ARGV[i + 1] end
  if f == 'waCallId' then newWa = ARGV[i + 1] end
  if f == 'endedAt' then endedAt = ARGV[i + 1] end
end
if cur[2] == 'ended' and newState ~= 'ended' then return {'TERMINAL'} end
if newWa and cur[4] and cur[4] ~= newWa then return {'WA_IMMUTABLE', cur[4]} end
local ttl = cjson.decode(ARGV[3])[newState]
if not ttl then return {'BAD_STATE', newState} end
local alias = KEYS[4]
if alias and newWa and not cur[4] then
  local owner = redis.call('GET', alias)
  if owner and owner ~= ARGV[6] then return {'WA_TAKEN', owner} end
end
local callId = ARGV[6]
if #ARGV >= 8 then redis.call('HSET', KEYS[1], unpack(ARGV, 8)) end
redis.call('HSET', KEYS[1], 'version', tostring(tonumber(cur[1]) + 1), 'updatedAt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ttl)
if newState == 'ended' then
  redis.call('ZREM', KEYS[2], callId)
  redis.call('ZADD', KEYS[3], endedAt or redis.call('HGET', KEYS[1], 'endedAt') or ARGV[2], callId)
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. ARGV[5])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(tonumber(ARGV[4]) + 1))
else
  redis.call('ZADD', KEYS[2], cur[3], callId)
end
if alias then redis.call('SET', alias, callId, 'PX', ttl) end
if ARGV[7] == 'brief' then return {'OK'} end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'OK')
return out
`);

/**
 * Renews the TTL of a live call's record (and of its media instance and wacall alias keys, where they exist)
 * when less than half of it is left: a call may last longer than the live TTL with no write (Meta sets no
 * maximum duration), and its keys must outlive it. A call ending or ended keeps the TTL its state gave it.
 * KEYS: call hash, media instance of the call, [wacall alias]. ARGV: liveTtlMs.
 * Returns 0 (no live record), 1 (live, TTL left as it was) or 2 (live, TTL renewed).
 */
export const RENEW_LIVE_CALL = new LuaScript(`
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'ending' or state == 'ended' then return 0 end
local ttl = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) >= ttl / 2 then return 1 end
for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ttl) end
return 2
`);
