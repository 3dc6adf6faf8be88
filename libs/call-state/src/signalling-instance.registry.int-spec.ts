import { useTestRedis } from '@wagw/testing';
import { redisKeys } from './keys';
import { SignallingInstanceRegistry } from './signalling-instance.registry';

const t = useTestRedis('si');

const registry = (): SignallingInstanceRegistry => new SignallingInstanceRegistry(t.redis, redisKeys(t.prefix));

describe('SignallingInstanceRegistry on Redis', () => {
  it('finds an instance lost once its heartbeat expired, not while it beats, and not after it stopped cleanly', async () => {
    const r = registry();
    await r.heartbeat('sig-a', 60_000);
    await r.heartbeat('sig-b', 50);
    await r.heartbeat('sig-c', 60_000);
    expect(await r.lost()).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await r.lost()).toEqual(['sig-b']);
    expect([await r.isAlive('sig-a'), await r.isAlive('sig-b'), await r.isAlive('sig-unknown')]).toEqual([true, false, false]);
    await r.forget('sig-c');
    expect((await r.lost()).sort()).toEqual(['sig-b']);
    expect(await t.redis.keys(`${t.prefix}:signalling:instance:sig-c`)).toEqual([]);
  });

  it('lets one process claim a lost instance, and forgets it with its claim once its calls are ended', async () => {
    const r = registry();
    await r.heartbeat('sig-dead', 1);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const claims = await Promise.all([r.claim('sig-dead', 'sig-1', 60_000), r.claim('sig-dead', 'sig-2', 60_000)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const winner = claims[0] ? 'sig-1' : 'sig-2';
    expect(await r.claim('sig-dead', winner, 60_000)).toBe(true); // again by its claimer (a retry)
    expect(await r.claim('sig-dead', winner === 'sig-1' ? 'sig-2' : 'sig-1', 60_000)).toBe(false);
    await r.forget('sig-dead');
    expect(await r.lost()).toEqual([]);
    expect(await t.redis.keys(`${t.prefix}:*`)).toEqual([]);
    expect(await r.claim('sig-dead', 'sig-2', 60_000)).toBe(true); // a new claim is possible (the process came back and died again)
  });
});
