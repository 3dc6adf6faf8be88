import { silentLogger, type Logger } from '@wagw/logging';
import { MediaRouter, rankFirst, type MediaInstanceDirectory } from './media-router';

/** In-memory directory with the registry's semantics (assign is first-wins), counting reads of the live set. */
class FakeDirectory implements MediaInstanceDirectory {
  liveIds: string[] = [];
  liveReads = 0;
  readonly assigned = new Map<string, string>();
  assignCalls = 0;
  async live(ids: readonly string[]): Promise<string[]> {
    this.liveReads++;
    return ids.filter((id) => this.liveIds.includes(id));
  }
  async assign(callId: string, instanceId: string): Promise<string> {
    this.assignCalls++;
    await Promise.resolve();
    if (!this.assigned.has(callId)) this.assigned.set(callId, instanceId);
    return this.assigned.get(callId) as string;
  }
  async reassign(callId: string, from: string, to: string): Promise<string> {
    await Promise.resolve();
    const cur = this.assigned.get(callId);
    if (cur === undefined || cur === from) this.assigned.set(callId, to);
    return this.assigned.get(callId) as string;
  }
  async instanceOf(callId: string): Promise<string | null> {
    return this.assigned.get(callId) ?? null;
  }
  async release(callId: string): Promise<void> {
    this.assigned.delete(callId);
  }
}

function errorsOf(): { logger: Logger; errors: string[] } {
  const errors: string[] = [];
  const base = silentLogger();
  const logger = Object.assign(Object.create(base) as Logger, {
    error: (_obj: unknown, msg?: string) => void errors.push(String(msg)),
    warn: (_obj: unknown, msg?: string) => void errors.push(String(msg)),
  });
  return { logger, errors };
}

function router(dir: FakeDirectory, instances: string[], now = () => 0, logger: Logger = silentLogger()): MediaRouter {
  return new MediaRouter({ instances, directory: dir, logger, assignmentTtlMs: 60_000, now });
}

describe('rankFirst', () => {
  it('spreads calls evenly and moves only the calls of an instance that goes away', () => {
    const all = ['media-1', 'media-2', 'media-3'];
    const calls = Array.from({ length: 3000 }, (_, i) => `call_${i}`);
    const counts = new Map<string, number>();
    for (const c of calls) counts.set(rankFirst(c, all), (counts.get(rankFirst(c, all)) ?? 0) + 1);
    for (const id of all) expect(counts.get(id)).toBeGreaterThan(850); // 1,000 expected each
    const moved = calls.filter((c) => rankFirst(c, all) !== 'media-3' && rankFirst(c, all) !== rankFirst(c, ['media-1', 'media-2']));
    expect(moved).toEqual([]);
  });
});

describe('MediaRouter', () => {
  it('puts both legs of a call asked for at once on one instance, recorded once', async () => {
    const dir = new FakeDirectory();
    dir.liveIds = ['media-1', 'media-2'];
    const r = router(dir, ['media-1', 'media-2']);
    const [a, b] = await Promise.all([r.forNewLeg('call_x'), r.forNewLeg('call_x')]);
    expect(a).toBe(b);
    expect(dir.assignCalls).toBe(1);
    expect(dir.assigned.get('call_x')).toBe(a);
    expect(await r.forCall('call_x')).toBe(a);
  });

  it('gives new calls only to live instances, and keeps an existing call on its instance', async () => {
    const dir = new FakeDirectory();
    dir.liveIds = ['media-1', 'media-2'];
    let clock = 0;
    const r = router(dir, ['media-1', 'media-2'], () => clock);
    const calls = Array.from({ length: 40 }, (_, i) => `call_${i}`);
    const first = await Promise.all(calls.map((c) => r.forNewLeg(c)));
    expect(new Set(first)).toEqual(new Set(['media-1', 'media-2']));
    dir.liveIds = ['media-1']; // media-2 stops beating
    clock += 1000;
    const later = await Promise.all(calls.map((c) => r.forNewLeg(`${c}-b`)));
    expect(new Set(later)).toEqual(new Set(['media-1']));
    // a call already on media-2 stays there (its legs are there)
    const onTwo = calls[first.indexOf('media-2')] as string;
    expect(await r.forCall(onTwo)).toBe('media-2');
  });

  it('reads the live set at most once per cache period', async () => {
    const dir = new FakeDirectory();
    dir.liveIds = ['media-1'];
    let clock = 0;
    const r = router(dir, ['media-1'], () => clock);
    await Promise.all(Array.from({ length: 20 }, (_, i) => r.forNewLeg(`c${i}`)));
    expect(dir.liveReads).toBe(1);
    clock += 1000;
    await r.forNewLeg('c-next');
    expect(dir.liveReads).toBe(2);
  });

  it('finds a call made by another signalling instance through the directory, and forgets it on release', async () => {
    const dir = new FakeDirectory();
    dir.liveIds = ['media-1', 'media-2'];
    dir.assigned.set('call_other', 'media-2');
    const r = router(dir, ['media-1', 'media-2']);
    expect(await r.forCall('call_other')).toBe('media-2');
    await r.release('call_other');
    expect(dir.assigned.has('call_other')).toBe(false);
  });

  it('with no live instance, says so and still routes to a listed one (whose requests then fail by deadline)', async () => {
    const dir = new FakeDirectory();
    const { logger, errors } = errorsOf();
    const r = router(dir, ['media-1', 'media-2'], () => 0, logger);
    expect(['media-1', 'media-2']).toContain(await r.forNewLeg('call_y'));
    expect(errors.some((m) => m.includes('no media instance has a recent heartbeat'))).toBe(true);
  });

  it('does not send a call to an instance that is no longer listed', async () => {
    const dir = new FakeDirectory();
    dir.liveIds = ['media-1', 'old'];
    dir.assigned.set('call_z', 'old');
    const { logger, errors } = errorsOf();
    const r = router(dir, ['media-1'], () => 0, logger);
    expect(await r.forCall('call_z')).toBe('media-1');
    expect(errors.some((m) => m.includes('not in signalling.mediaInstances'))).toBe(true);
  });

  it('forgets a failed assignment, so the next request tries again', async () => {
    const dir = new FakeDirectory();
    dir.liveIds = ['media-1'];
    const failing = Object.assign(Object.create(dir) as FakeDirectory, { assign: () => Promise.reject(new Error('redis down')) });
    const r = router(failing, ['media-1']);
    await expect(r.forNewLeg('call_f')).rejects.toThrow('redis down');
    Object.assign(failing, { assign: FakeDirectory.prototype.assign.bind(dir) });
    await expect(r.forNewLeg('call_f')).resolves.toBe('media-1');
  });

  it('moves a call refused by a full instance to the next one, keeps new calls off the full one for a while, and gives up when all are full', async () => {
    const dir = new FakeDirectory();
    dir.liveIds = ['media-1', 'media-2', 'media-3'];
    let now = 0;
    const r = router(dir, ['media-1', 'media-2', 'media-3'], () => now);
    const first = await r.forNewLeg('call_x');
    // both legs of the call refused together: they move to the same instance
    const [a, b] = await Promise.all([r.moveFromFull('call_x', first), r.moveFromFull('call_x', first)]);
    expect(a).toBe(b);
    expect(a).not.toBe(first);
    expect(await r.forCall('call_x')).toBe(a);
    expect(dir.assigned.get('call_x')).toBe(a);
    // for the next second no new call goes to the full one
    for (let i = 0; i < 30; i++) expect(await r.forNewLeg(`call_${i}`)).not.toBe(first);
    expect(await r.moveFromFull('call_y', a as string)).toBe(['media-1', 'media-2', 'media-3'].find((id) => id !== first && id !== a));
    const last = (await r.forCall('call_y')) as string;
    expect(await r.moveFromFull('call_z', last)).toBeNull(); // every instance refused: nowhere to go
    now += 1001; // the marks lapse: instances take new calls again
    expect(await r.moveFromFull('call_w', 'media-1')).not.toBe('media-1');
  });
});
