import type { RefusalCode } from './permissions.errors';
import { effectiveState, type PermissionSnapshot, type PermissionState, type RevokedBy } from './permission.machine';
import { META_PERMISSION_RULES, type PermissionRules } from './permission.rules';
import { capOf, quotaOf } from './quota';

/**
 * What to do when an agent (CRM API) or the PBX (SIP side) wants to place a business-initiated call:
 * - `call`: a grant covers it and the daily cap of connected calls is not reached;
 * - `request`: no permission yet and a request may be sent now; `nextRequestAt` is when another could
 *   follow if this one stays unanswered;
 * - `refuse`: with a code, a sentence for the agent and, when waiting helps, `retryAt` (epoch ms).
 */
export type PermissionDecision =
  | { action: 'call'; state: 'granted-once' | 'granted-always'; expiresAt?: number }
  | { action: 'request'; state: PermissionState; nextRequestAt?: number }
  | { action: 'refuse'; state: PermissionState; code: RefusalCode; reason: string; retryAt?: number };

/** Per-decision overrides of the repository's rules (e.g. a sandbox number's limits). */
export type DecideOptions = Partial<Pick<PermissionRules, 'requestsPer24h' | 'requestsPer7d' | 'callsPer24h'>>;

function when(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const REVOKED_WHY: Record<RevokedBy, string> = {
  'unanswered-calls': 'was withdrawn automatically after several unanswered or rejected calls in a row',
  automatic: 'was withdrawn automatically by WhatsApp',
  user: 'was withdrawn by the customer',
  reconciled: 'is no longer listed by WhatsApp',
};

/** Why the customer has no permission now, as the start of a sentence. */
function noPermissionWhy(record: PermissionSnapshot | null, state: PermissionState): string {
  if (state === 'expired' && record?.expiresAt !== undefined) return `The customer's temporary call permission expired at ${when(record.expiresAt)}`;
  if (state === 'revoked') return `The customer's call permission ${REVOKED_WHY[record?.revokedBy ?? 'automatic']}`;
  return 'The customer has not given call permission';
}

function refuse(state: PermissionState, code: RefusalCode, reason: string, retryAt?: number): PermissionDecision {
  return retryAt === undefined ? { action: 'refuse', state, code, reason } : { action: 'refuse', state, code, reason, retryAt };
}

function decideGranted(record: PermissionSnapshot, state: 'granted-once' | 'granted-always', now: number, rules: PermissionRules): PermissionDecision {
  const cap = capOf(record, now, rules.callsPer24h);
  if (!cap.canCall) {
    const reason =
      cap.blockedByMetaUntil !== undefined && cap.used < rules.callsPer24h
        ? `WhatsApp reports the daily call limit for this customer as reached; the next call can be placed at ${when(cap.nextCallAt ?? now)}.`
        : `The limit of ${rules.callsPer24h} connected calls to this customer in 24 hours has been reached; the next call can be placed at ${when(cap.nextCallAt ?? now)}.`;
    return refuse(state, 'DAILY_CALL_CAP', reason, cap.nextCallAt);
  }
  return state === 'granted-once' && record.expiresAt !== undefined ? { action: 'call', state, expiresAt: record.expiresAt } : { action: 'call', state };
}

function decideRequest(record: PermissionSnapshot | null, state: PermissionState, now: number, rules: PermissionRules): PermissionDecision {
  const quota = quotaOf(record, now, rules);
  const latest = record?.requests[record.requests.length - 1];
  if (!quota.canRequest) {
    const next = quota.nextRequestAt ?? now;
    if (state === 'requested' && latest) {
      // still a quota refusal: the agent cannot ask again before `next` (the CRM shows one code for it)
      return refuse(state, 'PERMISSION_QUOTA', `A call permission request was sent to the customer at ${when(latest.at)} and is not answered yet; another request can be sent at ${when(next)}.`, next);
    }
    const limit = quota.blockedByMetaUntil !== undefined && quota.left24h > 0 && quota.left7d > 0
      ? 'WhatsApp reports the permission request limit for this customer as reached'
      : `WhatsApp allows only ${rules.requestsPer24h} permission request per 24 hours and ${rules.requestsPer7d} per 7 days, and they are used up`;
    return refuse(state, 'PERMISSION_QUOTA', `${noPermissionWhy(record, state)}; ${limit}. The next request can be sent at ${when(next)}.`, next);
  }
  const after = quotaOf({ ...(record ?? { connectedCalls: [] }), requests: [...(record?.requests ?? []), { id: '(this request)', at: now }] }, now, rules);
  return after.nextRequestAt === undefined ? { action: 'request', state } : { action: 'request', state, nextRequestAt: after.nextRequestAt };
}

/**
 * The one decision made before placing a business-initiated call, from a pair's record as of `now`.
 * Pure: it sends nothing and records nothing; the caller sends the request (then applies `request.sent`)
 * or places the call. `declined` is final for us (no request is sent again); a pending request is
 * re-sent only when the quota allows another one.
 */
export function decidePermission(record: PermissionSnapshot | null, now: number, rules: PermissionRules = META_PERMISSION_RULES): PermissionDecision {
  const state = effectiveState(record, now);
  switch (state) {
    case 'granted-once':
    case 'granted-always':
      return decideGranted(record as PermissionSnapshot, state, now, rules);
    case 'declined': {
      const since = record?.stateSince ? ` at ${when(record.stateSince)}` : '';
      return refuse(
        state,
        'PERMISSION_DECLINED',
        `The customer chose not to allow calls from this business${since}, so no new permission request will be sent. They can still call you, or allow calls from your business profile in WhatsApp.`,
      );
    }
    case 'none':
    case 'requested':
    case 'revoked':
    case 'expired':
      return decideRequest(record, state, now, rules);
  }
}
