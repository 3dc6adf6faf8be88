import { z } from 'zod';
import { contactSchema, epochSeconds, looseEnum, metadataSchema, nonEmpty, opaqueFields, wireErrorSchema } from './wire-common.schema';

/**
 * `field: "messages"`: the call permission reply (reference §2.8, UCP-2606), message status updates of
 * our permission requests, and voicemail (an inbound audio message whose id is the call's WACID, §2.9).
 * Other inbound messages are well-formed but not ours; the parser reports them as ignored.
 */
export const messagesValueSchema = z.object({
  metadata: metadataSchema,
  contacts: z.array(contactSchema).optional(),
  messages: z.array(z.unknown(), { error: 'must be an array' }).optional(),
  statuses: z.array(z.unknown(), { error: 'must be an array' }).optional(),
  errors: z.array(wireErrorSchema).optional(),
});

const senderFields = {
  id: nonEmpty,
  from: z.string().optional(),
  from_user_id: z.string().optional(),
  from_parent_user_id: z.string().optional(),
  timestamp: epochSeconds,
};

/** `is_permanent` is a boolean; tolerate "true"/"false" strings. */
const looseBoolean = z.union([z.boolean(), z.enum(['true', 'false']).transform((s) => s === 'true')]);

export const permissionReplyMessageSchema = z.object({
  ...senderFields,
  type: z.literal('interactive').optional(),
  /** Absent for grants from the business profile and for automatic revocation; `id` is a wacid for automatic callback grants. */
  context: z.object({ from: z.string().optional(), id: nonEmpty }).optional(),
  interactive: z.object({
    type: z.literal('call_permission_reply'),
    call_permission_reply: z.object({
      response: looseEnum(['accept', 'reject']),
      is_permanent: looseBoolean.optional(),
      /** String in the Jun 2026 table, integer in Nov 2025 (reference §9). */
      expiration_timestamp: epochSeconds.optional(),
      response_source: looseEnum(['user_action', 'automatic']).optional(),
    }),
  }),
});
export type WirePermissionReply = z.infer<typeof permissionReplyMessageSchema>;

export const voicemailMessageSchema = z.object({
  ...senderFields,
  id: z.string().startsWith('wacid.', 'must be the call WACID (wacid.…) for a voicemail'),
  type: z.literal('audio'),
  audio: z.object({
    id: nonEmpty,
    mime_type: z.string().optional(),
    sha256: z.string().optional(),
    url: z.string().optional(),
  }),
});
export type WireVoicemail = z.infer<typeof voicemailMessageSchema>;

export const messageStatusItemSchema = z.object({
  id: nonEmpty,
  status: looseEnum(['sent', 'delivered', 'read', 'failed']),
  timestamp: epochSeconds,
  recipient_id: z.string().optional(),
  recipient_user_id: z.string().optional(),
  errors: z.array(wireErrorSchema).optional(),
  ...opaqueFields,
});
export type WireMessageStatus = z.infer<typeof messageStatusItemSchema>;
