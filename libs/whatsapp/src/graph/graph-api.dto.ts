import { z } from 'zod';
import { epochSeconds, looseEnum, nonEmpty } from '../webhooks/wire-common.schema';

/**
 * Wire shapes of the Graph API requests and responses this client uses (reference §3). Request bodies are
 * built here in Meta's spelling; responses are validated (unknown keys stripped) before use.
 */

export type CallAction = 'pre_accept' | 'accept' | 'reject' | 'terminate';

/** `biz_opaque_callback_data` is limited to 512 characters (reference §2.7, BIC-2606). */
export const MAX_BIZ_OPAQUE_CALLBACK_DATA = 512;

/**
 * SDP as Meta wants it: a plain JSON string with real CRLF line endings, every line terminated (RFC 8866
 * §5, FAQ-2511). Normalising is deterministic, so accept repeats the pre_accept SDP byte for byte.
 * Escaped `\r\n` text (a double-encoded SDP) is a caller bug.
 */
export function toWireSdp(sdp: string): string {
  if (sdp.includes('\\r\\n')) throw new TypeError('sdp contains the escaped text "\\r\\n"; pass real CRLF line endings');
  if (!sdp.startsWith('v=0')) throw new TypeError('sdp must start with "v=0"');
  const crlf = sdp.replace(/\r\n|\r|\n/g, '\r\n');
  return crlf.endsWith('\r\n') ? crlf : `${crlf}\r\n`;
}

export function connectBody(input: { to?: string; recipient?: string; sdp: string; bizOpaqueCallbackData?: string }): Record<string, unknown> {
  if (!input.to && !input.recipient) throw new TypeError('connect needs `to` (phone number) or `recipient` (BSUID)');
  const body: Record<string, unknown> = { messaging_product: 'whatsapp' };
  if (input.to) body['to'] = input.to;
  if (input.recipient) body['recipient'] = input.recipient;
  body['action'] = 'connect';
  // The new-call cURL sample says "answer"; the guides say "offer" for the business's offer (reference §3.1).
  body['session'] = { sdp_type: 'offer', sdp: toWireSdp(input.sdp) };
  return withOpaque(body, input.bizOpaqueCallbackData);
}

export function callActionBody(waCallId: string, action: CallAction, sdp?: string, bizOpaqueCallbackData?: string): Record<string, unknown> {
  if (waCallId.trim() === '') throw new TypeError(`${action} needs a WhatsApp call id`);
  const body: Record<string, unknown> = { messaging_product: 'whatsapp', call_id: waCallId, action };
  // pre_accept / accept carry our SDP answer; the parameter table's "offer" is a doc error (reference §3.2, §9).
  if (sdp !== undefined) body['session'] = { sdp_type: 'answer', sdp: toWireSdp(sdp) };
  return withOpaque(body, bizOpaqueCallbackData);
}

function withOpaque(body: Record<string, unknown>, data: string | undefined): Record<string, unknown> {
  if (data === undefined) return body;
  if (data.length > MAX_BIZ_OPAQUE_CALLBACK_DATA) {
    throw new RangeError(`bizOpaqueCallbackData has ${data.length} characters; Meta allows ${MAX_BIZ_OPAQUE_CALLBACK_DATA}`);
  }
  return { ...body, biz_opaque_callback_data: data };
}

/** Free-form `call_permission_request` (reference §3.6): body text optional, no header or footer. */
export function permissionRequestBody(to: string, bodyText?: string): Record<string, unknown> {
  const interactive: Record<string, unknown> = { type: 'call_permission_request', action: { name: 'call_permission_request' } };
  if (bodyText !== undefined && bodyText !== '') interactive['body'] = { text: bodyText };
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'interactive', interactive };
}

/** Limits of an interactive `voice_call` message, and the lifetime Meta gives a button that names none (reference §3.8). */
export const CALL_BUTTON_LIMITS = { bodyTextMax: 1024, displayTextMax: 20, ttlMinutesMin: 1, ttlMinutesMax: 43_200, ttlMinutesDefault: 10_080, payloadMax: 512 } as const;

/**
 * Interactive `voice_call` message, a "call us" button (reference §3.8): the user's tap places a user-initiated
 * call whose `connect` webhook carries `payload` as `cta_payload`. Throws RangeError for a value Meta would refuse.
 */
export function callButtonBody(to: string, input: { bodyText: string; displayText?: string; ttlMinutes?: number; payload?: string }): Record<string, unknown> {
  const L = CALL_BUTTON_LIMITS;
  if (input.bodyText.length === 0 || input.bodyText.length > L.bodyTextMax) throw new RangeError(`bodyText must have 1-${L.bodyTextMax} characters, has ${input.bodyText.length}`);
  if (input.displayText !== undefined && (input.displayText.length === 0 || input.displayText.length > L.displayTextMax)) {
    throw new RangeError(`displayText must have 1-${L.displayTextMax} characters, has ${input.displayText.length}`);
  }
  if (input.ttlMinutes !== undefined && (!Number.isInteger(input.ttlMinutes) || input.ttlMinutes < L.ttlMinutesMin || input.ttlMinutes > L.ttlMinutesMax)) {
    throw new RangeError(`ttlMinutes must be an integer from ${L.ttlMinutesMin} to ${L.ttlMinutesMax}, got ${input.ttlMinutes}`);
  }
  if (input.payload !== undefined && input.payload.length > L.payloadMax) throw new RangeError(`payload must have at most ${L.payloadMax} characters, has ${input.payload.length}`);
  const parameters: Record<string, unknown> = {};
  if (input.displayText !== undefined) parameters['display_text'] = input.displayText;
  if (input.ttlMinutes !== undefined) parameters['ttl_minutes'] = input.ttlMinutes;
  if (input.payload !== undefined && input.payload !== '') parameters['payload'] = input.payload;
  const interactive = { type: 'voice_call', body: { text: input.bodyText }, action: { name: 'voice_call', parameters } };
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'interactive', interactive };
}

/** A template carrying the `call_permission_request` component, usable outside the service window (reference §3.6). */
export function templateBody(to: string, templateName: string, languageCode: string, components?: readonly Record<string, unknown>[]): Record<string, unknown> {
  const template: Record<string, unknown> = { name: templateName, language: { code: languageCode } };
  if (components !== undefined && components.length > 0) template['components'] = components;
  return { messaging_product: 'whatsapp', recipient_type: 'individual', to, type: 'template', template };
}

export const connectResponseSchema = z.object({
  calls: z.array(z.object({ id: nonEmpty }), { error: 'calls must be an array' }).min(1, 'calls must hold the new call id'),
});

export const successResponseSchema = z.object({
  success: z.union([z.literal(true), z.literal('true')], { error: 'success must be true' }),
});

/** `GET /<MEDIA_ID>`: where to download the media, for 5 minutes (Meta "Media", retrieve media URL). */
export const mediaInfoResponseSchema = z.object({
  url: z.url({ error: 'url must be an http(s) URL', protocol: /^https?$/ }),
  mime_type: nonEmpty,
  sha256: z.string().regex(/^[0-9a-fA-F]{64}$/, 'sha256 must be 64 hex digits').optional(),
  file_size: z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,12}$/).transform(Number)]).optional(),
  id: nonEmpty.optional(),
});

/** `POST /<PHONE_NUMBER_ID>/media`: the new media id. */
export const mediaUploadResponseSchema = z.object({ id: nonEmpty });

export const messageSendResponseSchema = z.object({
  messages: z.array(z.object({ id: nonEmpty }), { error: 'messages must be an array' }).min(1, 'messages must hold the message id'),
});

const looseBoolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

/** `GET /<PHONE_NUMBER_ID>/call_permissions` (reference §3.7). Expiry: `expiration_time` (sample) or `expiration` (table). */
export const callPermissionsResponseSchema = z.object({
  permission: z.object({
    status: looseEnum(['no_permission', 'temporary', 'permanent']),
    expiration_time: epochSeconds.optional(),
    expiration: epochSeconds.optional(),
  }),
  actions: z
    .array(
      z.object({
        action_name: nonEmpty,
        can_perform_action: looseBoolean,
        limits: z
          .array(
            z.object({
              time_period: z.string(),
              max_allowed: z.number(),
              current_usage: z.number(),
              limit_expiration_time: epochSeconds.optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

export const settingsResponseSchema = z.object({
  calling: z.record(z.string(), z.unknown(), { error: 'calling must be an object' }).optional(),
  /** A restricted number's restrictions (reference §5.2, CS-2606); entries of another shape are skipped. */
  restrictions: z.looseObject({ restrictions_list: z.array(z.unknown()).optional() }).optional().catch(undefined),
});

export const restrictionEntrySchema = z.looseObject({
  type: z.string().min(1),
  reason: z.string().optional(),
  expiration: z.union([z.number(), z.string().regex(/^\d{1,12}$/).transform(Number)]).optional(),
});
