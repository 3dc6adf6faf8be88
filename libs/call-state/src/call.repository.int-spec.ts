import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { CallExistsError, CallNotFoundError, InvalidStateError, InvalidTransitionError, VersionConflictError, WaCallIdConflictError } from './call-state.errors';
import type { NewCallRecord } from './call-record.types';
import { CallRepository, type CallRepositoryOptions } from './call.repository';
import { LuaScript } from './call-repository.scripts';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function redisUrl(): string {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL is not set: run with --selectProjects integration');
  return url;
}

let redis: Redis;
let prefix: string;

function repo(options: Partial<CallRepositoryOptions> = {}): CallRepository {
  return new CallRepository(redis, { keyPrefix: prefix, ...options });
}

function inbound(callId: string, extra: Partial<NewCallRecord> = {}): NewCallRecord {
  return {
    callId,
    direction: 'inbound',
    state: 'offered',
    businessNumber: '15550001111',
    phoneNumberId: '100000000000001',
    userWaId: '15552223333',
    userName: 'Jane',
    ...extra,
  };
}

/** Every key under this test's prefix (SCAN, bounded by the cursor returning to 0). */
async function keysUnderPrefix(): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    found.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return found.sort();
}

beforeAll(() => {
  redis = new Redis(redisUrl(), { lazyConnect: false, maxRetriesPerRequest: 2 });
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(() => {
  prefix = `t-${randomUUID()}`;
});

afterEach(async () => {
  const keys = await keysUnderPrefix();
  if (keys.length > 0) await redis.del(...keys);
});

describe('CallRepository on a real Redis', () => {
  it('create then get returns the same record at version 0, and a second create of the id fails', async () => {
    const calls = repo({ now: () => 1_700_000_000_000 });
    const created = await calls.create(inbound('call_a', { waCallId: 'wacid.A' }));
    expect(created).toMatchObject({ callId: 'call_a', state: 'offered', version: 0, createdAt: 1_700_000_000_000, waCallId: 'wacid.A' });
    expect(await calls.get('call_a')).toEqual(created);
    expect(await calls.getByWaCallId('wacid.A')).toEqual(created);
    await expect(calls.create(inbound('call_a'))).rejects.toBeInstanceOf(CallExistsError);
    expect(await calls.get('call_missing')).toBeNull();
  });

  it("create writes the process's signalling instance id on the record as its owner", async () => {
    const created = await repo({ instanceId: 'sig-host-a1b2c3' }).create(inbound('call_owned'));
    expect(created.signallingInstance).toBe('sig-host-a1b2c3');
    expect(await repo().get('call_owned')).toMatchObject({ signallingInstance: 'sig-host-a1b2c3' });
    expect((await repo().create(inbound('call_unowned'))).signallingInstance).toBeUndefined();
  });

  it('create refuses a state the direction cannot start in', async () => {
    await expect(repo().create(inbound('call_b', { state: 'active' }))).rejects.toBeInstanceOf(InvalidStateError);
    expect(await keysUnderPrefix()).toEqual([]);
  });

  it('of two writers with the same expected version exactly one wins', async () => {
    const calls = repo();
    await calls.create(inbound('call_c'));
    const results = await Promise.allSettled([
      calls.update('call_c', 0, { destination: 'sip:100@pbx' }),
      calls.update('call_c', 0, { destination: 'sip:200@pbx' }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toBeInstanceOf(VersionConflictError);
    const stored = await calls.get('call_c');
    expect(stored?.version).toBe(1);
    expect(stored?.destination).toBe((won[0] as PromiseFulfilledResult<{ destination?: string }>).value.destination);
  });

  it('20 concurrent applies of one event apply it exactly once', async () => {
    const calls = repo();
    await calls.create(inbound('call_d'));
    const results = await Promise.all(
      Array.from({ length: 20 }, () => calls.apply('call_d', { type: 'hangup.requested', by: 'api', cause: 'agent hung up' })),
    );
    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'ignored')).toHaveLength(19);
    const stored = await calls.get('call_d');
    expect(stored).toMatchObject({ state: 'ending', version: 1, endedBy: 'api', endCause: 'agent hung up' });
  });

  it('concurrent writers of different fields in two instances all land: lost compare-and-sets are retried after a jittered back-off', async () => {
    const instances = [repo(), repo(), repo()];
    const calls = instances[0] as CallRepository;
    await calls.create(inbound('call_race', { waCallId: 'wacid.RACE' }));
    await Promise.all(instances.map((i) => i.get('call_race'))); // each remembers version 0
    const fields = [{ waLegId: 'wa-1' }, { pbxLegId: 'pbx-1' }, { codec: 'PCMU' }, { destination: 'sip:1001@pbx' }, { sipCallId: 'sip-1' }] as const;

    await Promise.all([
      ...fields.map((f, i) => (instances[i % instances.length] as CallRepository).amend('call_race', f)),
      (instances[2] as CallRepository).apply('call_race', { type: 'hangup.requested', by: 'api', cause: 'agent hung up' }),
    ]);

    const stored = await calls.get('call_race');
    expect(stored).toMatchObject({ state: 'ending', version: 6, waLegId: 'wa-1', pbxLegId: 'pbx-1', codec: 'PCMU', destination: 'sip:1001@pbx', sipCallId: 'sip-1' });
    expect(await calls.getByWaCallId('wacid.RACE')).toMatchObject({ callId: 'call_race', version: 6 });
  });

  it('a write from another instance is not lost: a remembered record that went stale is read again before deciding', async () => {
    const a = repo();
    const b = repo();
    await a.create(inbound('call_two', { waCallId: 'wacid.TWO' }));
    await a.apply('call_two', { type: 'pbx.dialing', sipCallId: 'sip-2' });
    await b.apply('call_two', { type: 'pbx.ringing' }); // instance B moves the call on; A still remembers dialing-pbx

    const answered = await a.apply('call_two', { type: 'pbx.answered' });
    const amended = await a.amend('call_two', { codec: 'PCMA' });

    expect(answered).toMatchObject({ outcome: 'applied', from: 'ringing-pbx', to: 'accepting' });
    expect(amended).toMatchObject({ state: 'accepting', codec: 'PCMA', version: 4 });
    expect(await b.get('call_two')).toMatchObject({ state: 'accepting', codec: 'PCMA', version: 4 });
  });

  it('a permission timer that fires after the reply moved the call on (on another instance) ends nothing; one before it ends the call', async () => {
    const a = repo();
    const b = repo();
    const agentCall = (callId: string): NewCallRecord => ({ ...inbound(callId), direction: 'outbound', state: 'permission-pending' });
    await a.create(agentCall('call_perm'));
    await a.get('call_perm'); // A, the creator, remembers permission-pending
    await b.apply('call_perm', { type: 'permission.granted' }); // the reply reached B, which dials the agent
    const late = await a.apply('call_perm', { type: 'permission.expired', cause: 'no reply in time' });
    expect(late).toMatchObject({ outcome: 'ignored', record: { state: 'dialing-pbx' } });
    expect(await b.get('call_perm')).not.toHaveProperty('endCause');

    await a.create(agentCall('call_perm2'));
    const expired = await a.apply('call_perm2', { type: 'permission.expired', cause: 'no reply in time' });
    expect(expired).toMatchObject({ outcome: 'applied', to: 'ending', record: { endedBy: 'system', endCause: 'no reply in time' } });
  });

  it('an event ignored in the remembered state is decided again on the stored one', async () => {
    const a = repo();
    const b = repo();
    await a.create(inbound('call_late'));
    await b.apply('call_late', { type: 'pbx.dialing', sipCallId: 'sip-3' });
    await b.apply('call_late', { type: 'pbx.ringing' }); // A remembers `offered`, where pbx.answered is ignored

    expect(await a.apply('call_late', { type: 'pbx.answered' })).toMatchObject({ outcome: 'applied', from: 'ringing-pbx', to: 'accepting' });
  });

  it('writes after the first read the remembered record instead of Redis (one round trip each)', async () => {
    const calls = repo();
    await calls.create(inbound('call_rt', { waCallId: 'wacid.RT' }));
    const reads = jest.spyOn(redis, 'hgetall');

    await calls.amend('call_rt', { waLegId: 'wa-1' });
    await calls.apply('call_rt', { type: 'pbx.dialing', sipCallId: 'sip-rt' });
    await calls.apply('call_rt', { type: 'pbx.ringing' });
    const readCount = reads.mock.calls.length;
    reads.mockRestore(); // (restoring also clears the recorded calls)

    expect(readCount).toBe(0);
    expect(await calls.get('call_rt')).toMatchObject({ state: 'ringing-pbx', waLegId: 'wa-1', version: 3 });
  });

  it('a write from the remembered record returns what a read of Redis then gives, field for field, through a whole call', async () => {
    let now = 1_700_000_000_000;
    const calls = repo({ now: () => now });
    const fresh = repo(); // remembers nothing: its get() is Redis's hash, parsed
    await calls.create(inbound('call_bf', { waCallId: 'wacid.BF' }));
    const written = [
      await calls.amend('call_bf', { waLegId: 'wa-1', waSdp: 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n' }),
      (await calls.apply('call_bf', { type: 'pbx.dialing', sipCallId: 'sip-bf' }, { destination: 'sip:1001@pbx' })).record,
      (await calls.apply('call_bf', { type: 'pbx.answered' })).record,
      (now += 1000, await calls.apply('call_bf', { type: 'wa.accept-sent' }, { codec: 'PCMU/8000' })).record,
      (now += 2000, await calls.apply('call_bf', { type: 'wa.terminate', status: 'completed' })).record,
    ];
    for (const record of written) expect(record.version).toBeGreaterThan(0);
    // each write's own record is the stored one at its version (checked on the last, and on the versions' sequence)
    expect(written.map((r) => r.version)).toEqual([1, 2, 3, 4, 5]);
    expect(written.at(-1)).toEqual(await fresh.get('call_bf'));
    expect(written[3]).toMatchObject({ state: 'active', answeredAt: now - 2000, codec: 'PCMU/8000', sipCallId: 'sip-bf', destination: 'sip:1001@pbx', updatedAt: now - 2000 });
    const ended = (await calls.apply('call_bf', { type: 'legs.released' })).record;
    expect(ended).toEqual(await fresh.get('call_bf'));
    expect(ended).toMatchObject({ state: 'ended', durationMs: 2000, endedBy: 'wa' });
  });

  it('a patch the record schema refuses is reported once written, as a read of it would be', async () => {
    const calls = repo();
    await calls.create(inbound('call_bad'));
    await expect(calls.amend('call_bad', { endedBy: 'nobody' as never })).rejects.toThrow(/endedBy/);
    await expect(repo().get('call_bad')).rejects.toThrow(/endedBy/);
  });

  it("one instance's writes to a call started side by side go in turn: none loses its compare-and-set or reads", async () => {
    const calls = repo();
    await calls.create(inbound('call_turn', { waCallId: 'wacid.TURN' }));
    const scripts = jest.spyOn(LuaScript.prototype, 'run');
    const reads = jest.spyOn(redis, 'hgetall');
    const seen: number[] = [];

    const [wa, pbx, dialing, ringing] = await Promise.all([
      calls.amend('call_turn', { waLegId: 'wa-1' }),
      calls.amend('call_turn', (current) => {
        seen.push(current.version);
        return { pbxLegId: 'pbx-1' };
      }),
      calls.apply('call_turn', { type: 'pbx.dialing', sipCallId: 'sip-turn' }),
      calls.apply('call_turn', { type: 'pbx.ringing' }),
    ]);
    const scriptRuns = scripts.mock.calls.length;
    const readCount = reads.mock.calls.length;
    scripts.mockRestore(); // (restoring also clears the recorded calls)
    reads.mockRestore();

    expect([wa.version, pbx.version, dialing.record.version, ringing.record.version]).toEqual([1, 2, 3, 4]);
    expect(seen).toEqual([1]); // the second write started from the first's result
    expect(ringing).toMatchObject({ outcome: 'applied', from: 'dialing-pbx', to: 'ringing-pbx' });
    expect(scriptRuns).toBe(4); // one script run per write: no lost compare-and-set
    expect(readCount).toBe(0);
    expect(await calls.get('call_turn')).toMatchObject({ state: 'ringing-pbx', waLegId: 'wa-1', pbxLegId: 'pbx-1', version: 4 });
  });

  it('a failed write does not stop the writes queued behind it', async () => {
    const calls = repo();
    await calls.create(inbound('call_turn2'));
    const results = await Promise.allSettled([
      calls.amend('call_turn2', () => {
        throw new Error('patch failed');
      }),
      calls.amend('call_turn2', { codec: 'PCMA' }),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: new Error('patch failed') });
    expect(results[1]).toMatchObject({ status: 'fulfilled', value: { codec: 'PCMA', version: 1 } });
  });

  it('apply ignores late external events, throws on internal misuse and reports a missing call', async () => {
    const calls = repo();
    await calls.create(inbound('call_e'));
    const ignored = await calls.apply('call_e', { type: 'wa.accept-sent' });
    expect(ignored).toMatchObject({ outcome: 'ignored', record: { state: 'offered', version: 0 } });
    await expect(calls.apply('call_e', { type: 'legs.released' })).rejects.toBeInstanceOf(InvalidTransitionError);
    await expect(calls.apply('call_nope', { type: 'pbx.ringing' })).rejects.toBeInstanceOf(CallNotFoundError);
    expect((await calls.get('call_e'))?.version).toBe(0);
  });

  it('a call walks its flow; the active index holds it until it ends, then the ended index does', async () => {
    let now = 1_700_000_000_000;
    const calls = repo({ now: () => now });
    await calls.create(inbound('call_f', { waCallId: 'wacid.F' }));
    await calls.create(inbound('call_g'));
    expect((await calls.listActive()).map((r) => r.callId)).toEqual(['call_f', 'call_g']);

    await calls.apply('call_f', { type: 'pbx.dialing', sipCallId: 'sip-1' });
    await calls.apply('call_f', { type: 'pbx.answered' });
    now += 1000;
    const active = await calls.apply('call_f', { type: 'wa.accept-sent' });
    expect(active).toMatchObject({ outcome: 'applied', from: 'accepting', to: 'active', record: { answeredAt: now, sipCallId: 'sip-1' } });
    now += 5000;
    await calls.apply('call_f', { type: 'wa.terminate', status: 'completed' });
    expect((await calls.listActive()).map((r) => r.callId)).toEqual(['call_f', 'call_g']);
    const ended = await calls.apply('call_f', { type: 'legs.released' });

    expect(ended.record).toMatchObject({ state: 'ended', endedAt: now, durationMs: 5000, endedBy: 'wa', waCause: 'completed' });
    expect((await calls.listActive()).map((r) => r.callId)).toEqual(['call_g']);
    expect((await calls.listRecent(10)).map((r) => r.callId)).toEqual(['call_f']);
    expect(await calls.getByWaCallId('wacid.F')).toMatchObject({ callId: 'call_f', state: 'ended', durationMs: 5000 });
    expect(await calls.claimWaCallId('wacid.F', 'call_late')).toBe(false); // a late connect for it is known
  });

  it('liveAmong names the calls whose record exists and has not ended (ending is still live)', async () => {
    const calls = repo();
    await calls.create(inbound('call_live'));
    await calls.create(inbound('call_ending'));
    await calls.create(inbound('call_done'));
    await calls.apply('call_ending', { type: 'wa.terminate', status: 'completed' });
    await calls.apply('call_done', { type: 'wa.terminate', status: 'completed' });
    await calls.apply('call_done', { type: 'legs.released' });
    const live = await calls.liveAmong(['call_live', 'call_ending', 'call_done', 'call_never_written']);
    expect([...live.keys()].sort()).toEqual(['call_ending', 'call_live']);
    expect(await calls.liveAmong([])).toEqual(new Map());
  });

  it("renewLive renews a live record's TTL (and its media instance and wacall alias keys) once half of it is gone, and leaves ending and ended records as their state set them", async () => {
    const calls = repo({ liveTtlMs: 60_000, endingTtlMs: 30_000 });
    const k = calls.keys;
    await calls.create(inbound('call_long', { waCallId: 'wacid.LONG' }));
    await calls.create(inbound('call_fresh'));
    await calls.create(inbound('call_closing'));
    await calls.create(inbound('call_over'));
    await calls.apply('call_closing', { type: 'wa.terminate', status: 'completed' });
    await calls.apply('call_over', { type: 'wa.terminate', status: 'completed' });
    await calls.apply('call_over', { type: 'legs.released' });
    // hours went by with no write: little of the long call's TTL is left
    await redis.pexpire(k.call('call_long'), 5000);
    await redis.pexpire(k.waCall('wacid.LONG'), 5000);
    await redis.set(k.mediaOfCall('call_long'), 'media-2', 'PX', 5000); // with several media apps: the call's instance
    await redis.pexpire(k.call('call_closing'), 5000);
    const overTtl = await redis.pttl(k.call('call_over'));

    const live = await calls.liveAmong(['call_long', 'call_fresh', 'call_closing', 'call_over', 'call_never_written']);
    expect(live).toEqual(new Map([['call_long', 'wacid.LONG'], ['call_fresh', undefined], ['call_closing', undefined]]));
    expect(await calls.renewLive(live)).toBe(1);
    expect(await redis.pttl(k.call('call_long'))).toBeGreaterThan(55_000);
    expect(await redis.pttl(k.waCall('wacid.LONG'))).toBeGreaterThan(55_000);
    expect(await redis.pttl(k.mediaOfCall('call_long'))).toBeGreaterThan(55_000);
    expect(await redis.pttl(k.call('call_fresh'))).toBeGreaterThan(55_000); // more than half left: untouched (and still long)
    expect(await redis.pttl(k.call('call_closing'))).toBeLessThanOrEqual(5000);
    expect(Math.abs((await redis.pttl(k.call('call_over'))) - overTtl)).toBeLessThan(1000);
    expect(await redis.exists(k.call('call_never_written'))).toBe(0);
    expect(await calls.renewLive(new Map())).toBe(0);
  });

  it('TTLs follow the state: live, ending, ended', async () => {
    const calls = repo({ liveTtlMs: 6 * HOUR, endingTtlMs: 10 * MIN, endedTtlMs: 7 * DAY });
    await calls.create(inbound('call_h', { waCallId: 'wacid.H' }));
    const pttl = (key: string) => redis.pttl(key);
    const callKey = calls.keys.call('call_h');
    const aliasKey = calls.keys.waCall('wacid.H');

    for (const key of [callKey, aliasKey]) {
      expect(await pttl(key)).toBeGreaterThan(6 * HOUR - MIN);
      expect(await pttl(key)).toBeLessThanOrEqual(6 * HOUR);
    }
    await calls.apply('call_h', { type: 'failed', cause: 'media app down' });
    for (const key of [callKey, aliasKey]) {
      expect(await pttl(key)).toBeGreaterThan(10 * MIN - MIN);
      expect(await pttl(key)).toBeLessThanOrEqual(10 * MIN);
    }
    await calls.apply('call_h', { type: 'legs.released' });
    // the CDR keeps its alias as long as the record: found by its WhatsApp call id too
    for (const key of [callKey, aliasKey]) {
      expect(await pttl(key)).toBeGreaterThan(7 * DAY - MIN);
      expect(await pttl(key)).toBeLessThanOrEqual(7 * DAY);
    }
  });

  it('of concurrent claims of one wacid exactly one succeeds, and the owner may claim again', async () => {
    const calls = repo();
    const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => calls.claimWaCallId('wacid.RACE', `call_${i}`)));
    const winners = claims.flatMap((ok, i) => (ok ? [`call_${i}`] : []));
    expect(winners).toHaveLength(1);
    const owner = winners[0] ?? '';
    expect(await calls.claimWaCallId('wacid.RACE', owner)).toBe(true);
    expect(await redis.get(calls.keys.waCall('wacid.RACE'))).toBe(owner);
    const loser = owner === 'call_0' ? 'call_1' : 'call_0';
    await expect(calls.create(inbound(loser, { waCallId: 'wacid.RACE' }))).rejects.toBeInstanceOf(WaCallIdConflictError);
    await expect(calls.create(inbound(owner, { waCallId: 'wacid.RACE' }))).resolves.toMatchObject({ callId: owner });
  });

  it('linkWaCallId records the wacid of an outbound call once and refuses a second one', async () => {
    const calls = repo();
    await calls.create({ ...inbound('call_i'), direction: 'outbound', state: 'dialing-wa' });
    const linked = await calls.linkWaCallId('call_i', 'wacid.I');
    expect(linked).toMatchObject({ waCallId: 'wacid.I', version: 1 });
    expect((await calls.getByWaCallId('wacid.I'))?.callId).toBe('call_i');
    expect(await calls.linkWaCallId('call_i', 'wacid.I')).toEqual(linked);
    await expect(calls.linkWaCallId('call_i', 'wacid.OTHER')).rejects.toBeInstanceOf(WaCallIdConflictError);
  });

  it('after a call has ended only its record, its wacall alias and its ended-index entry remain', async () => {
    const calls = repo();
    await calls.create({ ...inbound('call_j', { waCallId: 'wacid.J' }), direction: 'outbound', state: 'permission-pending' });
    await calls.apply('call_j', { type: 'permission.requested', messageId: 'wamid.1' });
    await calls.apply('call_j', { type: 'permission.granted' });
    await calls.amend('call_j', { pbxLegId: 'leg-1', codec: 'PCMU/8000' });
    await calls.apply('call_j', { type: 'pbx.hangup', cause: 'BYE' });
    await calls.apply('call_j', { type: 'legs.released' });

    expect(await keysUnderPrefix()).toEqual([calls.keys.call('call_j'), calls.keys.endedCalls, calls.keys.waCall('wacid.J')].sort());
    expect(await calls.getByWaCallId('wacid.J')).toMatchObject({ callId: 'call_j', state: 'ended' });
    expect(await redis.zrange(calls.keys.endedCalls, 0, -1)).toEqual(['call_j']);
    expect(await calls.get('call_j')).toMatchObject({ state: 'ended', permissionMessageId: 'wamid.1', pbxLegId: 'leg-1', endedBy: 'pbx', sipCause: 'BYE' });
  });

  it('an ended record cannot be moved back to a live state', async () => {
    const calls = repo();
    await calls.create(inbound('call_k'));
    await calls.apply('call_k', { type: 'failed', cause: 'x' });
    const ended = await calls.apply('call_k', { type: 'legs.released' });
    await expect(calls.update('call_k', ended.record.version, { state: 'active' })).rejects.toBeInstanceOf(InvalidStateError);
  });

  it('the ended index is capped and skips records that expired', async () => {
    const calls = repo({ endedIndexMax: 2 });
    for (const id of ['call_l1', 'call_l2', 'call_l3']) {
      await calls.create(inbound(id));
      await calls.apply(id, { type: 'failed', cause: 'x' });
      await calls.apply(id, { type: 'legs.released' });
    }
    expect(await redis.zcard(calls.keys.endedCalls)).toBe(2);
    await redis.del(calls.keys.call('call_l3'));
    expect((await calls.listRecent(10)).map((r) => r.callId)).toEqual(['call_l2']);
    expect(await redis.zrange(calls.keys.endedCalls, 0, -1)).toEqual(['call_l2']);
  });
});
