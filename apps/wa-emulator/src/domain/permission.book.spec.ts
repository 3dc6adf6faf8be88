import { DAY_MS, HOUR_MS } from './clock';
import { GraphError } from './emulator.errors';
import { META_PERMISSION_LIMITS, PermissionBook } from './permission.book';

const T0 = Date.UTC(2026, 0, 1);
const book = (cap = 100): PermissionBook => new PermissionBook('15552223333', { ...META_PERMISSION_LIMITS, dailyConnectedCallCap: cap });

function metaCodeOf(fn: () => void): number | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof GraphError) return err.metaCode;
    throw err;
  }
  return undefined;
}

describe('PermissionBook: permission lifetime', () => {
  it('a temporary permission lasts exactly 7 days by the clock', () => {
    const b = book();
    const expiresAt = b.grantTemporary(T0);
    expect(expiresAt).toBe(T0 + 7 * DAY_MS);
    expect(b.current(T0 + 7 * DAY_MS - 1).status).toBe('temporary');
    expect(metaCodeOf(() => b.assertCanBeCalled(T0 + 7 * DAY_MS - 1))).toBeUndefined();
    expect(b.current(T0 + 7 * DAY_MS).status).toBe('no_permission');
    expect(metaCodeOf(() => b.assertCanBeCalled(T0 + 7 * DAY_MS))).toBe(138006);
  });

  it('a permanent permission stays until revoked', () => {
    const b = book();
    b.grantPermanent(T0);
    expect(b.current(T0 + 400 * DAY_MS).status).toBe('permanent');
    b.revoke();
    expect(metaCodeOf(() => b.assertCanBeCalled(T0))).toBe(138006);
  });

  it('without any grant a call is refused with 138006', () => {
    expect(metaCodeOf(() => book().assertCanBeCalled(T0))).toBe(138006);
  });
});

describe('PermissionBook: request quota (1 per 24 h, 2 per 7 days)', () => {
  it('refuses a second request within 24 h and allows it after 24 h', () => {
    const b = book();
    b.recordRequest('wamid.1', T0, 'interactive');
    expect(metaCodeOf(() => b.assertCanRequest(T0 + 23 * HOUR_MS))).toBe(138009);
    expect(b.requestUsage(T0 + HOUR_MS).day).toEqual({ periodMs: DAY_MS, maxAllowed: 1, currentUsage: 1, limitExpiresAt: T0 + DAY_MS });
    expect(metaCodeOf(() => b.assertCanRequest(T0 + DAY_MS))).toBeUndefined();
  });

  it('refuses a third request within 7 days even when 24 h have passed, and allows it once the week frees a slot', () => {
    const b = book();
    b.recordRequest('wamid.1', T0, 'interactive');
    b.recordRequest('wamid.2', T0 + 2 * DAY_MS, 'template');
    expect(metaCodeOf(() => b.assertCanRequest(T0 + 4 * DAY_MS))).toBe(138009);
    expect(b.requestUsage(T0 + 4 * DAY_MS).week.limitExpiresAt).toBe(T0 + 7 * DAY_MS);
    expect(metaCodeOf(() => b.assertCanRequest(T0 + 7 * DAY_MS))).toBeUndefined();
  });

  it.each(['USER_INITIATED', 'BUSINESS_INITIATED'] as const)('a connected %s call resets the request quota', (direction) => {
    const b = book();
    b.recordRequest('wamid.1', T0, 'interactive');
    expect(b.canRequest(T0 + HOUR_MS)).toBe(false);
    b.recordConnectedCall(T0 + HOUR_MS, direction);
    expect(b.canRequest(T0 + HOUR_MS)).toBe(true);
    expect(b.requestUsage(T0 + HOUR_MS).day.currentUsage).toBe(0);
  });

  it('a permanent permission blocks requests with 138017', () => {
    const b = book();
    b.grantPermanent(T0);
    expect(metaCodeOf(() => b.assertCanRequest(T0))).toBe(138017);
    expect(b.canRequest(T0)).toBe(false);
  });
});

describe('PermissionBook: replies', () => {
  it('allow_once grants 7 days, always_allow permanent, never_allow withdraws', () => {
    const b = book();
    const r1 = b.recordRequest('wamid.1', T0, 'interactive');
    expect(b.applyReply(r1, 'allow_once', T0 + 1000)).toBe(T0 + 1000 + 7 * DAY_MS);
    expect(b.current(T0 + 2000).status).toBe('temporary');
    expect(b.applyReply(r1, 'always_allow', T0 + 3000)).toBeUndefined();
    expect(b.current(T0 + 3000).status).toBe('permanent');
    b.applyReply(r1, 'never_allow', T0 + 4000);
    expect(b.current(T0 + 4000).status).toBe('no_permission');
  });

  it('answering a newer request supersedes the older ones; an unanswered request expires 7 days after delivery', () => {
    const b = book();
    const old = b.recordRequest('wamid.old', T0, 'interactive');
    const fresh = b.recordRequest('wamid.new', T0 + DAY_MS, 'interactive');
    expect(b.findOpenRequest(T0 + DAY_MS)?.id).toBe('wamid.new');
    b.applyReply(fresh, 'allow_once', T0 + DAY_MS);
    expect(b.isOpen(old, T0 + DAY_MS)).toBe(false);
    const late = b.recordRequest('wamid.late', T0 + 3 * DAY_MS, 'template');
    expect(b.isOpen(late, T0 + 10 * DAY_MS - 1)).toBe(true);
    expect(b.isOpen(late, T0 + 10 * DAY_MS)).toBe(false);
  });
});

describe('PermissionBook: consecutive unanswered business calls', () => {
  it('the 4th unanswered or rejected call in a row revokes the permission', () => {
    const b = book();
    b.grantPermanent(T0);
    expect([1, 2, 3].map(() => b.recordUnansweredBusinessCall(T0))).toEqual([false, false, false]);
    expect(b.current(T0).status).toBe('permanent');
    expect(b.recordUnansweredBusinessCall(T0)).toBe(true);
    expect(b.current(T0).status).toBe('no_permission');
    expect(b.unansweredStreak).toBe(0);
  });

  it('a connected call resets the streak', () => {
    const b = book();
    b.grantTemporary(T0);
    for (let i = 0; i < 3; i++) b.recordUnansweredBusinessCall(T0);
    b.recordConnectedCall(T0, 'BUSINESS_INITIATED');
    for (let i = 0; i < 3; i++) expect(b.recordUnansweredBusinessCall(T0)).toBe(false);
    expect(b.current(T0).status).toBe('temporary');
  });
});

describe('PermissionBook: daily connected-call cap', () => {
  it('refuses with 138012 once the cap of connected business calls is reached in 24 h, naming the next allowed time', () => {
    const b = book(2);
    b.recordConnectedCall(T0, 'BUSINESS_INITIATED');
    b.recordConnectedCall(T0 + HOUR_MS, 'USER_INITIATED');
    expect(metaCodeOf(() => b.assertUnderCallCap(T0 + HOUR_MS))).toBeUndefined();
    b.recordConnectedCall(T0 + 2 * HOUR_MS, 'BUSINESS_INITIATED');
    let error: GraphError | undefined;
    try {
      b.assertUnderCallCap(T0 + 3 * HOUR_MS);
    } catch (err) {
      error = err as GraphError;
    }
    expect(error?.metaCode).toBe(138012);
    expect(error?.errorData?.['next_allowed_call_time']).toBe(Math.floor((T0 + DAY_MS) / 1000));
    expect(metaCodeOf(() => b.assertUnderCallCap(T0 + DAY_MS))).toBeUndefined();
  });
});
