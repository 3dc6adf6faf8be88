import { LuaScript } from '@wagw/call-state';

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
