import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { RedisDedupStore } from './dedup.store';

const REDIS_URL = process.env['TEST_REDIS_URL'];

describe('RedisDedupStore against a real Redis', () => {
  const clients: Redis[] = [];
  const prefix = `test-dedup-${randomUUID()}`;

  beforeAll(async () => {
    if (!REDIS_URL) throw new Error('TEST_REDIS_URL is not set: run with --selectProjects integration');
    for (let i = 0; i < 4; i++) clients.push(new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 }));
    await Promise.all(clients.map((c) => c.connect()));
  });

  afterAll(async () => {
    const [first] = clients;
    if (first) {
      const keys = await first.keys(`${prefix}:*`);
      if (keys.length > 0) await first.del(...keys);
    }
    await Promise.all(clients.map((c) => c.quit()));
  });

  it('grants exactly one of 20 parallel claims of one key made from 4 separate connections', async () => {
    const stores = clients.map((c) => new RedisDedupStore(c, prefix));
    const claims = Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.claim('call:wacid.RACE:connect', 120));
    const results = await Promise.all(claims);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('stores the key under <prefix>:webhooks:seen: with the requested TTL', async () => {
    const store = new RedisDedupStore(clients[0]!, prefix);
    await expect(store.claim('msg:wamid.TTL:status:read', 300)).resolves.toBe(true);
    const ttl = await clients[1]!.ttl(`${prefix}:webhooks:seen:msg:wamid.TTL:status:read`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
  });
});
