import { InMemoryDedupStore, RedisDedupStore, type RedisSetNxPort } from './dedup.store';

describe('InMemoryDedupStore', () => {
  it('grants exactly one of 20 concurrent claims of one key', async () => {
    const store = new InMemoryDedupStore();
    const results = await Promise.all(Array.from({ length: 20 }, () => store.claim('call:wacid.X:connect', 60)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('keeps different keys independent', async () => {
    const store = new InMemoryDedupStore();
    await expect(store.claim('a', 60)).resolves.toBe(true);
    await expect(store.claim('b', 60)).resolves.toBe(true);
    await expect(store.claim('a', 60)).resolves.toBe(false);
  });

  it('grants the key again once its TTL has passed', async () => {
    let now = 1_000_000;
    const store = new InMemoryDedupStore({ now: () => now });
    await expect(store.claim('k', 10)).resolves.toBe(true);
    now += 9_999;
    await expect(store.claim('k', 10)).resolves.toBe(false);
    now += 1;
    await expect(store.claim('k', 10)).resolves.toBe(true);
    expect(store.size).toBe(1);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a TTL of %p seconds', async (ttl) => {
    await expect(new InMemoryDedupStore().claim('k', ttl)).rejects.toThrow(RangeError);
  });
});

describe('RedisDedupStore', () => {
  class FakeRedis implements RedisSetNxPort {
    readonly calls: unknown[][] = [];
    readonly held = new Set<string>();
    async set(key: string, value: string, ex: 'EX', seconds: number, nx: 'NX'): Promise<'OK' | null> {
      this.calls.push([key, value, ex, seconds, nx]);
      if (this.held.has(key)) return null;
      this.held.add(key);
      return 'OK';
    }
  }

  it('issues SET <prefix>:webhooks:seen:<key> 1 EX <ttl> NX and maps OK to true', async () => {
    const redis = new FakeRedis();
    const store = new RedisDedupStore(redis, 'wagw');
    await expect(store.claim('call:wacid.A:connect', 86400)).resolves.toBe(true);
    expect(redis.calls).toEqual([['wagw:webhooks:seen:call:wacid.A:connect', '1', 'EX', 86400, 'NX']]);
  });

  it('maps a null reply (key already set) to false', async () => {
    const redis = new FakeRedis();
    const store = new RedisDedupStore(redis, 'wagw');
    await store.claim('k', 60);
    await expect(store.claim('k', 60)).resolves.toBe(false);
  });

  it('refuses a non-positive TTL without touching Redis', async () => {
    const redis = new FakeRedis();
    await expect(new RedisDedupStore(redis, 'wagw').claim('k', 0)).rejects.toThrow(RangeError);
    expect(redis.calls).toHaveLength(0);
  });
});
