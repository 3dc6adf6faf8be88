import type { PermissionInput, PermissionSnapshot, PermissionState } from './permission.machine';
import type { PermissionRules } from './permission.rules';
import { pruneConnectedCalls, pruneRequests } from './quota';

/**
 * How an applied input changes a permission snapshot besides its state (the machine's table decides the
 * state). Pure helpers of `transition`; times are epoch ms.
 */

type Input<T extends PermissionInput['type']> = Extract<PermissionInput, { type: T }>;
type Effects = Partial<PermissionSnapshot>;

function maxOf(a: number | undefined, b: number): number {
  return a === undefined ? b : Math.max(a, b);
}

/** A temporary grant's expiry: Meta's, else 7 days (the rules) from the fact. */
function grantExpiry(input: { expiresAt?: number; at: number }, rules: PermissionRules): number {
  return input.expiresAt ?? input.at + rules.temporaryPermissionMs;
}

function replyEffects(cur: PermissionSnapshot, input: Input<'reply'>, to: PermissionState, rules: PermissionRules): Effects {
  const { type: _t, ...reply } = input;
  const out: Effects = { lastReply: reply, permissionAsOf: input.at };
  if (to === 'granted-once') out.expiresAt = grantExpiry(input, rules);
  // A pair already revoked keeps the first cause (ours after 4 misses, before Meta's automatic reject).
  if (to === 'revoked') out.revokedBy = cur.revokedBy ?? 'automatic';
  return out;
}

function connectedEffects(cur: PermissionSnapshot, input: Input<'call.connected'>, now: number): Effects {
  const out: Effects = { lastConnectedAt: maxOf(cur.lastConnectedAt, input.at) };
  // A connected call ends the miss streak unless a miss came after it (out-of-order delivery).
  if (cur.lastUnansweredAt === undefined || input.at >= cur.lastUnansweredAt) out.missedInRow = 0;
  if (input.direction === 'business_initiated') out.connectedCalls = pruneConnectedCalls([...cur.connectedCalls, input.at], now);
  // A connected call resets Meta's request limit (reference §4), so a block Meta reported before it is void.
  if (cur.requestBlockedUntil !== undefined && input.at >= (cur.reconciledAt ?? 0)) out.requestBlockedUntil = undefined;
  return out;
}

function unansweredEffects(cur: PermissionSnapshot, input: Input<'call.unanswered'>, to: PermissionState, rules: PermissionRules): Effects {
  const limit = cur.missedInRow + 1 >= rules.revokeAfterMisses;
  const out: Effects = { missedInRow: limit ? 0 : cur.missedInRow + 1, lastUnansweredAt: maxOf(cur.lastUnansweredAt, input.at) };
  if (to === 'revoked') out.revokedBy = cur.revokedBy ?? 'unanswered-calls';
  return out;
}

function reconciledEffects(cur: PermissionSnapshot, input: Input<'reconciled'>, to: PermissionState, rules: PermissionRules): Effects {
  const out: Effects = {
    permissionAsOf: input.at,
    reconciledAt: input.at,
    requestBlockedUntil: input.requestBlockedUntil,
    callBlockedUntil: input.callBlockedUntil,
  };
  if (to === 'granted-once') out.expiresAt = grantExpiry(input, rules);
  if (to === 'revoked') out.revokedBy = cur.revokedBy ?? 'reconciled';
  return out;
}

/** The fields an input sets besides the state; `to` is the table's target. */
function effects(cur: PermissionSnapshot, input: PermissionInput, to: PermissionState, now: number, rules: PermissionRules): Effects {
  switch (input.type) {
    case 'request.sent':
      return { requests: pruneRequests([...cur.requests, { id: input.messageId, at: input.at }], now) };
    case 'reply':
      return replyEffects(cur, input, to, rules);
    case 'call.connected':
      return connectedEffects(cur, input, now);
    case 'call.unanswered':
      return unansweredEffects(cur, input, to, rules);
    case 'reconciled':
      return reconciledEffects(cur, input, to, rules);
    case 'revoked.by-user':
      return { permissionAsOf: input.at, ...(to === 'revoked' ? { revokedBy: cur.revokedBy ?? 'user' } : {}) };
    case 'request.failed':
    case 'expiry.observed':
      return {};
  }
}

/** The snapshot with its time-bounded lists pruned as of `now` (what a write stores anyway). */
export function prunedSnapshot(s: PermissionSnapshot, now: number): PermissionSnapshot {
  return { ...s, requests: pruneRequests(s.requests, now), connectedCalls: pruneConnectedCalls(s.connectedCalls, now) };
}

/**
 * The snapshot after `input` moved it from `from` (effective state) to `to`. `stateSince` is the input's
 * time on a change; for a temporary grant found expired by the clock it is the expiry itself. An expiry is
 * kept only by `granted-once`/`expired`, a revocation cause only by `revoked`.
 */
export function nextSnapshot(
  cur: PermissionSnapshot,
  input: PermissionInput,
  from: PermissionState,
  to: PermissionState,
  now: number,
  rules: PermissionRules,
): PermissionSnapshot {
  const next: PermissionSnapshot = { ...cur, ...effects(cur, input, to, now, rules), state: to };
  if (to !== from) next.stateSince = input.at;
  else if (cur.state !== to && to === 'expired') next.stateSince = cur.expiresAt ?? input.at;
  if (to !== 'granted-once' && to !== 'expired') next.expiresAt = undefined;
  if (to !== 'revoked') next.revokedBy = undefined;
  return next;
}

/** Field-order-independent, undefined-blind comparison of two snapshots. */
export function sameSnapshot(a: PermissionSnapshot, b: PermissionSnapshot): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
