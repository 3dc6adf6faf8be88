import { useTestRedis } from '@wagw/testing';
import { redisKeys } from './keys';
import { MediaInstanceRegistry } from './media-instance.registry';

const t = useTestRedis('mi');

const registry = (): MediaInstanceRegistry => new MediaInstanceRegistry(t.redis, redisKeys(t.prefix));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('MediaInstanceRegistry on Redis', () => {
  it('counts an instance live while its heartbeat has not expired, and not after it left', async () => {
    const r = registry();
    await r.heartbeat('media-1', 150); // a short expiry, so the test need not wait 3.5 s
    await r.heartbeat('media-2');
    expect(await r.live(['media-1', 'media-2', 'media-3'])).toEqual(['media-1', 'media-2']);
    await until('media-1 heartbeat expired', async () => (await r.live(['media-1', 'media-2'])).length === 1);
    expect(await r.live(['media-1', 'media-2'])).toEqual(['media-2']);
    await r.remove('media-2');
    expect(await r.live(['media-1', 'media-2'])).toEqual([]);
    expect(await r.live([])).toEqual([]);
  });

  it("records a call's instance once: a second assignment gets the first, release deletes the key", async () => {
    const r = registry();
    expect(await r.assign('call_1', 'media-2', 60_000)).toBe('media-2');
    expect(await r.assign('call_1', 'media-1', 60_000)).toBe('media-2');
    expect(await r.instanceOf('call_1')).toBe('media-2');
    expect(await t.redis.pttl(`${t.prefix}:media:call:call_1`)).toBeGreaterThan(50_000);
    await r.release('call_1');
    expect(await r.instanceOf('call_1')).toBeNull();
    expect(await t.redis.keys(`${t.prefix}:media:call:*`)).toEqual([]);
  });

  it('moves a call off a full instance only if it is still there: two legs refused together end up on one instance', async () => {
    const r = registry();
    await r.assign('call_2', 'media-1', 60_000);
    expect(await r.reassign('call_2', 'media-1', 'media-2', 60_000)).toBe('media-2');
    // the other leg, refused by media-1 at the same time, moves no further: it gets where the first went
    expect(await r.reassign('call_2', 'media-1', 'media-3', 60_000)).toBe('media-2');
    expect(await r.instanceOf('call_2')).toBe('media-2');
    expect(await t.redis.pttl(`${t.prefix}:media:call:call_2`)).toBeGreaterThan(50_000);
  });
});

