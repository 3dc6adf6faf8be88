import {
  PERMISSION_SIGNALS,
  PERMISSION_STATES,
  PERMISSION_TRANSITIONS,
  emptySnapshot,
  signalOf,
  transition,
  type PermissionInput,
  type PermissionSignal,
  type PermissionSnapshot,
  type PermissionState,
} from './permission.machine';
import { DAY_MS, HOUR_MS } from './permission.rules';

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);

/**
 * The expected table, written out by hand from reference §2.8/§4 (not generated from the machine).
 * Rows are effective states, columns the signals in this order; `..` = ignored, else the target state.
 */
const COLUMNS: readonly PermissionSignal[] = [
  'request.sent',
  'request.failed',
  'reply.accept-once',
  'reply.accept-always',
  'reply.reject',
  'reply.auto-grant',
  'reply.auto-revoke',
  'expiry.observed',
  'call.connected',
  'call.unanswered',
  'call.unanswered-limit',
  'reconciled.no-permission',
  'reconciled.temporary',
  'reconciled.permanent',
  'revoked.by-user',
];
//                                 sent fail once alws rej  agrt arev exp  conn miss mis4 rnon rtmp rprm urev
const EXPECTED: Record<PermissionState, string> = {
  none: /*                     */ 'rq   ..   g1   ga   dc   g1   rv   ..   no   no   no   no   g1   ga   rv',
  requested: /*                */ 'rq   no   g1   ga   dc   g1   ..   ..   rq   rq   rq   rq   g1   ga   ..',
  'granted-once': /*           */ 'g1   ..   g1   ga   dc   g1   rv   ..   g1   g1   rv   rv   g1   ga   rv',
  'granted-always': /*         */ 'ga   ..   g1   ga   dc   ..   rv   ..   ga   ga   rv   rv   g1   ga   rv',
  declined: /*                 */ 'dc   ..   g1   ga   dc   g1   ..   ..   dc   dc   dc   dc   g1   ga   ..',
  revoked: /*                  */ 'rq   ..   g1   ga   dc   g1   rv   ..   rv   rv   rv   rv   g1   ga   rv',
  expired: /*                  */ 'rq   ..   g1   ga   dc   g1   rv   ex   ex   ex   ex   ex   g1   ga   rv',
};
const ABBR: Record<string, PermissionState> = {
  no: 'none',
  rq: 'requested',
  g1: 'granted-once',
  ga: 'granted-always',
  dc: 'declined',
  rv: 'revoked',
  ex: 'expired',
};

function expectedCell(state: PermissionState, signal: PermissionSignal): string {
  const cell = EXPECTED[state].trim().split(/\s+/)[COLUMNS.indexOf(signal)];
  if (cell === undefined) throw new Error(`no expected cell for ${state} x ${signal}`);
  return cell;
}

/** A stored snapshot in each state: one request (wamid.R1) two hours ago, a permission fact one hour ago. */
function stored(state: PermissionState, label: 'stored' | 'by clock' = 'stored'): PermissionSnapshot {
  const base: PermissionSnapshot = {
    ...emptySnapshot(),
    state,
    stateSince: NOW - HOUR_MS,
    requests: [{ id: 'wamid.R1', at: NOW - 2 * HOUR_MS }],
  };
  switch (state) {
    case 'none':
    case 'requested':
      return base;
    case 'granted-once':
      return { ...base, expiresAt: NOW + 3 * DAY_MS, permissionAsOf: NOW - HOUR_MS };
    case 'expired':
      // "by clock": still stored as granted-once, its expiry passed; no expiry input was persisted.
      return label === 'by clock'
        ? { ...base, state: 'granted-once', expiresAt: NOW - DAY_MS, permissionAsOf: NOW - 8 * DAY_MS }
        : { ...base, expiresAt: NOW - DAY_MS, stateSince: NOW - DAY_MS, permissionAsOf: NOW - 8 * DAY_MS };
    case 'revoked':
      return { ...base, revokedBy: 'user', permissionAsOf: NOW - HOUR_MS };
    default:
      return { ...base, permissionAsOf: NOW - HOUR_MS };
  }
}

/** An input of each signal at NOW, plus the snapshot adjustment it needs (3 misses before the 4th). */
function inputOf(signal: PermissionSignal): { input: PermissionInput; adjust?: Partial<PermissionSnapshot> } {
  const at = NOW;
  const r1 = { contextId: 'wamid.R1', contextKind: 'message' as const };
  switch (signal) {
    case 'request.sent':
      return { input: { type: 'request.sent', messageId: 'wamid.R2', at } };
    case 'request.failed':
      return { input: { type: 'request.failed', messageId: 'wamid.R1', at } };
    case 'reply.accept-once':
      return { input: { type: 'reply', response: 'accept', isPermanent: false, expiresAt: at + 7 * DAY_MS, source: 'user_action', ...r1, at } };
    case 'reply.accept-always':
      return { input: { type: 'reply', response: 'accept', isPermanent: true, source: 'user_action', ...r1, at } };
    case 'reply.reject':
      return { input: { type: 'reply', response: 'reject', isPermanent: false, source: 'user_action', ...r1, at } };
    case 'reply.auto-grant':
      return { input: { type: 'reply', response: 'accept', isPermanent: false, expiresAt: at + 7 * DAY_MS, source: 'automatic', contextId: 'wacid.C1', contextKind: 'call', at } };
    case 'reply.auto-revoke':
      return { input: { type: 'reply', response: 'reject', isPermanent: false, source: 'automatic', at } };
    case 'expiry.observed':
      return { input: { type: 'expiry.observed', at } };
    case 'call.connected':
      return { input: { type: 'call.connected', direction: 'business_initiated', at } };
    case 'call.unanswered':
      return { input: { type: 'call.unanswered', at } };
    case 'call.unanswered-limit':
      return { input: { type: 'call.unanswered', at }, adjust: { missedInRow: 3, lastUnansweredAt: NOW - HOUR_MS } };
    case 'reconciled.no-permission':
      return { input: { type: 'reconciled', status: 'no_permission', at } };
    case 'reconciled.temporary':
      return { input: { type: 'reconciled', status: 'temporary', expiresAt: at + 5 * DAY_MS, at } };
    case 'reconciled.permanent':
      return { input: { type: 'reconciled', status: 'permanent', at } };
    case 'revoked.by-user':
      return { input: { type: 'revoked.by-user', at } };
  }
}

describe('permission machine table', () => {
  it('the expected table covers exactly the states and signals of the machine', () => {
    expect([...COLUMNS].sort()).toEqual([...PERMISSION_SIGNALS].sort());
    expect(Object.keys(EXPECTED).sort()).toEqual([...PERMISSION_STATES].sort());
    for (const s of PERMISSION_STATES) expect(EXPECTED[s].trim().split(/\s+/)).toHaveLength(COLUMNS.length);
  });

  it('the machine table lists every (state, signal) pair', () => {
    for (const s of PERMISSION_STATES) expect(Object.keys(PERMISSION_TRANSITIONS[s]).sort()).toEqual([...PERMISSION_SIGNALS].sort());
  });

  const rows: [PermissionState, 'stored' | 'by clock'][] = PERMISSION_STATES.map((s) => [s, 'stored']);
  rows.push(['expired', 'by clock']);
  const pairs: [PermissionState, 'stored' | 'by clock', PermissionSignal][] = [];
  for (const [s, label] of rows) for (const signal of PERMISSION_SIGNALS) pairs.push([s, label, signal]);

  it.each(pairs)('%s (%s) given %s behaves as the table says', (state, label, signal) => {
    const { input, adjust } = inputOf(signal);
    const snapshot = { ...stored(state, label), ...adjust };
    expect(signalOf(snapshot, input, NOW)).toBe(signal);
    const result = transition(snapshot, input, NOW);
    const cell = expectedCell(state, signal);
    if (cell === '..') {
      expect(result).toEqual({ kind: 'ignored', state, signal, reason: expect.stringContaining(`${signal} in ${state}`) });
      return;
    }
    const to = ABBR[cell];
    if (state === 'expired' && label === 'stored' && signal === 'expiry.observed') {
      // already persisted as expired: observing the expiry again is a duplicate
      expect(result).toEqual({ kind: 'ignored', state, signal, reason: expect.stringContaining('duplicate') });
      return;
    }
    expect(result).toMatchObject({ kind: 'applied', from: state, to, signal });
    if (result.kind !== 'applied') return;
    expect(result.next.state).toBe(to);
    expect(result.next.expiresAt !== undefined).toBe(to === 'granted-once' || to === 'expired');
    expect(result.next.revokedBy !== undefined).toBe(to === 'revoked');
    if (to !== state) expect(result.next.stateSince).toBe(NOW);
  });

  it('a missing record behaves as none', () => {
    expect(transition(null, { type: 'request.sent', messageId: 'wamid.X', at: NOW }, NOW)).toMatchObject({ kind: 'applied', from: 'none', to: 'requested' });
  });

  it('malformed inputs are bugs and throw TypeError', () => {
    expect(() => transition(null, { type: 'expiry.observed', at: 1.5 }, NOW)).toThrow(TypeError);
    expect(() => transition(null, { type: 'request.sent', messageId: '', at: NOW }, NOW)).toThrow(TypeError);
    expect(() => transition(null, { type: 'reconciled', status: 'temporary', expiresAt: -1, at: NOW }, NOW)).toThrow(TypeError);
  });
});
