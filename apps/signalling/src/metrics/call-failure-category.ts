import type { CallRecord } from '@wagw/call-state';

/**
 * Why a call that never became active failed, as one of a few bounded values (a metric label must never
 * carry free text or ids):
 * - `busy`: the PBX answered 486/600;
 * - `no-answer`: nobody picked up (PBX 480 or our ring timeout; the WhatsApp user let it ring out);
 * - `declined`: a party refused the call (PBX 603, the WhatsApp user rejected it);
 * - `unreachable`: the PBX did not answer at all (no response, transport error, 408, 502/503/504);
 * - `permission`: no call permission (declined, expired, not answered, Meta's 138006, the daily cap);
 * - `cancelled`: the caller gave up before the answer (user hang-up, PBX CANCEL, API hang-up);
 * - `media`: WhatsApp media (ICE/DTLS) did not come up;
 * - `error`: a gateway-side failure (set-up exception, Graph API error, no route);
 * - `other`: anything else (after-hours rejection, a PBX final response without a category above).
 * Only unanswered calls get a category: a call that was active ended normally, whoever hung up.
 */
export const CALL_FAILURE_CATEGORIES = ['busy', 'no-answer', 'declined', 'unreachable', 'permission', 'cancelled', 'media', 'error', 'other'] as const;
export type CallFailureCategory = (typeof CALL_FAILURE_CATEGORIES)[number];

/** The CDR fields the category is derived from. */
export type FailureCdr = Pick<CallRecord, 'endedBy' | 'endCause' | 'waCause' | 'sipCause'>;

/** libs/sip CallCause as bridge-to-pbx and dial-agent write it into the end cause (`PBX <cause>`). */
const SIP_LAYER_CAUSES: Readonly<Record<string, CallFailureCategory>> = {
  busy: 'busy',
  declined: 'declined',
  'no-answer': 'no-answer',
  unreachable: 'unreachable',
  timeout: 'unreachable',
  cancelled: 'cancelled',
  rejected: 'other',
  'auth-failed': 'error',
};

/** A final SIP status (RFC 3261 §21) at the start of the CDR's sipCause, e.g. `486 Busy Here`. */
function categoryOfSipStatus(sipCause: string | undefined): CallFailureCategory | undefined {
  const m = /^([3-6]\d\d)\b/.exec(sipCause ?? '');
  if (!m) return undefined;
  const status = Number(m[1]);
  if (status === 486 || status === 600) return 'busy';
  if (status === 603) return 'declined';
  if (status === 480) return 'no-answer';
  if (status === 487) return 'cancelled';
  if (status === 408 || status === 502 || status === 503 || status === 504) return 'unreachable';
  if (status === 401 || status === 407) return 'error';
  return 'other';
}

/** Words the use cases put in end causes (calls/*.use-case.ts), most specific first. */
const TEXT_RULES: ReadonlyArray<[RegExp, CallFailureCategory]> = [
  [/permission|daily cap/i, 'permission'],
  [/media failed|\bICE\b|\bDTLS\b/i, 'media'],
  [/did not answer|no-answer|ring timeout/i, 'no-answer'],
  [/declined|rejected by the user/i, 'declined'],
  [/\bbusy\b/i, 'busy'],
  [/unreachable/i, 'unreachable'],
  [/after hours/i, 'other'],
  [/without SDP|set-up failed|WhatsApp call failed|WhatsApp refused|no PBX route/i, 'error'],
];

/**
 * The failure category of an unanswered call from its CDR. Order: the SIP layer's own classification
 * (`PBX busy`, `agent phone: PBX no-answer`: it knows a ring timeout from a 487), then the words of the end
 * cause, then WhatsApp's terminate status, then the SIP status, then who ended it (the WhatsApp user or the
 * API hanging up before the answer is `cancelled`, an unexplained gateway end `error`).
 */
export function callFailureCategory(cdr: FailureCdr): CallFailureCategory {
  const cause = cdr.endCause ?? '';
  const sipLayer = /^(?:agent phone: )?PBX ([a-z-]+)$/.exec(cause);
  const fromSipLayer = sipLayer ? SIP_LAYER_CAUSES[sipLayer[1] as string] : undefined;
  if (fromSipLayer) return fromSipLayer;
  for (const [pattern, category] of TEXT_RULES) if (pattern.test(cause)) return category;
  if (cdr.waCause === 'rejected') return 'declined';
  if (cdr.waCause?.startsWith('failed')) return 'error';
  const fromStatus = categoryOfSipStatus(cdr.sipCause);
  if (fromStatus) return fromStatus;
  if (cdr.endedBy === 'wa' || cdr.endedBy === 'api' || cdr.sipCause === 'CANCEL') return 'cancelled';
  if (cdr.endedBy === 'system') return 'error';
  return 'other';
}
