import { effectiveState, emptySnapshot, transition, type PermissionInput, type PermissionSnapshot } from './permission.machine';
import { DAY_MS, HOUR_MS } from './permission.rules';

const MINUTE_MS = 60_000;

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);

type Reply = Extract<PermissionInput, { type: 'reply' }>;

function reply(fields: Partial<Reply> & Pick<Reply, 'response' | 'at'>): Reply {
  return { type: 'reply', isPermanent: false, source: 'user_action', ...fields };
}

/** Applies inputs in order (each at its own `at`, the clock at `now` or the input's time) and returns the snapshot. */
function run(inputs: PermissionInput[], start: PermissionSnapshot | null = null, now?: number): PermissionSnapshot {
  let s = start ?? emptySnapshot();
  for (const input of inputs) {
    const r = transition(s, input, now ?? input.at);
    if (r.kind === 'applied') s = r.next;
  }
  return s;
}

const sentR1: PermissionInput = { type: 'request.sent', messageId: 'wamid.R1', at: T0 };
const sentR2: PermissionInput = { type: 'request.sent', messageId: 'wamid.R2', at: T0 + DAY_MS + MINUTE_MS };

describe('temporary grant expiry by the given clock (Meta sends no webhook)', () => {
  const granted = run([sentR1, reply({ response: 'accept', expiresAt: T0 + 7 * DAY_MS, contextId: 'wamid.R1', contextKind: 'message', at: T0 + HOUR_MS })]);

  it('a granted-once record is expired from expiresAt on, before any expiry input is stored', () => {
    expect(granted.state).toBe('granted-once');
    expect(effectiveState(granted, T0 + 7 * DAY_MS - 1)).toBe('granted-once');
    expect(effectiveState(granted, T0 + 7 * DAY_MS)).toBe('expired');
    expect(effectiveState(null, T0)).toBe('none');
  });

  it('expiry.observed applies only once the clock has passed expiresAt, and persists when it happened', () => {
    const early = transition(granted, { type: 'expiry.observed', at: T0 + 6 * DAY_MS }, T0 + 6 * DAY_MS);
    expect(early).toMatchObject({ kind: 'ignored', state: 'granted-once', reason: expect.stringContaining('has expired') });
    const late = transition(granted, { type: 'expiry.observed', at: T0 + 8 * DAY_MS }, T0 + 8 * DAY_MS);
    expect(late).toMatchObject({ kind: 'applied', from: 'expired', to: 'expired' });
    if (late.kind === 'applied') expect(late.next).toMatchObject({ state: 'expired', stateSince: T0 + 7 * DAY_MS, expiresAt: T0 + 7 * DAY_MS });
  });

  it('a request sent after the expiry starts from expired, even though the stored state still says granted-once', () => {
    const r = transition(granted, { type: 'request.sent', messageId: 'wamid.R9', at: T0 + 8 * DAY_MS }, T0 + 8 * DAY_MS);
    expect(r).toMatchObject({ kind: 'applied', from: 'expired', to: 'requested' });
    if (r.kind === 'applied') expect(r.next.expiresAt).toBeUndefined();
  });

  it('a temporary grant delivered after its expiry is stored but is already expired', () => {
    const s = run([reply({ response: 'accept', expiresAt: T0 + DAY_MS, at: T0 })], null, T0 + 2 * DAY_MS);
    expect(s.state).toBe('granted-once');
    expect(effectiveState(s, T0 + 2 * DAY_MS)).toBe('expired');
  });

  it('a temporary grant without an expiry gets 7 days from the reply', () => {
    expect(run([reply({ response: 'accept', at: T0 })]).expiresAt).toBe(T0 + 7 * DAY_MS);
  });
});

describe('duplicate and out-of-order replies', () => {
  const accept = reply({ response: 'accept', expiresAt: T0 + 7 * DAY_MS, contextId: 'wamid.R1', contextKind: 'message', at: T0 + HOUR_MS });
  const reject = reply({ response: 'reject', contextId: 'wamid.R1', contextKind: 'message', at: T0 + 2 * HOUR_MS });

  it('the same reply delivered twice applies once', () => {
    const once = run([sentR1, accept]);
    expect(transition(once, accept, T0 + 3 * HOUR_MS)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('duplicate') });
  });

  it('an older reply arriving after a newer one is stale, by timestamp', () => {
    const rejected = run([sentR1, reject]);
    expect(rejected.state).toBe('declined');
    expect(transition(rejected, accept, T0 + 3 * HOUR_MS)).toMatchObject({ kind: 'ignored', state: 'declined', reason: expect.stringContaining('stale') });
  });

  it('until the request expires, a user who declined can still grant', () => {
    const later = reply({ response: 'accept', isPermanent: true, contextId: 'wamid.R1', contextKind: 'message', at: T0 + 3 * DAY_MS });
    const r = transition(run([sentR1, reject]), later, T0 + 3 * DAY_MS);
    expect(r).toMatchObject({ kind: 'applied', from: 'declined', to: 'granted-always' });
  });

  it('a reply to an older request still open while a newer one is pending is applied', () => {
    const s = run([sentR1, sentR2]);
    expect(s.state).toBe('requested');
    const r = transition(s, reply({ response: 'accept', expiresAt: T0 + 9 * DAY_MS, contextId: 'wamid.R1', contextKind: 'message', at: T0 + 2 * DAY_MS }), T0 + 2 * DAY_MS);
    expect(r).toMatchObject({ kind: 'applied', from: 'requested', to: 'granted-once' });
    if (r.kind === 'applied') expect(r.note).toBeUndefined();
  });

  it('a reply to a request older than one the user already answered is superseded, whatever its timestamp', () => {
    const answeredR2 = run([sentR1, sentR2, reply({ response: 'accept', isPermanent: true, contextId: 'wamid.R2', contextKind: 'message', at: T0 + 2 * DAY_MS })]);
    const lateR1 = reply({ response: 'reject', contextId: 'wamid.R1', contextKind: 'message', at: T0 + 2 * DAY_MS });
    expect(transition(answeredR2, lateR1, T0 + 2 * DAY_MS)).toMatchObject({ kind: 'ignored', state: 'granted-always', reason: expect.stringContaining('superseded') });
  });

  it('a reply to a request we do not know is applied (Meta is authoritative) with a note', () => {
    const r = transition(run([sentR1]), reply({ response: 'accept', isPermanent: true, contextId: 'wamid.OTHER', contextKind: 'message', at: T0 + HOUR_MS }), T0 + HOUR_MS);
    expect(r).toMatchObject({ kind: 'applied', to: 'granted-always', note: expect.stringContaining('wamid.OTHER') });
  });

  it('a permanent grant from the business profile (no context) applies from any state without a grant', () => {
    const profile = reply({ response: 'accept', isPermanent: true, at: T0 + HOUR_MS });
    expect(transition(null, profile, T0 + HOUR_MS)).toMatchObject({ kind: 'applied', from: 'none', to: 'granted-always' });
    expect(transition(run([sentR1, reject]), { ...profile, at: T0 + 3 * HOUR_MS }, T0 + 3 * HOUR_MS)).toMatchObject({ kind: 'applied', from: 'declined', to: 'granted-always' });
  });

  it('a reconcile older than the reply we hold is stale; a newer one wins', () => {
    const rejected = run([sentR1, reject]);
    expect(transition(rejected, { type: 'reconciled', status: 'permanent', at: T0 + HOUR_MS }, T0 + 3 * HOUR_MS)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('stale') });
    expect(transition(rejected, { type: 'reconciled', status: 'permanent', at: T0 + 3 * HOUR_MS }, T0 + 3 * HOUR_MS)).toMatchObject({ kind: 'applied', to: 'granted-always' });
  });
});

describe('requests', () => {
  it('the same request recorded twice counts once', () => {
    const s = run([sentR1]);
    expect(transition(s, sentR1, T0)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('duplicate') });
  });

  it('a request sent while declined is recorded for the quota but the state stays declined', () => {
    const declined = run([sentR1, reply({ response: 'reject', contextId: 'wamid.R1', contextKind: 'message', at: T0 + HOUR_MS })]);
    const r = transition(declined, sentR2, sentR2.at);
    expect(r).toMatchObject({ kind: 'applied', from: 'declined', to: 'declined' });
    if (r.kind === 'applied') expect(r.next.requests.map((q) => q.id)).toEqual(['wamid.R1', 'wamid.R2']);
  });

  it('a failed delivery of the latest request returns to none; of an older one it is ignored', () => {
    const s = run([sentR1, sentR2]);
    expect(transition(s, { type: 'request.failed', messageId: 'wamid.R1', at: sentR2.at + 1 }, sentR2.at + 1)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('not our latest') });
    expect(transition(s, { type: 'request.failed', messageId: 'wamid.R2', at: sentR2.at + 1 }, sentR2.at + 1)).toMatchObject({ kind: 'applied', from: 'requested', to: 'none' });
  });

  it('requests older than 7 days are dropped on the next write', () => {
    const s = run([sentR1, { type: 'call.connected', direction: 'user_initiated', at: T0 + 8 * DAY_MS }]);
    expect(s.requests).toEqual([]);
  });
});

describe('revocation after consecutive unanswered business calls', () => {
  const always = run([reply({ response: 'accept', isPermanent: true, at: T0 })]);
  const miss = (n: number): PermissionInput => ({ type: 'call.unanswered', at: T0 + n * HOUR_MS });

  it('the 4th unanswered call in a row revokes a permanent grant and resets the counter', () => {
    const three = run([miss(1), miss(2), miss(3)], always);
    expect(three).toMatchObject({ state: 'granted-always', missedInRow: 3 });
    const r = transition(three, miss(4), T0 + 4 * HOUR_MS);
    expect(r).toMatchObject({ kind: 'applied', from: 'granted-always', to: 'revoked', signal: 'call.unanswered-limit' });
    if (r.kind === 'applied') expect(r.next).toMatchObject({ missedInRow: 0, revokedBy: 'unanswered-calls' });
  });

  it('a connected call in between resets the streak', () => {
    const s = run([miss(1), miss(2), miss(3), { type: 'call.connected', direction: 'business_initiated', at: T0 + 3 * HOUR_MS + 1 }, miss(4), miss(5)], always);
    expect(s).toMatchObject({ state: 'granted-always', missedInRow: 2 });
  });

  it('an unanswered call older than the last connected call does not count, and one counted twice is a duplicate', () => {
    const connected = run([{ type: 'call.connected', direction: 'user_initiated', at: T0 + 5 * HOUR_MS }], always);
    expect(transition(connected, miss(4), T0 + 6 * HOUR_MS)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('stale') });
    const one = run([miss(6)], connected);
    expect(transition(one, miss(6), T0 + 7 * HOUR_MS)).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('duplicate') });
  });

  it("Meta's automatic reject after our own revocation keeps the first cause", () => {
    const revoked = run([miss(1), miss(2), miss(3), miss(4)], always);
    const r = transition(revoked, reply({ response: 'reject', source: 'automatic', at: T0 + 4 * HOUR_MS }), T0 + 4 * HOUR_MS);
    expect(r).toMatchObject({ kind: 'applied', from: 'revoked', to: 'revoked' });
    if (r.kind === 'applied') expect(r.next.revokedBy).toBe('unanswered-calls');
  });

  it("Meta's automatic reject alone revokes a grant", () => {
    const r = transition(always, reply({ response: 'reject', source: 'automatic', at: T0 + HOUR_MS }), T0 + HOUR_MS);
    expect(r).toMatchObject({ kind: 'applied', to: 'revoked' });
    if (r.kind === 'applied') expect(r.next.revokedBy).toBe('automatic');
  });
});

describe('automatic callback grant (user called while callback permission is ENABLED)', () => {
  const autoGrant = reply({ response: 'accept', source: 'automatic', expiresAt: T0 + 7 * DAY_MS, contextId: 'wacid.CALL1', contextKind: 'call', at: T0 });

  it('grants temporary permission from none, declined and expired', () => {
    expect(transition(null, autoGrant, T0)).toMatchObject({ kind: 'applied', from: 'none', to: 'granted-once' });
    const declined = run([reply({ response: 'reject', at: T0 - DAY_MS })]);
    expect(transition(declined, autoGrant, T0)).toMatchObject({ kind: 'applied', from: 'declined', to: 'granted-once' });
    const expired = run([reply({ response: 'accept', expiresAt: T0 - HOUR_MS, at: T0 - 8 * DAY_MS })]);
    const r = transition(expired, autoGrant, T0);
    expect(r).toMatchObject({ kind: 'applied', from: 'expired', to: 'granted-once' });
    if (r.kind === 'applied') expect(r.next.expiresAt).toBe(T0 + 7 * DAY_MS);
  });

  it('does not downgrade a permanent grant', () => {
    const always = run([reply({ response: 'accept', isPermanent: true, at: T0 - DAY_MS })]);
    expect(transition(always, autoGrant, T0)).toMatchObject({ kind: 'ignored', state: 'granted-always', reason: expect.stringContaining('permanent') });
  });

  it('the user call itself resets the request quota but adds nothing to the daily cap of business calls', () => {
    const s = run([sentR1, { type: 'call.connected', direction: 'user_initiated', at: T0 + HOUR_MS }, autoGrant]);
    expect(s).toMatchObject({ state: 'granted-once', lastConnectedAt: T0 + HOUR_MS, connectedCalls: [] });
  });
});

describe('reconcile from GET call_permissions', () => {
  it('no_permission revokes a grant we hold but keeps a pending request or a decline', () => {
    const none: PermissionInput = { type: 'reconciled', status: 'no_permission', at: T0 + HOUR_MS };
    expect(transition(run([reply({ response: 'accept', isPermanent: true, at: T0 })]), none, T0 + HOUR_MS)).toMatchObject({ kind: 'applied', to: 'revoked' });
    expect(transition(run([sentR1]), none, T0 + HOUR_MS)).toMatchObject({ kind: 'applied', from: 'requested', to: 'requested' });
    expect(transition(run([reply({ response: 'reject', at: T0 })]), none, T0 + HOUR_MS)).toMatchObject({ kind: 'applied', to: 'declined' });
  });

  it('temporary sets the expiry Meta reports; an already past expiry reads as no permission', () => {
    const r = transition(null, { type: 'reconciled', status: 'temporary', expiresAt: T0 + 2 * DAY_MS, at: T0 }, T0);
    expect(r).toMatchObject({ kind: 'applied', to: 'granted-once', next: { expiresAt: T0 + 2 * DAY_MS, reconciledAt: T0 } });
    expect(transition(null, { type: 'reconciled', status: 'temporary', expiresAt: T0 - 1, at: T0 }, T0)).toMatchObject({ signal: 'reconciled.no-permission', to: 'none' });
  });

  it("Meta's request block is dropped by a later connected call", () => {
    const blocked = run([{ type: 'reconciled', status: 'no_permission', requestBlockedUntil: T0 + DAY_MS, at: T0 }]);
    expect(blocked.requestBlockedUntil).toBe(T0 + DAY_MS);
    expect(run([{ type: 'call.connected', direction: 'user_initiated', at: T0 + HOUR_MS }], blocked).requestBlockedUntil).toBeUndefined();
  });
});

describe('webhook timestamps are whole seconds', () => {
  const reconciledAt = T0 + 278; // GET call_permissions read 278 ms into the second
  const reconciled = run([{ type: 'reconciled', status: 'no_permission', at: reconciledAt }, { type: 'request.sent', messageId: 'wamid.R1', at: reconciledAt + 100 }]);

  it('a reply stamped in the same second as a reconcile is applied (it may be the newer one)', () => {
    const r = transition(reconciled, reply({ response: 'accept', expiresAt: T0 + 7 * DAY_MS, contextId: 'wamid.R1', contextKind: 'message', at: T0 }), T0 + 500);
    expect(r).toMatchObject({ kind: 'applied', to: 'granted-once' });
  });

  it('a reply stamped a whole second before the reconcile is stale', () => {
    const r = transition(reconciled, reply({ response: 'accept', contextId: 'wamid.R1', contextKind: 'message', at: T0 - 1000 }), T0 + 500);
    expect(r).toMatchObject({ kind: 'ignored', reason: expect.stringContaining('stale') });
  });
});
