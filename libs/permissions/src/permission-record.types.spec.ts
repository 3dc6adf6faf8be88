import { InvalidPermissionRecordError } from './permissions.errors';
import { PERMISSION_RETENTION_MS, isPermissionState, parsePermissionRecord, permissionTtlMs, snapshotOf, toPermissionHash, type PermissionRecord } from './permission-record.types';
import { DAY_MS } from './permission.rules';

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);
const key = { phoneNumberId: '100000000000001', waId: '15552223333' };

const record: PermissionRecord = {
  ...key,
  state: 'granted-once',
  version: 4,
  createdAt: T0,
  updatedAt: T0 + 5,
  stateSince: T0 + 5,
  expiresAt: T0 + 7 * DAY_MS,
  requests: [{ id: 'wamid.R1', at: T0 }],
  lastReply: { at: T0 + 5, response: 'accept', isPermanent: false, source: 'user_action', expiresAt: T0 + 7 * DAY_MS, contextId: 'wamid.R1', contextKind: 'message' },
  permissionAsOf: T0 + 5,
  connectedCalls: [T0 + 1, T0 + 2],
  missedInRow: 1,
  lastUnansweredAt: T0 + 3,
};

describe('permission record (de)serialisation', () => {
  it('a record survives the trip through a Redis hash of strings', () => {
    const hash = toPermissionHash(record);
    expect(Object.values(hash).every((v) => typeof v === 'string')).toBe(true);
    expect(hash['requests']).toBe('[{"id":"wamid.R1","at":' + T0 + '}]');
    expect(parsePermissionRecord(key, hash)).toEqual(record);
    expect(snapshotOf(record)).not.toHaveProperty('version');
  });

  it('reading rejects bad states, versions and JSON, naming the fields, and drops unknown fields', () => {
    const hash = { ...toPermissionHash(record), state: 'maybe', version: 'x', connectedCalls: '[oops' };
    expect(() => parsePermissionRecord(key, hash)).toThrow(InvalidPermissionRecordError);
    expect(() => parsePermissionRecord(key, hash)).toThrow(/state.*version.*connectedCalls/s);
    expect(parsePermissionRecord(key, { ...toPermissionHash(record), future: '1' })).not.toHaveProperty('future');
  });

  it('reading refuses a hash that belongs to another pair', () => {
    expect(() => parsePermissionRecord({ ...key, waId: '1999' }, toPermissionHash(record))).toThrow(/belongs to/);
  });

  it('writing rejects fractional times and empty strings as bugs', () => {
    expect(() => toPermissionHash({ ...record, updatedAt: 1.5 })).toThrow(TypeError);
    expect(() => toPermissionHash({ ...record, waId: '' })).toThrow(TypeError);
  });

  it('state names are recognised', () => {
    expect(isPermissionState('declined')).toBe(true);
    expect(isPermissionState('granted')).toBe(false);
  });
});

describe('TTL by state', () => {
  it('permanent grants and declines never expire; a temporary grant lives 8 days past its expiry; others 8 days', () => {
    expect(permissionTtlMs({ state: 'granted-always' }, T0)).toBeNull();
    expect(permissionTtlMs({ state: 'declined' }, T0)).toBeNull();
    expect(permissionTtlMs({ state: 'granted-once', expiresAt: T0 + 7 * DAY_MS }, T0)).toBe(15 * DAY_MS);
    expect(permissionTtlMs({ state: 'granted-once', expiresAt: T0 - 30 * DAY_MS }, T0)).toBe(PERMISSION_RETENTION_MS);
    for (const state of ['none', 'requested', 'revoked', 'expired'] as const) expect(permissionTtlMs({ state }, T0)).toBe(8 * DAY_MS);
  });
});
