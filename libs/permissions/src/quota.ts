import { DAY_MS, META_PERMISSION_RULES, WEEK_MS, type PermissionRules } from './permission.rules';

/**
 * Meta's per-pair counters, computed from a permission record (reference §4, UCP-2606):
 * - permission requests: at most `requestsPer24h` per rolling 24 h and `requestsPer7d` per rolling 7 days,
 *   free-form and template alike; any connected call, in either direction, resets the count (138009);
 * - connected business-initiated calls: at most `callsPer24h` per rolling 24 h (138012). Reaching it does
 *   not revoke the permission.
 * Pure; every function takes `now` (epoch ms) so tests cross the windows with a number.
 */

/** A permission request we sent: its wamid (to match the reply) and when. */
export interface SentRequest {
  id: string;
  at: number;
}

/** Most entries kept in each list: far above Meta's limits, so only a runaway writer hits it. */
const MAX_REQUESTS_KEPT = 64;
const MAX_CONNECTED_KEPT = 1000;

/** Requests of the last 7 days, oldest first (older ones count toward nothing and match no open request). */
export function pruneRequests(requests: readonly SentRequest[], now: number): SentRequest[] {
  return requests
    .filter((r) => r.at > now - WEEK_MS)
    .sort((a, b) => a.at - b.at)
    .slice(-MAX_REQUESTS_KEPT);
}

/** Connected business-initiated call times of the last 24 h, oldest first. */
export function pruneConnectedCalls(times: readonly number[], now: number): number[] {
  return times
    .filter((t) => t > now - DAY_MS)
    .sort((a, b) => a - b)
    .slice(-MAX_CONNECTED_KEPT);
}

/** What the quota functions read from a record (a `PermissionSnapshot` or `PermissionRecord` is one). */
export interface QuotaFacts {
  requests: readonly SentRequest[];
  lastConnectedAt?: number;
  connectedCalls: readonly number[];
  requestBlockedUntil?: number;
  callBlockedUntil?: number;
}

export interface RequestQuota {
  canRequest: boolean;
  /** Requests still allowed in the rolling 24 h / 7 day windows by our own count. */
  left24h: number;
  left7d: number;
  /** When a request becomes possible again; set only when `canRequest` is false. */
  nextRequestAt?: number;
  /** Meta (via `GET call_permissions`) forbade requests until then; counted in `canRequest`. */
  blockedByMetaUntil?: number;
}

export interface CallCap {
  canCall: boolean;
  /** Connected business-initiated calls in the rolling 24 h. */
  used: number;
  /** When the next call may be placed; set only when `canCall` is false. */
  nextCallAt?: number;
  blockedByMetaUntil?: number;
}

interface WindowUse {
  count: number;
  left: number;
  /** When a slot frees (the entry keeping the window full leaves it); set only when full. */
  freesAt?: number;
}

function windowUse(times: readonly number[], now: number, periodMs: number, maxAllowed: number): WindowUse {
  const inWindow = times.filter((t) => t > now - periodMs && t <= now).sort((a, b) => a - b);
  const left = Math.max(0, maxAllowed - inWindow.length);
  if (left > 0) return { count: inWindow.length, left };
  const pivot = inWindow[inWindow.length - maxAllowed] as number;
  return { count: inWindow.length, left, freesAt: pivot + periodMs };
}

/** Request times that still count: sent after the last connected call. */
export function countedRequestTimes(facts: Pick<QuotaFacts, 'requests' | 'lastConnectedAt'>): number[] {
  const resetAt = facts.lastConnectedAt;
  return facts.requests.filter((r) => resetAt === undefined || r.at > resetAt).map((r) => r.at);
}

/** The permission-request quota of a pair as of `now`. A missing record has the whole quota. */
export function quotaOf(record: QuotaFacts | null, now: number, rules: Pick<PermissionRules, 'requestsPer24h' | 'requestsPer7d'> = META_PERMISSION_RULES): RequestQuota {
  const times = record ? countedRequestTimes(record) : [];
  const day = windowUse(times, now, DAY_MS, rules.requestsPer24h);
  const week = windowUse(times, now, WEEK_MS, rules.requestsPer7d);
  const blocked = record?.requestBlockedUntil !== undefined && record.requestBlockedUntil > now ? record.requestBlockedUntil : undefined;
  const out: RequestQuota = { canRequest: day.left > 0 && week.left > 0 && blocked === undefined, left24h: day.left, left7d: week.left };
  if (blocked !== undefined) out.blockedByMetaUntil = blocked;
  if (!out.canRequest) out.nextRequestAt = Math.max(day.freesAt ?? 0, week.freesAt ?? 0, blocked ?? 0);
  return out;
}

/** The daily cap of connected business-initiated calls of a pair as of `now`. */
export function capOf(record: QuotaFacts | null, now: number, capPerDay: number = META_PERMISSION_RULES.callsPer24h): CallCap {
  if (!Number.isSafeInteger(capPerDay) || capPerDay <= 0) throw new TypeError(`capPerDay must be a positive integer, got ${String(capPerDay)}`);
  const day = windowUse(record?.connectedCalls ?? [], now, DAY_MS, capPerDay);
  const blocked = record?.callBlockedUntil !== undefined && record.callBlockedUntil > now ? record.callBlockedUntil : undefined;
  const out: CallCap = { canCall: day.left > 0 && blocked === undefined, used: day.count };
  if (blocked !== undefined) out.blockedByMetaUntil = blocked;
  if (!out.canCall) out.nextCallAt = Math.max(day.freesAt ?? 0, blocked ?? 0);
  return out;
}
