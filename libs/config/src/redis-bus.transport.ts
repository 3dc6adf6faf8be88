import { ClientRedis, ServerRedis, type MsPattern, type RedisOptions } from '@nestjs/microservices';
import { redisOptionsFromUrl } from './redis-url';

type BusOptions = Required<RedisOptions>['options'];

/**
 * The channel prefix of one gateway's signalling <-> media bus: `<redis.keyPrefix>:`. Redis pub/sub channels
 * are global to the server (not per key or database), so without it two gateways sharing a Redis would each
 * get the other's media requests, replies and events.
 */
export function busChannelPrefix(keyPrefix: string): string {
  return `${keyPrefix}:`;
}

/**
 * The bus's Redis connection options, from the Redis URL, with auto-pipelining: the requests, replies and
 * events one process publishes in one tick leave in one socket write instead of one write each (a write is a
 * system call and a wake-up of Redis; a call's set-up sends about twenty bus messages). Subscribe commands
 * are never pipelined (ioredis leaves them out).
 */
export function busRedisOptions(url: string): BusOptions {
  return { ...redisOptionsFromUrl(url), enableAutoPipelining: true };
}

/**
 * Nest's Redis transport server listening on prefixed channels: every handler's pattern (requests and
 * events) is subscribed as `<prefix><pattern>`; handlers keep their plain patterns and replies go to
 * `<channel>.reply`, where the sender waits.
 */
export class PrefixedRedisServer extends ServerRedis {
  readonly #prefix: string;

  constructor(options: BusOptions, prefix: string) {
    super(options);
    this.#prefix = prefix;
  }

  override bindEvents(subClient: { on(event: string, fn: unknown): void; subscribe(channel: string): unknown }, pubClient: unknown): void {
    subClient.on('message', this.getMessageHandler(pubClient).bind(this));
    for (const pattern of this.messageHandlers.keys()) subClient.subscribe(`${this.#prefix}${pattern}`);
  }

  override getHandlerByPattern(channel: string): ReturnType<ServerRedis['getHandlerByPattern']> {
    return super.getHandlerByPattern(channel.startsWith(this.#prefix) ? channel.slice(this.#prefix.length) : channel);
  }
}

/** Nest's Redis transport client sending requests and events on `<channelPrefix><pattern>` (options.channelPrefix). */
export class PrefixedRedisClient extends ClientRedis {
  readonly #prefix: string;

  constructor(options: BusOptions & { channelPrefix?: string }) {
    const { channelPrefix = '', ...redis } = options;
    super(redis);
    this.#prefix = channelPrefix;
  }

  protected override normalizePattern(pattern: MsPattern): string {
    return `${this.#prefix}${super.normalizePattern(pattern)}`;
  }
}
