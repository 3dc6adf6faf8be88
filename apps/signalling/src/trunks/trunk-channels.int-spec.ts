import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { silentLogger } from '@wagw/logging';
import { TrunkChannels, trunkChannelsKey } from './trunk-channels';

let redis: Redis;
let prefix: string;
const opened: TrunkChannels[] = [];

beforeAll(() => {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL is not set: run with --selectProjects integration');
  redis = new Redis(url);
});

beforeEach(() => {
  prefix = `tc${randomUUID().slice(0, 8)}`;
});

afterEach(async () => {
  for (const c of opened.splice(0)) c.close();
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
});

afterAll(async () => {
  await redis.quit();
});

/** One signalling instance's view (several share the Redis). */
const instance = (leaseMs?: number): TrunkChannels => {
  const c = new TrunkChannels({ redis, keyPrefix: prefix, logger: silentLogger(), ...(leaseMs ? { leaseMs } : {}) });
  opened.push(c);
  return c;
};

const pbx = { name: 'pbx', maxCalls: 2 };

describe('TrunkChannels on Redis', () => {
  it('grants up to maxCalls channels across instances, refuses the next, and frees one on release', async () => {
    const a = instance();
    const b = instance();
    expect(await a.acquire(pbx, 'call-1@x', 'to-pbx')).toEqual({ granted: true, inUse: 1 });
    expect(await b.acquire(pbx, 'call-2@x', 'from-pbx')).toEqual({ granted: true, inUse: 2 });
    expect(await a.acquire(pbx, 'call-3@x', 'to-pbx')).toEqual({ granted: false, inUse: 2 });
    expect(await b.acquire(pbx, 'call-4@x', 'from-pbx')).toEqual({ granted: false, inUse: 2 });
    expect(await a.inUse('pbx')).toBe(2);

    await b.release('pbx', 'call-2@x');
    expect(await a.acquire(pbx, 'call-3@x', 'to-pbx')).toEqual({ granted: true, inUse: 2 });
    expect(await a.snapshot([pbx, { name: 'open', maxCalls: 0 }])).toEqual([{ trunk: 'pbx', maxCalls: 2, inUse: 2, refused: { 'to-pbx': 1, 'from-pbx': 0 } }]);
    expect((await b.snapshot([pbx]))[0]?.refused).toEqual({ 'to-pbx': 0, 'from-pbx': 1 });
  });

  it('takes the same leg twice as one channel, and a release of a channel never taken changes nothing', async () => {
    const a = instance();
    await a.acquire(pbx, 'call-1@x', 'to-pbx');
    expect(await a.acquire(pbx, 'call-1@x', 'to-pbx')).toEqual({ granted: true, inUse: 1 });
    await a.release('pbx', 'call-9@x');
    expect(await a.inUse('pbx')).toBe(1);
    expect(a.held).toBe(1);
  });

  it('counts nothing on a trunk without a limit and leaves no key behind once every channel is released', async () => {
    const a = instance();
    expect(await a.acquire({ name: 'open', maxCalls: 0 }, 'call-1@x', 'to-pbx')).toEqual({ granted: true, inUse: 0 });
    expect(await redis.exists(trunkChannelsKey(prefix, 'open'))).toBe(0);
    await a.acquire(pbx, 'call-2@x', 'to-pbx');
    expect(await redis.exists(trunkChannelsKey(prefix, 'pbx'))).toBe(1);
    await a.release('pbx', 'call-2@x');
    expect(await redis.exists(trunkChannelsKey(prefix, 'pbx'))).toBe(0);
    expect(a.held).toBe(0);
  });

  it('frees the channels of an instance that stopped renewing (a crash) when their lease runs out, and keeps renewed ones', async () => {
    const crashed = instance(1500);
    const alive = instance(1500);
    await crashed.acquire(pbx, 'call-1@x', 'to-pbx');
    await alive.acquire(pbx, 'call-2@x', 'to-pbx');
    crashed.close(); // no more renewals, its channel stays in Redis until its lease ends
    expect(await alive.acquire(pbx, 'call-3@x', 'to-pbx')).toMatchObject({ granted: false });
    // the live instance renews every third of the lease (500 ms): its channel outlives the lease, the other does not
    await new Promise((r) => setTimeout(r, 2200));
    expect(await alive.inUse('pbx')).toBe(1);
    expect(await alive.acquire(pbx, 'call-3@x', 'to-pbx')).toEqual({ granted: true, inUse: 2 });
  });

  it('lets the call go ahead when Redis cannot be asked', async () => {
    const broken = new Redis({ port: 1, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    const c = new TrunkChannels({ redis: broken, keyPrefix: prefix, logger: silentLogger() });
    expect(await c.acquire(pbx, 'call-1@x', 'to-pbx')).toEqual({ granted: true, inUse: 0 });
    expect(await c.snapshot([pbx])).toEqual([{ trunk: 'pbx', maxCalls: 2, inUse: null, refused: { 'to-pbx': 0, 'from-pbx': 0 } }]);
    broken.disconnect();
  });
});
