import { unixSeconds } from './clock';
import type { CallDirection } from './call.record';

/**
 * Pure builders of the webhook bodies Meta sends, exactly in the shapes of reference §2.2-§2.9:
 * the `whatsapp_business_account` envelope, `metadata`, `contacts[]` with `profile`/`wa_id`/`user_id`,
 * timestamps as strings of Unix seconds, `duration` as a number.
 */

export interface BusinessIdentity {
  wabaId: string;
  phoneNumberId: string;
  /** The business number as Meta writes it: E.164 digits without the plus. */
  businessNumber: string;
}

export interface UserIdentity {
  waId: string;
  name: string;
  bsuid: string;
}

export interface WebhookChange {
  field: 'calls' | 'messages' | 'account_settings_update' | 'account_update';
  value: Record<string, unknown>;
}

export interface WebhookBody {
  object: 'whatsapp_business_account';
  /** `time` (Unix seconds, a number) only on account-level changes, which carry no timestamp of their own. */
  entry: { id: string; time?: number; changes: WebhookChange[] }[];
}

export function envelope(biz: BusinessIdentity, change: WebhookChange, entryTimeMs?: number): WebhookBody {
  const entry = entryTimeMs === undefined ? { id: biz.wabaId, changes: [change] } : { id: biz.wabaId, time: Math.floor(entryTimeMs / 1000), changes: [change] };
  return { object: 'whatsapp_business_account', entry: [entry] };
}

function metadata(biz: BusinessIdentity): Record<string, string> {
  return { display_phone_number: biz.businessNumber, phone_number_id: biz.phoneNumberId };
}

function contacts(user: UserIdentity): Record<string, unknown>[] {
  return [{ profile: { name: user.name }, wa_id: user.waId, user_id: user.bsuid }];
}

/** The parties of a call item: `from` is the caller, `to` the callee; the user's BSUID rides along. */
function parties(biz: BusinessIdentity, user: UserIdentity, direction: CallDirection): Record<string, string> {
  return direction === 'USER_INITIATED'
    ? { from: user.waId, from_user_id: user.bsuid, to: biz.businessNumber }
    : { from: biz.businessNumber, to: user.waId, to_user_id: user.bsuid };
}

function withOptional(target: Record<string, unknown>, fields: Record<string, unknown>): Record<string, unknown> {
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) target[k] = v;
  return target;
}

export interface CallConnectFacts {
  callId: string;
  direction: CallDirection;
  timestampMs: number;
  /** UIC: WhatsApp's offer; BIC: WhatsApp's answer. */
  sdp: string;
  bizOpaqueCallbackData?: string;
  ctaPayload?: string;
  deeplinkPayload?: string;
}

/** §2.3 (user-initiated, offer) and §2.4 (business-initiated, answer). */
export function callConnectChange(biz: BusinessIdentity, user: UserIdentity, c: CallConnectFacts): WebhookChange {
  const call = withOptional(
    { id: c.callId, ...parties(biz, user, c.direction), event: 'connect', timestamp: unixSeconds(c.timestampMs), direction: c.direction },
    {
      biz_opaque_callback_data: c.direction === 'BUSINESS_INITIATED' ? c.bizOpaqueCallbackData : undefined,
      cta_payload: c.direction === 'USER_INITIATED' ? c.ctaPayload : undefined,
      deeplink_payload: c.direction === 'USER_INITIATED' ? c.deeplinkPayload : undefined,
    },
  );
  call['session'] = { sdp_type: c.direction === 'USER_INITIATED' ? 'offer' : 'answer', sdp: c.sdp };
  return { field: 'calls', value: { messaging_product: 'whatsapp', metadata: metadata(biz), contacts: contacts(user), calls: [call] } };
}

export interface WebhookError {
  code: number;
  message: string;
  href?: string;
  error_data: { details: string };
}

export interface CallTerminateFacts {
  callId: string;
  direction: CallDirection;
  timestampMs: number;
  status: 'COMPLETED' | 'FAILED';
  /** Only for answered calls (REF-2511): start_time, end_time, duration. */
  answered?: { startMs: number; endMs: number; durationS: number };
  bizOpaqueCallbackData?: string;
  ctaPayload?: string;
  deeplinkPayload?: string;
  /** Failure details, written at value level next to calls[] (§2.6). */
  errors?: WebhookError[];
}

/** §2.6: terminate in either direction. */
export function callTerminateChange(biz: BusinessIdentity, user: UserIdentity, t: CallTerminateFacts): WebhookChange {
  const call: Record<string, unknown> = {
    id: t.callId,
    ...parties(biz, user, t.direction),
    event: 'terminate',
    direction: t.direction,
    timestamp: unixSeconds(t.timestampMs),
    status: t.status,
  };
  if (t.answered) {
    call['start_time'] = unixSeconds(t.answered.startMs);
    call['end_time'] = unixSeconds(t.answered.endMs);
    call['duration'] = t.answered.durationS;
  }
  withOptional(call, {
    biz_opaque_callback_data: t.bizOpaqueCallbackData,
    cta_payload: t.direction === 'USER_INITIATED' ? t.ctaPayload : undefined,
    deeplink_payload: t.direction === 'USER_INITIATED' ? t.deeplinkPayload : undefined,
  });
  const value: Record<string, unknown> = { messaging_product: 'whatsapp', metadata: metadata(biz), contacts: contacts(user), calls: [call] };
  if (t.errors?.length) value['errors'] = t.errors;
  return { field: 'calls', value };
}

/** §2.5: business-initiated call progress. `biz_opaque_callback_data` only if it was set on connect. */
export function callStatusChange(
  biz: BusinessIdentity,
  user: UserIdentity,
  s: { callId: string; status: 'RINGING' | 'ACCEPTED' | 'REJECTED'; timestampMs: number; bizOpaqueCallbackData?: string },
): WebhookChange {
  const status = withOptional(
    { id: s.callId, type: 'call', status: s.status, timestamp: unixSeconds(s.timestampMs), recipient_id: user.waId, recipient_user_id: user.bsuid },
    { biz_opaque_callback_data: s.bizOpaqueCallbackData },
  );
  return { field: 'calls', value: { messaging_product: 'whatsapp', metadata: metadata(biz), statuses: [status] } };
}

/** The normal message status webhook that follows a message send (§3.6). */
export function messageStatusChange(
  biz: BusinessIdentity,
  user: UserIdentity,
  s: { messageId: string; status: 'sent' | 'delivered' | 'read'; timestampMs: number },
): WebhookChange {
  return {
    field: 'messages',
    value: {
      messaging_product: 'whatsapp',
      metadata: metadata(biz),
      statuses: [{ id: s.messageId, status: s.status, timestamp: unixSeconds(s.timestampMs), recipient_id: user.waId, recipient_user_id: user.bsuid }],
    },
  };
}

export interface PermissionReplyFacts {
  /** Id of this inbound reply message (a new wamid). */
  messageId: string;
  timestampMs: number;
  response: 'accept' | 'reject';
  /** Written for accepts only (false for temporary, true for permanent). */
  isPermanent?: boolean;
  /** Temporary accepts only. */
  expiresAtMs?: number;
  source: 'user_action' | 'automatic';
  /** The request's wamid, or the call's wacid for the automatic callback grant; absent for profile grants and auto-revocation. */
  contextId?: string;
}

/** §2.8: `call_permission_reply` on the messages field, per the UCP-2606 scenario table. */
export function permissionReplyChange(biz: BusinessIdentity, user: UserIdentity, r: PermissionReplyFacts): WebhookChange {
  const reply = withOptional(
    { response: r.response },
    {
      is_permanent: r.isPermanent,
      expiration_timestamp: r.expiresAtMs === undefined ? undefined : unixSeconds(r.expiresAtMs),
      response_source: r.source,
    },
  );
  const message: Record<string, unknown> = {
    from: user.waId,
    from_user_id: user.bsuid,
    id: r.messageId,
    timestamp: unixSeconds(r.timestampMs),
    type: 'interactive',
  };
  if (r.contextId !== undefined) message['context'] = { from: user.waId, id: r.contextId };
  message['interactive'] = { type: 'call_permission_reply', call_permission_reply: reply };
  return { field: 'messages', value: { messaging_product: 'whatsapp', metadata: metadata(biz), contacts: contacts(user), messages: [message] } };
}

/** §2.9: account_settings_update, fired for every settings change including the business's own. */
export function settingsUpdateChange(biz: BusinessIdentity, calling: Record<string, unknown>, timestampMs: number): WebhookChange {
  return {
    field: 'account_settings_update',
    value: {
      type: 'phone_number_settings',
      timestamp: unixSeconds(timestampMs),
      phone_number_settings: { phone_number_id: biz.phoneNumberId, calling },
    },
  };
}

export interface VoicemailFacts {
  /** The call's WACID: a voicemail's message id is the id of the call it was left on (§2.9, CS-2606). */
  callId: string;
  timestampMs: number;
  mediaId: string;
  sha256: string;
}

/** Voicemail Ogg/Opus voice notes, as WhatsApp writes `audio.mime_type` for voice messages. */
export const VOICEMAIL_MIME_TYPE = 'audio/ogg; codecs=opus';

/** §2.9: a voicemail arrives on `messages` as an inbound voice `audio` message whose id is the call's WACID. */
export function voicemailChange(biz: BusinessIdentity, user: UserIdentity, v: VoicemailFacts): WebhookChange {
  const message = {
    from: user.waId,
    from_user_id: user.bsuid,
    id: v.callId,
    timestamp: unixSeconds(v.timestampMs),
    type: 'audio',
    audio: { mime_type: VOICEMAIL_MIME_TYPE, sha256: v.sha256, id: v.mediaId, voice: true },
  };
  return { field: 'messages', value: { messaging_product: 'whatsapp', metadata: metadata(biz), contacts: contacts(user), messages: [message] } };
}

/** One calling restriction of `account_update` (§2.9); `expiration` in Unix seconds, absent when open-ended. */
export interface RestrictionFacts {
  type: string;
  expiresAtMs?: number;
}

export type AccountUpdateFacts = { event: 'ACCOUNT_RESTRICTION'; restrictions: RestrictionFacts[] } | { event: 'ACCOUNT_VIOLATION'; violationType: string };

/**
 * §2.9 (CS-2511, CS-2606): `account_update` for the business number, `ACCOUNT_RESTRICTION` with
 * `restriction_info[]` or `ACCOUNT_VIOLATION` with `violation_info`. No timestamp in the value: the entry's `time`.
 */
export function accountUpdateChange(biz: BusinessIdentity, facts: AccountUpdateFacts): WebhookChange {
  const value: Record<string, unknown> = { phone_number: biz.businessNumber, event: facts.event };
  if (facts.event === 'ACCOUNT_VIOLATION') {
    value['violation_info'] = { violation_type: facts.violationType };
  } else {
    value['restriction_info'] = facts.restrictions.map((r) =>
      r.expiresAtMs === undefined ? { restriction_type: r.type } : { restriction_type: r.type, expiration: Math.floor(r.expiresAtMs / 1000) },
    );
  }
  return { field: 'account_update', value };
}
