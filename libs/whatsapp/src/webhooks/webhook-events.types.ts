import type { CallingSettings } from '../calling-settings.schema';

/** Validated webhook events in domain names. Timestamps are Unix seconds. Wire spellings stay in the schemas. */

/** Where a `calls`/`messages` change came from: the business number and WABA. */
export interface WebhookSource {
  wabaId: string | undefined;
  phoneNumberId: string;
  displayPhoneNumber: string | undefined;
}

/** The user's `contacts[]` entry matched to the event (by wa_id or BSUID; the only entry otherwise). */
export interface ContactInfo {
  contactName: string | undefined;
  contactUsername: string | undefined;
  contactWaId: string | undefined;
  contactUserId: string | undefined;
}

export type CallDirection = 'user_initiated' | 'business_initiated';

export interface CallParties {
  waCallId: string;
  /** Absent in one user-initiated sample; treat undefined as "infer from sdpType" (reference §2.3). */
  direction: CallDirection | undefined;
  /** Phone numbers; may be absent when the user has a username (reference §2.3). */
  from: string | undefined;
  to: string | undefined;
  fromUserId: string | undefined;
  fromParentUserId: string | undefined;
  toUserId: string | undefined;
  toParentUserId: string | undefined;
  timestamp: number;
  bizOpaqueCallbackData: string | undefined;
  ctaPayload: string | undefined;
  deeplinkPayload: string | undefined;
}

export interface WebhookErrorInfo {
  code: number;
  title: string | undefined;
  message: string | undefined;
  href: string | undefined;
  details: string | undefined;
}

/** User-initiated: Meta's offer. Business-initiated: Meta's answer to our connect (reference §2.3, §2.4). */
export interface CallConnectEvent extends WebhookSource, ContactInfo, CallParties {
  kind: 'call.connect';
  sdpType: 'offer' | 'answer';
  sdp: string;
}

/** Every call end (reference §2.6). `durationSeconds` present only if the call was answered. */
export interface CallTerminateEvent extends WebhookSource, ContactInfo, CallParties {
  kind: 'call.terminate';
  status: 'completed' | 'failed';
  startTime: number | undefined;
  endTime: number | undefined;
  durationSeconds: number | undefined;
  errors: WebhookErrorInfo[];
}

/** Business-initiated progress (reference §2.5). `accepted` is for audit only; never gate media on it. */
export interface CallStatusEvent extends WebhookSource, ContactInfo {
  kind: 'call.status';
  waCallId: string;
  status: 'ringing' | 'accepted' | 'rejected';
  timestamp: number;
  recipientId: string | undefined;
  recipientUserId: string | undefined;
  recipientParentUserId: string | undefined;
  bizOpaqueCallbackData: string | undefined;
}

/** `interactive.call_permission_reply` on the messages field (reference §2.8). */
export interface PermissionReplyEvent extends WebhookSource, ContactInfo {
  kind: 'permission.reply';
  messageId: string;
  from: string | undefined;
  fromUserId: string | undefined;
  timestamp: number;
  response: 'accept' | 'reject';
  isPermanent: boolean;
  /** Only for an accepted temporary permission. */
  expiresAt: number | undefined;
  responseSource: 'user_action' | 'automatic' | undefined;
  /** `context.id`: our request's wamid, or the call's wacid for an automatic callback grant; absent otherwise. */
  contextId: string | undefined;
  contextKind: 'message' | 'call' | undefined;
}

/** Status of a message we sent (e.g. a permission request). */
export interface MessageStatusEvent extends WebhookSource {
  kind: 'message.status';
  messageId: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  timestamp: number;
  recipientId: string | undefined;
  recipientUserId: string | undefined;
  bizOpaqueCallbackData: string | undefined;
  errors: WebhookErrorInfo[];
}

/** Voicemail left by a caller: an audio message whose id is the call's WACID (reference §2.9). */
export interface VoicemailEvent extends WebhookSource, ContactInfo {
  kind: 'call.voicemail';
  waCallId: string;
  from: string | undefined;
  fromUserId: string | undefined;
  timestamp: number;
  audio: { mediaId: string; mimeType: string | undefined; sha256: string | undefined; url: string | undefined };
}

export interface SettingsUpdateEvent {
  kind: 'settings.update';
  wabaId: string | undefined;
  phoneNumberId: string;
  timestamp: number | undefined;
  calling: CallingSettings;
}

export interface AccountUpdateEvent {
  kind: 'account.update';
  wabaId: string | undefined;
  event: 'account_violation' | 'account_restriction';
  phoneNumber: string | undefined;
  timestamp: number | undefined;
  violationType: string | undefined;
  restrictions: { type: string; expiration: number | undefined }[];
}

export type WebhookEvent =
  | CallConnectEvent
  | CallTerminateEvent
  | CallStatusEvent
  | PermissionReplyEvent
  | MessageStatusEvent
  | VoicemailEvent
  | SettingsUpdateEvent
  | AccountUpdateEvent;

export type WebhookEventKind = WebhookEvent['kind'];

/**
 * An item (or the whole body) that failed validation. `path` is JSON-path-like, e.g.
 * `entry[0].changes[0].value.calls[1]`, or `$` for the body and envelope; `reason` names the offending
 * field relative to `path` (`session.sdp: must start with "v=0"`); `raw` is the item as received.
 */
export interface WebhookRejection {
  path: string;
  reason: string;
  raw: unknown;
}

/** A well-formed item this gateway does not act on (a text message, another `field`). */
export interface WebhookIgnored {
  path: string;
  reason: string;
}

export interface ParsedWebhook {
  events: WebhookEvent[];
  rejected: WebhookRejection[];
  ignored: WebhookIgnored[];
}
