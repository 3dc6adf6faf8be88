import { META_PERMISSION_RULES, type PermissionRules } from './permission.rules';
import { nextSnapshot, prunedSnapshot, sameSnapshot } from './permission-snapshot';
import type { SentRequest } from './quota';

/**
 * The call-permission state machine of one (business phone number id, user wa_id) pair: states, inputs,
 * one transition table and one pure `transition` function. No I/O; `PermissionRepository.apply` reads,
 * transitions and writes by compare-and-set. Meta's rules: reference §2.8 (reply scenarios), §4 (limits).
 *
 * ```
 *   none, expired, revoked --request.sent--> requested
 *
 *   any state --reply accept once | callback grant (automatic)--> granted-once  (not from granted-always)
 *   any state --reply accept always-----------------------------> granted-always
 *   any state --reply reject (user)-----------------------------> declined
 *   reconciled temporary | permanent: as the replies above
 *
 *   granted-once --our clock passes expiresAt (no webhook)------> expired
 *   granted-once, granted-always --4th unanswered call in a row
 *        | automatic reject | reconciled no_permission | revoked.by-user--> revoked
 *   requested --request.failed (our latest request)-------------> none
 *
 *   declined, granted-*: request.sent is recorded (quota) but keeps the state;
 *   call.connected / call.unanswered only move counters (reset quota, miss streak, daily cap)
 * ```
 * States:
 * - `none`: nothing known (no record, or only call counters).
 * - `requested`: a permission request is out and unanswered. It stays answerable for 7 days (§4).
 * - `granted-once`: temporary permission until `expiresAt` (7 days; a user call with callback ENABLED
 *   grants it automatically). Past `expiresAt` it is `expired` by the clock alone: Meta sends no webhook.
 * - `granted-always`: permanent permission until the user revokes it.
 * - `declined`: the user chose "never allow". We send no further requests; a later accept (the request
 *   is still open, a callback grant, the business profile) grants again.
 * - `revoked`: a grant was withdrawn: 4 unanswered business calls in a row, Meta's automatic reject, the
 *   user (business profile, or a 138006 on connect), or `GET call_permissions` saying `no_permission`.
 * - `expired`: a temporary grant ran out.
 *
 * Every input is an external fact (a webhook, a Graph result, a call outcome, a request we did send), so no
 * pair throws: the table decides apply or ignore-and-log. Before the table, guards drop duplicates and
 * out-of-order facts: a reply, reconcile or revocation older (by its timestamp) than the permission fact we
 * hold is stale; a reply to a request older than the one whose reply we applied is superseded (answering a
 * newer request expires the older ones, §4); an unanswered call older than the last connected call does not
 * count. Replies are Meta's truth about the permission, so one that names a request we do not know (sent
 * by another system, or older than our record) is still applied, with a note. Replies within one second
 * cannot be ordered (Meta's timestamps are seconds): the later delivery wins.
 */
export const PERMISSION_STATES = ['none', 'requested', 'granted-once', 'granted-always', 'declined', 'revoked', 'expired'] as const;
export type PermissionState = (typeof PERMISSION_STATES)[number];

/** Who took a grant away, for the agent's explanation. */
export const REVOKED_BY = ['unanswered-calls', 'automatic', 'user', 'reconciled'] as const;
export type RevokedBy = (typeof REVOKED_BY)[number];

export type ReplySource = 'user_action' | 'automatic';

/** Times are epoch milliseconds (webhook seconds are converted by `permission.inputs.ts`). */
export type PermissionInput =
  /** We sent a permission request; `messageId` is the wamid Meta returned. Counts toward the quota. */
  | { type: 'request.sent'; messageId: string; at: number }
  /** A status webhook says our request message failed (e.g. 131026, client too old). */
  | { type: 'request.failed'; messageId: string; at: number }
  /** `call_permission_reply` (reference §2.8). `contextId` is our request's wamid or, for the automatic callback grant, the call's wacid. */
  | {
      type: 'reply';
      response: 'accept' | 'reject';
      isPermanent: boolean;
      expiresAt?: number;
      source: ReplySource;
      contextId?: string;
      contextKind?: 'message' | 'call';
      at: number;
    }
  /** Our clock passed `expiresAt` of a temporary grant (Meta sends nothing). */
  | { type: 'expiry.observed'; at: number }
  /** A call between the pair connected. Either direction resets the request quota and the miss streak; business-initiated ones count toward the daily cap. */
  | { type: 'call.connected'; direction: 'business_initiated' | 'user_initiated'; at: number }
  /** A business-initiated call ended unanswered or rejected by the user. */
  | { type: 'call.unanswered'; at: number }
  /** `GET call_permissions` result at `at`; `*BlockedUntil` from Meta's `limit_expiration_time`s. */
  | {
      type: 'reconciled';
      status: 'no_permission' | 'temporary' | 'permanent';
      expiresAt?: number;
      requestBlockedUntil?: number;
      callBlockedUntil?: number;
      at: number;
    }
  /** The user withdrew permission (business profile; a 138006 "no permission" on connect). */
  | { type: 'revoked.by-user'; at: number };
export type PermissionInputType = PermissionInput['type'];

/**
 * The table's columns: inputs classified by what they mean (a reply is one of five scenarios of §2.8;
 * an unanswered call is the one that reaches the revocation threshold or not).
 */
export const PERMISSION_SIGNALS = [
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
] as const;
export type PermissionSignal = (typeof PERMISSION_SIGNALS)[number];

/** The last reply applied, as stored (times in ms). */
export interface ReplyRecord {
  at: number;
  response: 'accept' | 'reject';
  isPermanent: boolean;
  source: ReplySource;
  expiresAt?: number;
  contextId?: string;
  contextKind?: 'message' | 'call';
}

/** What the machine knows about a pair. `PermissionRecord` adds the key, version and timestamps. */
export interface PermissionSnapshot {
  state: PermissionState;
  /** When the state was entered (the input's time; a temporary grant's expiry for `expired`). */
  stateSince: number;
  /** Expiry of a temporary grant (`granted-once`, `expired`). */
  expiresAt?: number;
  revokedBy?: RevokedBy;
  /** Requests we sent, oldest first, pruned to the 7-day quota window (ids match replies). */
  requests: SentRequest[];
  lastReply?: ReplyRecord;
  /** Time of the newest reply, reconcile or revocation that set the permission; older ones are stale. */
  permissionAsOf?: number;
  reconciledAt?: number;
  /** Last connected call in either direction: requests sent at or before it no longer count. */
  lastConnectedAt?: number;
  /** Connected business-initiated calls, oldest first, pruned to 24 h. */
  connectedCalls: number[];
  /** Consecutive unanswered or rejected business-initiated calls since the last connected call. */
  missedInRow: number;
  lastUnansweredAt?: number;
  /** Meta said (reconcile) that no request / no call may be made before these times. */
  requestBlockedUntil?: number;
  callBlockedUntil?: number;
}

export type PermissionTransition =
  | { kind: 'applied'; from: PermissionState; to: PermissionState; signal: PermissionSignal; next: PermissionSnapshot; note?: string }
  | { kind: 'ignored'; state: PermissionState; signal?: PermissionSignal; reason: string };

type Target = PermissionState | 'ignore';
type Row = Readonly<Record<PermissionSignal, Target>>;

/** Facts that keep the state and only update counters, requests or the permission's as-of time. */
function counters(state: PermissionState): Pick<Row, 'call.connected' | 'call.unanswered'> {
  return { 'call.connected': state, 'call.unanswered': state };
}

/** Replies and reconciles mean the same from every state without a live grant. */
function regrant(state: PermissionState): Omit<Row, 'request.sent' | 'request.failed' | 'expiry.observed' | 'call.connected' | 'call.unanswered' | 'call.unanswered-limit' | 'revoked.by-user'> {
  return {
    'reply.accept-once': 'granted-once',
    'reply.accept-always': 'granted-always',
    'reply.reject': 'declined',
    'reply.auto-grant': 'granted-once',
    'reply.auto-revoke': state === 'declined' ? 'ignore' : 'revoked',
    'reconciled.no-permission': state,
    'reconciled.temporary': 'granted-once',
    'reconciled.permanent': 'granted-always',
  };
}

/** The one transition table, by effective state (`effectiveState`). Every pair is listed. */
export const PERMISSION_TRANSITIONS: Readonly<Record<PermissionState, Row>> = {
  none: { ...regrant('none'), 'request.sent': 'requested', 'request.failed': 'ignore', 'expiry.observed': 'ignore', ...counters('none'), 'call.unanswered-limit': 'none', 'revoked.by-user': 'revoked' },
  requested: {
    ...regrant('requested'),
    'reply.auto-revoke': 'ignore',
    'request.sent': 'requested',
    'request.failed': 'none',
    'expiry.observed': 'ignore',
    ...counters('requested'),
    'call.unanswered-limit': 'requested',
    'revoked.by-user': 'ignore',
  },
  'granted-once': {
    ...regrant('granted-once'),
    'reconciled.no-permission': 'revoked',
    'request.sent': 'granted-once',
    'request.failed': 'ignore',
    'expiry.observed': 'ignore',
    ...counters('granted-once'),
    'call.unanswered-limit': 'revoked',
    'revoked.by-user': 'revoked',
  },
  'granted-always': {
    ...regrant('granted-always'),
    'reply.auto-grant': 'ignore',
    'reconciled.no-permission': 'revoked',
    'request.sent': 'granted-always',
    'request.failed': 'ignore',
    'expiry.observed': 'ignore',
    ...counters('granted-always'),
    'call.unanswered-limit': 'revoked',
    'revoked.by-user': 'revoked',
  },
  declined: { ...regrant('declined'), 'request.sent': 'declined', 'request.failed': 'ignore', 'expiry.observed': 'ignore', ...counters('declined'), 'call.unanswered-limit': 'declined', 'revoked.by-user': 'ignore' },
  revoked: { ...regrant('revoked'), 'request.sent': 'requested', 'request.failed': 'ignore', 'expiry.observed': 'ignore', ...counters('revoked'), 'call.unanswered-limit': 'revoked', 'revoked.by-user': 'revoked' },
  expired: { ...regrant('expired'), 'request.sent': 'requested', 'request.failed': 'ignore', 'expiry.observed': 'expired', ...counters('expired'), 'call.unanswered-limit': 'expired', 'revoked.by-user': 'revoked' },
};

const IGNORE_REASONS: Partial<Record<PermissionSignal, string>> = {
  'request.failed': 'no pending request to fail',
  'expiry.observed': 'no temporary permission has expired by the given clock',
  'reply.auto-revoke': 'nothing to revoke: the user has given no permission',
  'reply.auto-grant': 'a permanent permission already covers the automatic callback grant',
  'revoked.by-user': 'nothing to revoke: the user has given no permission',
};

/** A snapshot with nothing known: what a missing record means. */
export function emptySnapshot(): PermissionSnapshot {
  return { state: 'none', stateSince: 0, requests: [], connectedCalls: [], missedInRow: 0 };
}

/**
 * The state as of `now`: a temporary grant whose `expiresAt` has passed is `expired` even if no
 * `expiry.observed` was persisted (Meta sends no webhook for it). A missing record is `none`.
 */
export function effectiveState(record: Pick<PermissionSnapshot, 'state' | 'expiresAt'> | null | undefined, now: number): PermissionState {
  if (!record) return 'none';
  if (record.state === 'granted-once' && record.expiresAt !== undefined && now >= record.expiresAt) return 'expired';
  return record.state;
}

function assertInput(input: PermissionInput): void {
  if (!Number.isSafeInteger(input.at) || input.at < 0) throw new TypeError(`permission input ${input.type}: at must be epoch ms, got ${String(input.at)}`);
  if ((input.type === 'request.sent' || input.type === 'request.failed') && !input.messageId) throw new TypeError(`permission input ${input.type}: messageId is required`);
  for (const k of ['expiresAt', 'requestBlockedUntil', 'callBlockedUntil'] as const) {
    const v = (input as Partial<Record<typeof k, unknown>>)[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) throw new TypeError(`permission input ${input.type}: ${k} must be epoch ms, got ${String(v)}`);
  }
}

/** Classifies an input into its table column. */
export function signalOf(snapshot: PermissionSnapshot, input: PermissionInput, now: number, rules: PermissionRules = META_PERMISSION_RULES): PermissionSignal {
  switch (input.type) {
    case 'reply':
      if (input.response === 'reject') return input.source === 'automatic' ? 'reply.auto-revoke' : 'reply.reject';
      if (input.isPermanent) return 'reply.accept-always';
      return input.source === 'automatic' ? 'reply.auto-grant' : 'reply.accept-once';
    case 'call.unanswered':
      return snapshot.missedInRow + 1 >= rules.revokeAfterMisses ? 'call.unanswered-limit' : 'call.unanswered';
    case 'reconciled':
      if (input.status === 'permanent') return 'reconciled.permanent';
      if (input.status === 'temporary' && (input.expiresAt === undefined || input.expiresAt > now)) return 'reconciled.temporary';
      return 'reconciled.no-permission';
    default:
      return input.type;
  }
}

function requestOf(snapshot: PermissionSnapshot, id: string | undefined): SentRequest | undefined {
  return id === undefined ? undefined : snapshot.requests.find((r) => r.id === id);
}

/** Meta's webhook timestamps are Unix seconds: a reply happened up to this much after its stamp. */
const WEBHOOK_TIME_RESOLUTION_MS = 1000;

/** Why an input is dropped before the table (duplicate, stale, superseded), or undefined to go on. */
function guard(snapshot: PermissionSnapshot, input: PermissionInput): string | undefined {
  const asOf = snapshot.permissionAsOf;
  switch (input.type) {
    case 'request.sent':
      return requestOf(snapshot, input.messageId) ? `duplicate: request ${input.messageId} is already recorded` : undefined;
    case 'request.failed': {
      const latest = snapshot.requests[snapshot.requests.length - 1];
      return latest?.id === input.messageId ? undefined : `${input.messageId} is not our latest request`;
    }
    case 'reply': {
      // webhook timestamps are whole seconds: a reply stamped in the same second as a fact may be the newer
      if (asOf !== undefined && input.at + WEBHOOK_TIME_RESOLUTION_MS <= asOf) return `stale: reply at ${iso(input.at)} is older than the permission fact of ${iso(asOf)}`;
      if (input.contextKind !== 'message') return undefined;
      const answered = requestOf(snapshot, input.contextId);
      const lastAnswered = requestOf(snapshot, snapshot.lastReply?.contextKind === 'message' ? snapshot.lastReply.contextId : undefined);
      if (answered && lastAnswered && lastAnswered.at > answered.at) return `superseded: the user already answered the newer request ${lastAnswered.id}`;
      return undefined;
    }
    case 'reconciled':
    case 'revoked.by-user':
      return asOf !== undefined && input.at < asOf ? `stale: ${input.type} at ${iso(input.at)} is older than the permission fact of ${iso(asOf)}` : undefined;
    case 'call.connected':
      return input.direction === 'business_initiated' && snapshot.connectedCalls.includes(input.at) ? `duplicate: connected call at ${iso(input.at)} is already counted` : undefined;
    case 'call.unanswered':
      if (snapshot.lastUnansweredAt === input.at) return `duplicate: unanswered call at ${iso(input.at)} is already counted`;
      if (snapshot.lastConnectedAt !== undefined && input.at <= snapshot.lastConnectedAt) return 'stale: a call connected after it, so it does not count';
      return undefined;
    default:
      return undefined;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Decides what `input` does to a pair whose stored snapshot is `snapshot` (null: no record), with `now`
 * as the clock for expiry. Pure. Returns `applied` with the next snapshot (possibly the same state with
 * new counters or facts) or `ignored` with a reason to log; never throws for a well-formed input
 * (TypeError for a malformed one: a bug in the caller).
 */
export function transition(
  snapshot: PermissionSnapshot | null,
  input: PermissionInput,
  now: number,
  rules: PermissionRules = META_PERMISSION_RULES,
): PermissionTransition {
  assertInput(input);
  const current = snapshot ?? emptySnapshot();
  const from = effectiveState(current, now);
  const dropped = guard(current, input);
  if (dropped !== undefined) return { kind: 'ignored', state: from, reason: dropped };
  const signal = signalOf(current, input, now, rules);
  const to = PERMISSION_TRANSITIONS[from][signal];
  if (to === 'ignore') return { kind: 'ignored', state: from, signal, reason: `${IGNORE_REASONS[signal] ?? 'no effect'} (${signal} in ${from})` };
  const base = prunedSnapshot(current, now);
  const next = nextSnapshot(base, input, from, to, now, rules);
  if (sameSnapshot(base, next)) return { kind: 'ignored', state: from, signal, reason: `duplicate: ${signal} changes nothing in ${from}` };
  const unknownRequest = input.type === 'reply' && input.contextKind === 'message' && !requestOf(current, input.contextId);
  const result: PermissionTransition = { kind: 'applied', from, to, signal, next };
  if (unknownRequest) result.note = `reply to a request this record does not know (${String(input.contextId)}): applied, Meta's reply is authoritative`;
  return result;
}
