import { PrefixedRedisClient } from '@wagw/config';

/**
 * Nest's Redis transport client (on this gateway's bus channels, PrefixedRedisClient) with its reply
 * subscriptions kept. ClientRedis subscribes to
 * `<pattern>.reply` when a request finds no subscription for it and unsubscribes when the last pending
 * request of that pattern settles, so at ordinary call rates nearly every media request costs a SUBSCRIBE
 * and an UNSUBSCRIBE round trip, and its PUBLISH waits for the SUBSCRIBE. The media bus has a handful of
 * patterns: each stays subscribed once used (ioredis re-subscribes after a reconnect).
 */
export class MediaBusRedisClient extends PrefixedRedisClient {
  protected override unsubscribeFromChannel(channel: string): void {
    const pending = this.subscriptionsCount.get(channel) ?? 0;
    // never below 1: the channel is still subscribed, so the next request publishes at once
    this.subscriptionsCount.set(channel, Math.max(1, pending - 1));
  }
}
