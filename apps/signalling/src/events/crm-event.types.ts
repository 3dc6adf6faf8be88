/**
 * Events for the CRM (Server-Sent Events on GET /v1/events and signed webhooks to the CRM URL). The
 * envelope is stable: `{ id, type, at, data }`; `id` increases per gateway process start and is unique.
 */
export type PermissionKind = 'once' | 'always';

export interface CrmEventData {
  'permission.requested': { waId: string; businessNumber: string; messageId: string; callId?: string };
  'permission.granted': { waId: string; businessNumber: string; kind: PermissionKind; expiresAt?: number; source: 'user_action' | 'automatic' };
  'permission.declined': { waId: string; businessNumber: string };
  'permission.revoked': { waId: string; businessNumber: string; reason: string };
  'permission.expired': { waId: string; businessNumber: string; expiredAt: number };
  'call.incoming': { callId: string; waId?: string; userName?: string; businessNumber: string; destination?: string; entryPoint?: 'call_button' | 'deep_link'; entryPayload?: string };
  'call.ringing': { callId: string; waId?: string; side: 'agent' | 'user' | 'desk-phone' };
  'call.connected': { callId: string; waId?: string; direction: 'inbound' | 'outbound'; codec?: string };
  'call.ended': { callId: string; waId?: string; direction: 'inbound' | 'outbound'; cause: string; endedBy?: string; durationMs: number };
  'call.dtmf': { callId: string; digit: string; direction: 'wa-to-pbx' | 'pbx-to-wa'; durationMs: number };
  /** The PBX put the call on hold (re-INVITE sendonly/inactive): the desk phone's side, not WhatsApp's. */
  'call.held': { callId: string; waId?: string };
  'call.resumed': { callId: string; waId?: string };
  /** The call is on another PBX destination now (a desk phone's REFER, blind or attended, or the API). */
  'call.transferred': { callId: string; waId?: string; to: string; by: 'pbx' | 'api'; attended: boolean };
  /** A transfer's target did not take the call: it stays where it was (or ends if the transferor left). */
  'call.transfer_failed': { callId: string; waId?: string; to: string; by: 'pbx' | 'api'; cause: string };
  /**
   * The user left a voicemail after a call nobody took (Meta's voicemail, reference §2.9): the audio is Meta's
   * media `mediaId`. `callId` when the gateway still has the call's record, and then `audioPath`, where the
   * CRM gets the audio from the gateway (`GET /v1/calls/{callId}/voicemail`) without Meta's token.
   */
  'call.voicemail': { waCallId: string; callId?: string; waId?: string; userName?: string; mediaId: string; mimeType?: string; audioPath?: string };
  /**
   * WhatsApp restricted the business number's calling, or reported a quality violation (account_update):
   * restrictions hold until `expiresAt` (epoch ms); an empty list lifts them.
   */
  /** A missed call was followed up (signalling.missedCallFollowUp): a call button or a permission request went to the user. */
  'call.follow_up_sent': { callId: string; waId: string; action: 'call_button' | 'permission_request'; messageId: string };
  'account.update': { event: 'account_violation' | 'account_restriction'; phoneNumber?: string; violationType?: string; restrictions: { type: string; expiresAt?: number }[] };
}

export type CrmEventType = keyof CrmEventData;

export const CRM_EVENT_TYPES = [
  'permission.requested',
  'permission.granted',
  'permission.declined',
  'permission.revoked',
  'permission.expired',
  'call.incoming',
  'call.ringing',
  'call.connected',
  'call.ended',
  'call.dtmf',
  'call.held',
  'call.resumed',
  'call.transferred',
  'call.transfer_failed',
  'call.voicemail',
  'call.follow_up_sent',
  'account.update',
] as const satisfies readonly CrmEventType[];

export type CrmEvent = { [K in CrmEventType]: { id: string; type: K; at: number; data: CrmEventData[K] } }[CrmEventType];
