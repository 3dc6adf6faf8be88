import { z } from 'zod';
import { contactSchema, epochSeconds, looseEnum, metadataSchema, nonEmpty, opaqueFields, wireErrorSchema } from './wire-common.schema';

/**
 * `field: "calls"` (reference §2.2-§2.6; Meta "Calling API reference", REF-2511; user- and
 * business-initiated call guides UIC/BIC). Items of `calls[]` and `statuses[]` are validated one by one
 * so one bad item does not hide its neighbours.
 */
export const callsValueSchema = z.object({
  metadata: metadataSchema,
  contacts: z.array(contactSchema).optional(),
  calls: z.array(z.unknown(), { error: 'must be an array' }).optional(),
  statuses: z.array(z.unknown(), { error: 'must be an array' }).optional(),
  errors: z.array(wireErrorSchema).optional(),
});

/** The user / business parties. Phone numbers may be absent for username users (BSUID `*_user_id`, UIC-2606). */
const partyFields = {
  from: z.string().optional(),
  to: z.string().optional(),
  from_user_id: z.string().optional(),
  from_parent_user_id: z.string().optional(),
  to_user_id: z.string().optional(),
  to_parent_user_id: z.string().optional(),
};

const callCommon = {
  id: nonEmpty,
  timestamp: epochSeconds,
  direction: looseEnum(['user_initiated', 'business_initiated']).optional(),
  cta_payload: z.string().optional(),
  deeplink_payload: z.string().optional(),
  ...partyFields,
  ...opaqueFields,
};

export const connectCallSchema = z.object({
  ...callCommon,
  event: z.literal('connect'),
  session: z.object({
    sdp_type: looseEnum(['offer', 'answer']),
    /** RFC 8866 §5: every SDP starts with the version line. */
    sdp: z.string().min(1, 'must not be empty').startsWith('v=0', 'must start with "v=0"'),
  }),
});

/** `duration` is a number in samples; accepted as digits too (finite: 309 or more digits would give Infinity). */
const seconds = z.union([
  z.number().nonnegative(),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .refine((s) => Number.isFinite(Number(s)))
    .transform(Number),
]);

export const terminateCallSchema = z.object({
  ...callCommon,
  event: z.literal('terminate'),
  /** COMPLETED / FAILED, compared case-insensitively (reference §2.6). */
  status: looseEnum(['completed', 'failed']),
  start_time: epochSeconds.optional(),
  end_time: epochSeconds.optional(),
  duration: seconds.optional(),
  errors: z.array(wireErrorSchema).optional(),
});

function eventOf(input: unknown): unknown {
  return typeof input === 'object' && input !== null ? (input as Record<string, unknown>)['event'] : input;
}

export const callItemSchema = z.discriminatedUnion('event', [connectCallSchema, terminateCallSchema], {
  error: (iss) =>
    iss.code === 'invalid_union' ? `must be "connect" or "terminate", got ${JSON.stringify(eventOf(iss.input))}` : undefined,
});
export type WireCallItem = z.infer<typeof callItemSchema>;

/** Business-initiated call progress (reference §2.5). */
export const callStatusItemSchema = z.object({
  id: nonEmpty,
  type: z.literal('call', { error: 'must be "call" on the calls field' }),
  status: looseEnum(['ringing', 'accepted', 'rejected']),
  timestamp: epochSeconds,
  recipient_id: z.string().optional(),
  recipient_user_id: z.string().optional(),
  recipient_parent_user_id: z.string().optional(),
  ...opaqueFields,
});
export type WireCallStatusItem = z.infer<typeof callStatusItemSchema>;
