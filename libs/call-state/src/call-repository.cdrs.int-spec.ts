import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { CallRepository, type EndedCursor } from './call.repository';

/** CDR pages (`listEnded`) on a real Redis: ranges by end time, the cursor across calls ending in one millisecond. */
const T0 = 1_700_000_000_000;

let redis: Redis;
let prefix: string;
let now = T0;
let calls: CallRepository;

beforeAll(() => {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL is not set: run with --selectProjects integration');
  redis = new Redis(url, { maxRetriesPerRequest: 2 });
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(() => {
  prefix = `t-${randomUUID()}`;
  now = T0;
  calls = new CallRepository(redis, { keyPrefix: prefix, now: () => now });
});

afterEach(async () => {
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
});

/** A call that ends at `endedAt`. */
async function endedAt(callId: string, at: number): Promise<void> {
  now = at - 1000;
  await calls.create({ callId, direction: 'inbound', state: 'offered', businessNumber: '15550001111', phoneNumberId: '1', userWaId: '15552223333' });
  now = at;
  await calls.apply(callId, { type: 'wa.terminate', status: 'completed' });
  await calls.apply(callId, { type: 'legs.released' });
}

/** Every page of a query, `limit` at a time (bounded: a cursor that stops moving fails the test). */
async function allPages(limit: number, range: { since?: number; until?: number } = {}): Promise<{ pages: string[][]; cursors: EndedCursor[] }> {
  const pages: string[][] = [];
  const cursors: EndedCursor[] = [];
  let after: EndedCursor | undefined;
  for (let i = 0; i < 50; i++) {
    const page = await calls.listEnded({ ...range, limit, ...(after ? { after } : {}) });
    pages.push(page.records.map((r) => r.callId));
    if (!page.next) return { pages, cursors };
    cursors.push(page.next);
    after = page.next;
  }
  throw new Error('more than 50 pages: the cursor does not advance');
}

describe('CallRepository.listEnded', () => {
  it('pages through CDRs oldest first; calls ending in the same millisecond are neither skipped nor repeated', async () => {
    await endedAt('call_b', T0 + 2000);
    await endedAt('call_a', T0 + 1000);
    await endedAt('call_d', T0 + 3000);
    await endedAt('call_c', T0 + 3000);
    await endedAt('call_e', T0 + 3000);
    await endedAt('call_f', T0 + 4000);

    const { pages, cursors } = await allPages(2);
    expect(pages).toEqual([['call_a', 'call_b'], ['call_c', 'call_d'], ['call_e', 'call_f']]);
    expect(cursors).toEqual([{ endedAt: T0 + 2000, callId: 'call_b' }, { endedAt: T0 + 3000, callId: 'call_d' }]);
    // a cursor inside a millisecond's group, one at a time
    expect((await allPages(1)).pages.flat()).toEqual(['call_a', 'call_b', 'call_c', 'call_d', 'call_e', 'call_f']);
    // the records are the CDRs themselves
    const first = await calls.listEnded({ limit: 1 });
    expect(first.records[0]).toMatchObject({ callId: 'call_a', state: 'ended', endedAt: T0 + 1000, endedBy: 'wa' });
  });

  it('keeps to since (inclusive) and until (exclusive), also when a cursor is given', async () => {
    for (const [id, at] of [['call_1', 1000], ['call_2', 2000], ['call_3', 3000], ['call_4', 4000]] as const) await endedAt(id, T0 + at);
    expect((await allPages(10, { since: T0 + 2000, until: T0 + 4000 })).pages).toEqual([['call_2', 'call_3']]);
    expect((await allPages(1, { since: T0 + 2000, until: T0 + 4000 })).pages.flat()).toEqual(['call_2', 'call_3']);
    expect((await calls.listEnded({ since: T0 + 5000, limit: 10 })).records).toEqual([]);
    // a cursor from before `since` does not reach back past it
    expect((await calls.listEnded({ since: T0 + 3000, after: { endedAt: T0 + 1000, callId: 'call_1' }, limit: 10 })).records.map((r) => r.callId)).toEqual(['call_3', 'call_4']);
    // windows [since, until) that touch give every CDR once
    const a = (await allPages(10, { until: T0 + 2500 })).pages.flat();
    const b = (await allPages(10, { since: T0 + 2500 })).pages.flat();
    expect([...a, ...b]).toEqual(['call_1', 'call_2', 'call_3', 'call_4']);
  });

  it('leaves out a CDR whose record expired, and drops it from the index', async () => {
    await endedAt('call_x', T0 + 1000);
    await endedAt('call_y', T0 + 2000);
    await redis.del(calls.keys.call('call_x'));
    const page = await calls.listEnded({ limit: 10 });
    expect(page.records.map((r) => r.callId)).toEqual(['call_y']);
    expect(page.next).toBeUndefined();
    expect(await redis.zrange(calls.keys.endedCalls, 0, -1)).toEqual(['call_y']);
  });

  it('refuses a limit that is not a positive integer', async () => {
    await expect(calls.listEnded({ limit: 0 })).rejects.toThrow(TypeError);
    await expect(calls.listEnded({ limit: 1.5 })).rejects.toThrow(TypeError);
  });
});
