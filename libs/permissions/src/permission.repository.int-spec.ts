import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { CallPermissions } from '@wagw/whatsapp';
import { PermissionVersionConflictError } from './permissions.errors';
import type { PermissionInput } from './permission.machine';
import { PermissionRepository, needsReconcile, type PermissionRepositoryOptions } from './permission.repository';
import { DAY_MS, HOUR_MS } from './permission.rules';

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const key = { phoneNumberId: '100000000000001', waId: '15552223333' };

function redisUrl(): string {
  const url = process.env['TEST_REDIS_URL'];
  if (!url) throw new Error('TEST_REDIS_URL is not set: run with --selectProjects integration');
  return url;
}

let redis: Redis;
let prefix: string;
let clock: number;

function repo(options: Partial<PermissionRepositoryOptions> = {}): PermissionRepository {
  return new PermissionRepository(redis, { keyPrefix: prefix, now: () => clock, ...options });
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

const accept = (fields: Partial<Extract<PermissionInput, { type: 'reply' }>> = {}): PermissionInput => ({
  type: 'reply',
  response: 'accept',
  isPermanent: false,
  source: 'user_action',
  at: clock,
  ...fields,
});

beforeAll(() => {
  redis = new Redis(redisUrl(), { lazyConnect: false, maxRetriesPerRequest: 2 });
});

afterAll(async () => {
  await redis.quit();
});

beforeEach(() => {
  prefix = `t-${randomUUID()}`;
  clock = T0;
});

afterEach(async () => {
  const keys = await keysUnderPrefix();
  if (keys.length > 0) await redis.del(...keys);
});

describe('PermissionRepository on a real Redis', () => {
  it('stores a pair at the call-state key, reads it back, and reports a missing pair as null', async () => {
    const perms = repo();
    expect(await perms.get(key)).toBeNull();
    const res = await perms.apply(key, { type: 'request.sent', messageId: 'wamid.R1', at: T0 });
    expect(res).toMatchObject({ outcome: 'applied', from: 'none', to: 'requested' });
    expect(await keysUnderPrefix()).toEqual([`${prefix}:perm:${key.phoneNumberId}:${key.waId}`]);
    const stored = await perms.get(key);
    expect(stored).toEqual(res.record);
    expect(stored).toMatchObject({ ...key, state: 'requested', version: 1, createdAt: T0, updatedAt: T0, requests: [{ id: 'wamid.R1', at: T0 }] });
  });

  it('20 concurrent copies of one reply apply exactly once', async () => {
    const perms = repo();
    await perms.apply(key, { type: 'request.sent', messageId: 'wamid.R1', at: T0 });
    const reply = accept({ isPermanent: true, contextId: 'wamid.R1', contextKind: 'message', at: T0 + 1000 });
    const results = await Promise.all(Array.from({ length: 20 }, () => perms.apply(key, reply)));
    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'ignored').every((r) => r.outcome === 'ignored' && /duplicate/.test(r.reason))).toBe(true);
    expect(await perms.get(key)).toMatchObject({ state: 'granted-always', version: 2 });
  });

  it('20 concurrent distinct inputs all apply, each once, through the compare-and-set', async () => {
    const perms = repo({ maxApplyAttempts: 20 });
    await perms.apply(key, accept({ isPermanent: true, at: T0 }));
    const connected = Array.from({ length: 20 }, (_, i): PermissionInput => ({ type: 'call.connected', direction: 'business_initiated', at: T0 + 1 + i }));
    const results = await Promise.all(connected.map((input) => perms.apply(key, input)));
    expect(results.every((r) => r.outcome === 'applied')).toBe(true);
    const stored = await perms.get(key);
    expect(stored?.version).toBe(21);
    expect(stored?.connectedCalls).toEqual(connected.map((c) => c.at));
  });

  it('a writer that keeps losing the compare-and-set gives up after its bounded attempts', async () => {
    const perms = repo({ maxApplyAttempts: 1 });
    const inputs = Array.from({ length: 5 }, (_, i): PermissionInput => ({ type: 'request.sent', messageId: `wamid.R${i}`, at: T0 + i }));
    const settled = await Promise.allSettled(inputs.map((input) => perms.apply(key, input)));
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
    expect(rejected).toHaveLength(4);
    for (const r of rejected) expect(r.reason).toBeInstanceOf(PermissionVersionConflictError);
    expect(await perms.get(key)).toMatchObject({ version: 1 });
  });

  it('TTL follows the state: none for always/declined, expiry + 8 days for a temporary grant, 8 days otherwise', async () => {
    const perms = repo();
    const ttlDays = async () => {
      const ms = await redis.pttl(perms.keyOf(key));
      return ms < 0 ? ms : Math.round(ms / DAY_MS);
    };
    await perms.apply(key, { type: 'request.sent', messageId: 'wamid.R1', at: T0 });
    expect(await ttlDays()).toBe(8);
    await perms.apply(key, accept({ expiresAt: T0 + 7 * DAY_MS, contextId: 'wamid.R1', contextKind: 'message', at: T0 + 1000 }));
    expect(await ttlDays()).toBe(15);
    await perms.apply(key, accept({ isPermanent: true, at: T0 + 2000 }));
    expect(await ttlDays()).toBe(-1);
    await perms.apply(key, { type: 'reply', response: 'reject', isPermanent: false, source: 'automatic', at: T0 + 3000 });
    expect(await ttlDays()).toBe(8);
    await perms.apply(key, { type: 'reply', response: 'reject', isPermanent: false, source: 'user_action', at: T0 + 4000 });
    expect(await ttlDays()).toBe(-1);
  });

  it('logs a change of state at info, and a record updated within its state (a connected call) at debug only', async () => {
    const lines: { level: string; msg: string; from?: string; to?: string }[] = [];
    const capture = (level: string) => (obj: object | string, msg?: string) => void lines.push({ level, msg: msg ?? '', ...(typeof obj === 'object' ? obj : {}) });
    const logger = { trace: capture('trace'), debug: capture('debug'), info: capture('info'), warn: capture('warn'), error: capture('error'), fatal: capture('fatal'), child: () => logger };
    const perms = repo({ logger });
    await perms.apply(key, { type: 'call.connected', direction: 'user_initiated', at: T0 }); // none -> none: a record, no change
    await perms.apply(key, accept());
    await perms.apply(key, { type: 'call.connected', direction: 'business_initiated', at: T0 + 1 });
    expect(lines.filter((l) => l.level === 'info')).toEqual([expect.objectContaining({ msg: 'call permission changed', from: 'none', to: 'granted-once' })]);
    expect(lines.filter((l) => l.level === 'debug' && l.msg === 'call permission record updated (same state)').map((l) => [l.from, l.to])).toEqual([
      ['none', 'none'],
      ['granted-once', 'granted-once'],
    ]);
  });

  it('an ignored input writes nothing', async () => {
    const perms = repo();
    await perms.apply(key, { type: 'request.sent', messageId: 'wamid.R1', at: T0 });
    const res = await perms.apply(key, { type: 'expiry.observed', at: T0 });
    expect(res).toMatchObject({ outcome: 'ignored', record: { version: 1 } });
    expect((await perms.get(key))?.version).toBe(1);
  });
});

describe('decide() before a business-initiated call', () => {
  it('walks request -> pending -> call -> daily cap, by the repository clock', async () => {
    const perms = repo({ rules: { callsPer24h: 2 } });
    expect(await perms.decide(key)).toEqual({ action: 'request', state: 'none', nextRequestAt: T0 + DAY_MS });
    await perms.apply(key, { type: 'request.sent', messageId: 'wamid.R1', at: T0 });
    expect(await perms.decide(key, T0 + HOUR_MS)).toMatchObject({ action: 'refuse', code: 'PERMISSION_QUOTA', retryAt: T0 + DAY_MS });
    clock = T0 + 2 * HOUR_MS;
    await perms.apply(key, accept({ expiresAt: T0 + 7 * DAY_MS, contextId: 'wamid.R1', contextKind: 'message' }));
    expect(await perms.decide(key, clock)).toEqual({ action: 'call', state: 'granted-once', expiresAt: T0 + 7 * DAY_MS });
    await perms.apply(key, { type: 'call.connected', direction: 'business_initiated', at: clock + 1 });
    await perms.apply(key, { type: 'call.connected', direction: 'business_initiated', at: clock + 2 });
    expect(await perms.decide(key, clock + 3)).toMatchObject({ action: 'refuse', code: 'DAILY_CALL_CAP', retryAt: clock + 1 + DAY_MS });
    expect(await perms.decide(key, clock + 3, { callsPer24h: 100 })).toMatchObject({ action: 'call' });
  });

  it('refuses a declined pair for good and a revoked pair whose quota is used up', async () => {
    const perms = repo();
    await perms.apply(key, { type: 'request.sent', messageId: 'wamid.R1', at: T0 });
    await perms.apply(key, { type: 'reply', response: 'reject', isPermanent: false, source: 'user_action', contextId: 'wamid.R1', contextKind: 'message', at: T0 + 1000 });
    expect(await perms.decide(key, T0 + 30 * DAY_MS)).toMatchObject({ action: 'refuse', code: 'PERMISSION_DECLINED' });

    const other = { ...key, waId: '15559990000' };
    await perms.apply(other, { type: 'request.sent', messageId: 'wamid.S1', at: T0 });
    await perms.apply(other, accept({ isPermanent: true, contextId: 'wamid.S1', contextKind: 'message', at: T0 + 1000 }));
    for (let i = 1; i <= 4; i++) await perms.apply(other, { type: 'call.unanswered', at: T0 + i * HOUR_MS });
    expect(await perms.get(other)).toMatchObject({ state: 'revoked', revokedBy: 'unanswered-calls' });
    const d = await perms.decide(other, T0 + 5 * HOUR_MS);
    expect(d).toMatchObject({ action: 'refuse', code: 'PERMISSION_QUOTA', retryAt: T0 + DAY_MS });
  });

  it('a temporary grant reads as expired by the clock and decides a new request without any expiry write', async () => {
    const perms = repo();
    await perms.apply(key, accept({ expiresAt: T0 + 7 * DAY_MS, at: T0 }));
    expect(await perms.decide(key, T0 + 7 * DAY_MS)).toEqual({ action: 'request', state: 'expired', nextRequestAt: T0 + 8 * DAY_MS });
    expect((await perms.get(key))?.state).toBe('granted-once');
  });
});

describe('reconcile() from GET call_permissions', () => {
  const permanent: CallPermissions = { status: 'permanent', expiresAt: undefined, actions: [], canStartCall: true, canRequestPermission: false };

  it('fills a missing record from Meta, and a reply newer than the read wins', async () => {
    const perms = repo();
    expect(needsReconcile(await perms.get(key), T0, HOUR_MS)).toBe(true);
    const res = await perms.reconcile(key, permanent, T0);
    expect(res).toMatchObject({ outcome: 'applied', to: 'granted-always', record: { reconciledAt: T0 } });
    expect(needsReconcile(await perms.get(key), T0 + 1, HOUR_MS)).toBe(false);
    expect(needsReconcile(await perms.get(key), T0 + 2 * HOUR_MS, HOUR_MS)).toBe(true);
    await perms.apply(key, { type: 'reply', response: 'reject', isPermanent: false, source: 'user_action', at: T0 + 2000 });
    expect(await perms.reconcile(key, permanent, T0 + 1000)).toMatchObject({ outcome: 'ignored', reason: expect.stringContaining('stale') });
    expect((await perms.get(key))?.state).toBe('declined');
  });

  it("Meta's blocked start_call refuses with the daily cap until Meta's time", async () => {
    const perms = repo();
    await perms.reconcile(key, {
      status: 'temporary',
      expiresAt: Math.floor((T0 + 3 * DAY_MS) / 1000),
      actions: [{ name: 'start_call', canPerform: false, limits: [{ timePeriod: 'PT24H', maxAllowed: 100, currentUsage: 100, limitExpiresAt: Math.floor((T0 + 5 * HOUR_MS) / 1000) }] }],
      canStartCall: false,
      canRequestPermission: undefined,
    });
    expect(await perms.decide(key, T0 + HOUR_MS)).toMatchObject({ action: 'refuse', code: 'DAILY_CALL_CAP', retryAt: T0 + 5 * HOUR_MS });
    expect(await perms.decide(key, T0 + 5 * HOUR_MS)).toMatchObject({ action: 'call', state: 'granted-once' });
  });
});
