import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { redisKeys } from './keys';
import { MEDIA_LIVE_WITHIN_MS, MediaInstanceRegistry } from './media-instance.registry';

let redis: Redis;
let prefix: string;
let clock: number;

beforeAll(() => {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL is not set: run with --selectProjects integration');
  redis = new Redis(url);
});

beforeEach(() => {
  prefix = `mi${randomUUID().slice(0, 8)}`;
  clock = 1_800_000_000_000;
});

afterEach(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
});

afterAll(async () => {
  await redis.quit();
});

const registry = (): MediaInstanceRegistry => new MediaInstanceRegistry(redis, redisKeys(prefix), () => clock);

describe('MediaInstanceRegistry on Redis', () => {
  it('counts an instance live until its heartbeat is older than the allowance, and not after it left', async () => {
    const r = registry();
    await r.heartbeat('media-1');
    clock += 1000;
    await r.heartbeat('media-2');
    expect((await r.live()).sort()).toEqual(['media-1', 'media-2']);
    clock += MEDIA_LIVE_WITHIN_MS - 500; // media-1's beat is now 500 ms past the allowance
    expect(await r.live()).toEqual(['media-2']);
    await r.remove('media-2');
    expect(await r.live()).toEqual([]);
  });

  it("records a call's instance once: a second assignment gets the first, release deletes the key", async () => {
    const r = registry();
    expect(await r.assign('call_1', 'media-2', 60_000)).toBe('media-2');
    expect(await r.assign('call_1', 'media-1', 60_000)).toBe('media-2');
    expect(await r.instanceOf('call_1')).toBe('media-2');
    expect(await redis.pttl(`${prefix}:media:call:call_1`)).toBeGreaterThan(50_000);
    await r.release('call_1');
    expect(await r.instanceOf('call_1')).toBeNull();
    expect(await redis.keys(`${prefix}:media:call:*`)).toEqual([]);
  });

  it('drops the heartbeat of an instance gone for a day', async () => {
    const r = registry();
    await r.heartbeat('old');
    clock += 86_400_001;
    await r.heartbeat('media-1');
    expect(await redis.zrange(`${prefix}:media:instances`, 0, -1)).toEqual(['media-1']);
  });
});
