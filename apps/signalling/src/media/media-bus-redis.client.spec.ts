import { firstValueFrom } from 'rxjs';
import { MediaBusRedisClient } from './media-bus-redis.client';

/** Fake ioredis pub/sub pair: SUBSCRIBE answers at once; PUBLISH is recorded for the test to reply to. */
function wire(client: MediaBusRedisClient): { subscribed: string[]; unsubscribed: string[]; published: Array<{ channel: string; packet: { id: string } }> } {
  const subscribed: string[] = [];
  const unsubscribed: string[] = [];
  const published: Array<{ channel: string; packet: { id: string } }> = [];
  const internals = client as unknown as Record<string, unknown>;
  internals['subClient'] = {
    subscribe: (channel: string, cb: (err: Error | null) => void) => {
      subscribed.push(channel);
      cb(null);
    },
    unsubscribe: (channel: string) => void unsubscribed.push(channel),
  };
  internals['pubClient'] = { publish: (channel: string, raw: string) => void published.push({ channel, packet: JSON.parse(raw) as { id: string } }) };
  internals['connectionPromise'] = Promise.resolve();
  return { subscribed, unsubscribed, published };
}

async function requestAndReply(client: MediaBusRedisClient, published: Array<{ packet: { id: string } }>, pattern: string): Promise<unknown> {
  const reply = firstValueFrom(client.send(pattern, { v: 1 }));
  await new Promise((r) => setImmediate(r));
  const last = published.at(-1);
  if (!last) throw new Error('nothing published');
  await client.createResponseCallback()(`${pattern}.reply`, JSON.stringify({ id: last.packet.id, response: { ok: true }, isDisposed: true }));
  return reply;
}

describe('MediaBusRedisClient', () => {
  it('subscribes to a reply channel once and keeps it for the following requests', async () => {
    const client = new MediaBusRedisClient({ host: '127.0.0.1', port: 6379 });
    const { subscribed, unsubscribed, published } = wire(client);

    for (let i = 0; i < 3; i++) expect(await requestAndReply(client, published, 'media.wa-leg.create')).toEqual({ ok: true });
    await requestAndReply(client, published, 'media.bridge.start');

    expect(published.map((p) => p.channel)).toEqual(['media.wa-leg.create', 'media.wa-leg.create', 'media.wa-leg.create', 'media.bridge.start']);
    expect(subscribed).toEqual(['media.wa-leg.create.reply', 'media.bridge.start.reply']);
    expect(unsubscribed).toEqual([]);
  });

  it("sends on this gateway's bus channels: requests, and the replies it waits for, under the channel prefix", async () => {
    const client = new MediaBusRedisClient({ host: '127.0.0.1', port: 6379, channelPrefix: 'gw-a:' });
    const { subscribed, published } = wire(client);

    expect(await requestAndReply(client, published, 'media-2/media.wa-leg.create')).toEqual({ ok: true });

    expect(published.map((p) => p.channel)).toEqual(['gw-a:media-2/media.wa-leg.create']);
    expect(subscribed).toEqual(['gw-a:media-2/media.wa-leg.create.reply']);
  });
});
