import type Redis from 'ioredis';
import type { Logger } from '@wagw/logging';

/**
 * Channel limits per trunk (`maxCalls`, call admission control): how many calls the gateway keeps on a trunk
 * at once, both directions, across every signalling instance sharing the Redis. A PBX admin sets it to the
 * channels the trunk is licensed or sized for; a call over it is refused at once instead of ringing into a
 * PBX that answers 503 (or worse, degrades every call on it).
 *
 * A channel is one SIP leg on the trunk (an INVITE we send, from the first attempt until it fails or its call
 * ends; an INVITE the PBX sends us, from its arrival until its leg ends), so a transfer through the trunk
 * holds two while it is under way, as it does on the PBX. Each trunk's channels are a sorted set in Redis
 * (`<prefix>:trunk:<name>:channels`, member the leg's SIP Call-ID, score its lease deadline on Redis's clock):
 * taking one is atomic (Lua: drop expired leases, count, add), and every instance renews the leases of the
 * channels it holds, so a channel of an instance that crashed frees itself when its lease runs out
 * (`leaseMs`, 60 s by default) rather than never. The key goes with its last member.
 */
export interface TrunkChannelsOptions {
  redis: Redis;
  keyPrefix: string;
  logger: Logger;
  /** A held channel's lease (renewed every third of it while held). Default 60 s. */
  leaseMs?: number;
}

/** What a trunk's limit needs of the trunk's config. */
export interface LimitedTrunk {
  name: string;
  /** Channels at most (0: no limit, nothing is counted). */
  maxCalls: number;
}

export type ChannelGrant = { granted: true; inUse: number } | { granted: false; inUse: number };

/** Which way the refused call went: toward the PBX (our INVITE) or from it (its INVITE). */
export type ChannelDirection = 'to-pbx' | 'from-pbx';

/** A limited trunk's channels for metrics and the API. */
export interface TrunkChannelState {
  trunk: string;
  maxCalls: number;
  /** In use now by every instance (null: Redis did not answer). */
  inUse: number | null;
  /** Calls refused for want of a channel by this instance since start, by direction. */
  refused: Record<ChannelDirection, number>;
}

export const DEFAULT_CHANNEL_LEASE_MS = 60_000;

/** KEYS[1] the trunk's set; ARGV max, member, leaseMs. Returns {granted 0/1, in use after}. */
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local n = redis.call('ZCARD', KEYS[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  if n >= tonumber(ARGV[1]) then return {0, n} end
  n = n + 1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 2)
return {1, n}
`;

/** KEYS[1] the trunk's set; ARGV leaseMs, members...: pushes the leases of members still there. */
const RENEW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2) end
return 1
`;

/** KEYS[1] the trunk's set: live channels (expired leases dropped first). */
const COUNT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
`;

export function trunkChannelsKey(keyPrefix: string, trunk: string): string {
  return `${keyPrefix}:trunk:${trunk}:channels`;
}

export class TrunkChannels {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #log: Logger;
  readonly #leaseMs: number;
  /** Channels this instance holds, by trunk name. */
  readonly #held = new Map<string, Set<string>>();
  readonly #refused = new Map<string, Record<ChannelDirection, number>>();
  #renewTimer: NodeJS.Timeout | undefined;

  constructor(options: TrunkChannelsOptions) {
    this.#redis = options.redis;
    this.#prefix = options.keyPrefix;
    this.#log = options.logger;
    this.#leaseMs = options.leaseMs ?? DEFAULT_CHANNEL_LEASE_MS;
  }

  /** Channels this instance holds now (all trunks). */
  get held(): number {
    let n = 0;
    for (const s of this.#held.values()) n += s.size;
    return n;
  }

  /**
   * Takes a channel on `trunk` for the leg `member` (its SIP Call-ID; taking it again renews it). Always
   * granted on a trunk without a limit. When Redis cannot be asked, the call goes ahead (logged): the limit
   * protects the PBX, it must not stop calls on its own.
   */
  async acquire(trunk: LimitedTrunk, member: string, direction: ChannelDirection): Promise<ChannelGrant> {
    if (trunk.maxCalls <= 0) return { granted: true, inUse: 0 };
    let reply: [number, number];
    try {
      reply = (await this.#redis.eval(ACQUIRE, 1, trunkChannelsKey(this.#prefix, trunk.name), trunk.maxCalls, member, this.#leaseMs)) as [number, number];
    } catch (err) {
      this.#log.warn({ err, trunk: trunk.name }, 'trunk channel limit not checked (Redis): the call goes ahead');
      return { granted: true, inUse: 0 };
    }
    const [granted, inUse] = reply;
    if (granted !== 1) {
      const refused = this.#refused.get(trunk.name) ?? { 'to-pbx': 0, 'from-pbx': 0 };
      refused[direction]++;
      this.#refused.set(trunk.name, refused);
      return { granted: false, inUse };
    }
    let set = this.#held.get(trunk.name);
    if (!set) this.#held.set(trunk.name, (set = new Set()));
    set.add(member);
    this.#scheduleRenewal();
    return { granted: true, inUse };
  }

  /** Frees the leg's channel (idempotent; nothing for a trunk without a limit or a channel never taken). */
  async release(trunkName: string, member: string): Promise<void> {
    const set = this.#held.get(trunkName);
    if (!set?.delete(member)) return;
    if (set.size === 0) this.#held.delete(trunkName);
    if (this.#held.size === 0) this.#stopRenewal();
    await this.#redis.zrem(trunkChannelsKey(this.#prefix, trunkName), member).catch((err: unknown) => {
      this.#log.warn({ err, trunk: trunkName }, 'trunk channel not released in Redis (its lease runs out)');
    });
  }

  /** Channels in use on the trunk now, by every instance. */
  async inUse(trunkName: string): Promise<number> {
    return Number(await this.#redis.eval(COUNT, 1, trunkChannelsKey(this.#prefix, trunkName)));
  }

  /** Each limited trunk's limit, channels in use (all instances) and refusals (this instance). */
  async snapshot(trunks: readonly LimitedTrunk[]): Promise<TrunkChannelState[]> {
    return Promise.all(
      trunks
        .filter((t) => t.maxCalls > 0)
        .map(async (t) => ({
          trunk: t.name,
          maxCalls: t.maxCalls,
          inUse: await this.inUse(t.name).catch(() => null),
          refused: { ...(this.#refused.get(t.name) ?? { 'to-pbx': 0, 'from-pbx': 0 }) },
        })),
    );
  }

  /** Renews the leases of every channel held now (the timer does it every third of a lease). */
  async renew(): Promise<void> {
    await Promise.all(
      [...this.#held].map(([trunk, members]) =>
        this.#redis.eval(RENEW, 1, trunkChannelsKey(this.#prefix, trunk), this.#leaseMs, ...members).catch((err: unknown) => {
          this.#log.warn({ err, trunk }, 'trunk channel leases not renewed');
        }),
      ),
    );
  }

  /** Stops renewing (shutdown); channels still held expire with their lease. */
  close(): void {
    this.#stopRenewal();
  }

  onApplicationShutdown(): void {
    this.close();
  }

  #scheduleRenewal(): void {
    if (this.#renewTimer) return;
    this.#renewTimer = setInterval(() => void this.renew(), Math.max(1000, Math.floor(this.#leaseMs / 3)));
    this.#renewTimer.unref();
  }

  #stopRenewal(): void {
    if (this.#renewTimer) clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
  }
}
