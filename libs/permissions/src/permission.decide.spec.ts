import { decidePermission } from './permission.decide';
import { emptySnapshot, type PermissionSnapshot } from './permission.machine';
import { DAY_MS, HOUR_MS, META_PERMISSION_RULES } from './permission.rules';
import { PermissionDeclinedError, refusalError } from './permissions.errors';

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);

function snap(fields: Partial<PermissionSnapshot>): PermissionSnapshot {
  return { ...emptySnapshot(), ...fields };
}

describe('decidePermission', () => {
  it('no record: send a request, and say when another could follow', () => {
    expect(decidePermission(null, T0)).toEqual({ action: 'request', state: 'none', nextRequestAt: T0 + DAY_MS });
  });

  it('a live grant: call, unless the daily cap is reached', () => {
    expect(decidePermission(snap({ state: 'granted-always' }), T0)).toEqual({ action: 'call', state: 'granted-always' });
    expect(decidePermission(snap({ state: 'granted-once', expiresAt: T0 + DAY_MS }), T0)).toEqual({ action: 'call', state: 'granted-once', expiresAt: T0 + DAY_MS });
    const capped = snap({ state: 'granted-always', connectedCalls: Array.from({ length: 100 }, (_, i) => T0 - HOUR_MS + i) });
    const d = decidePermission(capped, T0);
    expect(d).toMatchObject({ action: 'refuse', code: 'DAILY_CALL_CAP', retryAt: T0 - HOUR_MS + DAY_MS });
    if (d.action === 'refuse') expect(d.reason).toContain('100 connected calls');
  });

  it('declined: refuse for good, without a retry time', () => {
    const d = decidePermission(snap({ state: 'declined', stateSince: T0 - DAY_MS }), T0);
    expect(d).toMatchObject({ action: 'refuse', code: 'PERMISSION_DECLINED', reason: expect.stringContaining('chose not to allow calls') });
    expect(d).not.toHaveProperty('retryAt');
  });

  it('a pending request: refuse as pending until another request is allowed, then request again', () => {
    const pending = snap({ state: 'requested', requests: [{ id: 'wamid.R1', at: T0 }] });
    expect(decidePermission(pending, T0 + HOUR_MS)).toMatchObject({ action: 'refuse', code: 'PERMISSION_QUOTA', retryAt: T0 + DAY_MS, reason: expect.stringContaining('not answered yet') });
    expect(decidePermission(pending, T0 + DAY_MS)).toEqual({ action: 'request', state: 'requested', nextRequestAt: T0 + 7 * DAY_MS });
  });

  it('expired or revoked with the quota used up: refuse with the quota code and the reason the grant is gone', () => {
    const requests = [{ id: 'wamid.R1', at: T0 - 2 * DAY_MS }, { id: 'wamid.R2', at: T0 - HOUR_MS }];
    const expired = decidePermission(snap({ state: 'granted-once', expiresAt: T0 - 1, requests }), T0);
    expect(expired).toMatchObject({ action: 'refuse', state: 'expired', code: 'PERMISSION_QUOTA', retryAt: T0 + 5 * DAY_MS, reason: expect.stringContaining('temporary call permission expired') });
    const revoked = decidePermission(snap({ state: 'revoked', revokedBy: 'unanswered-calls', requests }), T0);
    expect(revoked).toMatchObject({ code: 'PERMISSION_QUOTA', reason: expect.stringContaining('unanswered') });
  });

  it('a connected call frees the quota for a revoked pair', () => {
    const requests = [{ id: 'wamid.R1', at: T0 - 2 * DAY_MS }, { id: 'wamid.R2', at: T0 - HOUR_MS }];
    expect(decidePermission(snap({ state: 'revoked', requests, lastConnectedAt: T0 - 1 }), T0)).toMatchObject({ action: 'request', state: 'revoked' });
  });

  it('a refusal becomes a typed error carrying its code, reason and retry time', () => {
    const err = refusalError({ code: 'PERMISSION_DECLINED', reason: 'no' });
    expect(err).toBeInstanceOf(PermissionDeclinedError);
    expect(err).toMatchObject({ code: 'PERMISSION_DECLINED', reason: 'no', retryAt: undefined, message: 'no' });
    expect(refusalError({ code: 'DAILY_CALL_CAP', reason: 'cap', retryAt: 5 })).toMatchObject({ code: 'DAILY_CALL_CAP', retryAt: 5 });
    expect(refusalError({ code: 'PERMISSION_QUOTA', reason: 'q' }).code).toBe('PERMISSION_QUOTA');
  });

  it('uses the rules it is given (a lower cap)', () => {
    const s = snap({ state: 'granted-always', connectedCalls: [T0 - 2, T0 - 1] });
    expect(decidePermission(s, T0, { ...META_PERMISSION_RULES, callsPer24h: 2 })).toMatchObject({ code: 'DAILY_CALL_CAP', reason: expect.stringContaining('limit of 2') });
  });
});
