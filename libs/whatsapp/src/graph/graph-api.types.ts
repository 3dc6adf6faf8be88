import type { CallingSettings } from '../calling-settings.schema';
/** Domain-side inputs and results of `WhatsAppGraphClient`. Times are Unix seconds. */

export interface ConnectCallInput {
  /** The user's phone number (E.164 digits). `to` wins when both are given (reference §3.1). */
  to?: string;
  /** The user's BSUID. */
  recipient?: string;
  /** Our SDP offer. */
  sdp: string;
  /** At most 512 characters; echoed in status and terminate webhooks. */
  bizOpaqueCallbackData?: string;
}

export interface ConnectCallResult {
  waCallId: string;
}

export interface SendPermissionRequestInput {
  to: string;
  /** Optional body text; header and footer are not allowed (reference §3.6). */
  bodyText?: string;
}

export interface SendCallButtonInput {
  to: string;
  /** The message text above the button (1-1024 characters). */
  bodyText: string;
  /** The button's label (1-20 characters; Meta's default "Call Now"). */
  displayText?: string;
  /** How long the button may be tapped, in minutes (1-43200; Meta's default 10080, 7 days). */
  ttlMinutes?: number;
  /** Comes back as the call's `cta_payload` (at most 512 characters). */
  payload?: string;
}

export interface SendPermissionTemplateInput {
  to: string;
  templateName: string;
  languageCode: string;
  /** Template components in Meta's spelling (e.g. body parameters), sent as given. */
  components?: Record<string, unknown>[];
}

export interface MessageSendResult {
  messageId: string;
}

/** Query by phone number or by BSUID; `userWaId` wins when both are given. */
export interface CallPermissionQuery {
  userWaId?: string;
  recipient?: string;
}

export type CallPermissionStatus = 'no_permission' | 'temporary' | 'permanent';

export interface CallPermissionLimit {
  /** ISO 8601 duration, e.g. `PT24H`, `P7D`. */
  timePeriod: string;
  maxAllowed: number;
  currentUsage: number;
  /** Present once the limit is reached. */
  limitExpiresAt: number | undefined;
}

export interface CallPermissionAction {
  /** `send_call_permission_request`, `start_call`, or an action Meta adds later. */
  name: string;
  /** Meta's verdict, all limits considered. */
  canPerform: boolean;
  limits: CallPermissionLimit[];
}

export interface CallPermissions {
  status: CallPermissionStatus;
  /** Temporary permissions only. */
  expiresAt: number | undefined;
  actions: CallPermissionAction[];
  /** `start_call.can_perform_action`; undefined when Meta did not list the action. */
  canStartCall: boolean | undefined;
  /** `send_call_permission_request.can_perform_action`; undefined when not listed. */
  canRequestPermission: boolean | undefined;
}

/** Where a media object (a voicemail's audio) can be downloaded, from `GET /<MEDIA_ID>`. */
export interface MediaInfo {
  mediaId: string;
  /** Valid about 5 minutes; downloading it needs the access token. */
  url: string;
  mimeType: string;
  /** Hex SHA-256 of the file, when Meta gives it. */
  sha256?: string;
  fileSize?: number;
}

export interface MediaDownload {
  bytes: Buffer;
  /** The download's Content-Type, else the media's mime type. */
  mimeType: string;
}

/** `GET settings`: the calling block and, for a restricted number, its restrictions (expiry in epoch ms). */
export type NumberCallingSettings = CallingSettings & { restrictions?: { type: string; reason?: string; expiresAt?: number }[] };

/** A file to upload as media (`POST /<PHONE_NUMBER_ID>/media`). */
export interface MediaUploadInput {
  bytes: Buffer;
  /** e.g. `audio/ogg`. */
  mimeType: string;
  /** The file name Meta is told (letters, digits, `.`, `_`, `-`; others become `_`). */
  fileName: string;
  /** What the media is for: `call_voicemail_announcement` for a voicemail greeting (reference §5.1). */
  useCase?: 'call_voicemail_announcement';
}
