import { z } from 'zod';

/**
 * Wire-level building blocks shared by the webhook schemas. Meta adds fields without notice, so every
 * object strips unknown keys (zod's default) instead of rejecting them (STYLE §4).
 */

/** Unix seconds, sent as a string in Meta's samples and as a number by some senders (reference §2.6, §9). */
export const epochSeconds = z.union(
  [
    z.number().int('must be whole seconds').nonnegative('must not be negative'),
    z
      .string()
      .trim()
      .regex(/^\d+$/, 'Unix seconds as digits')
      // as for a number: a safe integer (more digits lose precision, 309 or more give Infinity)
      .refine((s) => Number.isSafeInteger(Number(s)))
      .transform((s) => Number(s)),
  ],
  { error: (iss) => `expected Unix seconds (a non-negative integer or a string of digits), got ${JSON.stringify(iss.input)}` },
);

/** A non-empty string identifier. */
export const nonEmpty = z.string().trim().min(1, 'must not be empty');

/** Case-insensitive literal enum: accepts `completed`, `COMPLETED`, `Completed`; yields the lower-case value. */
export function looseEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const expected = values.map((v) => JSON.stringify(v)).join(' | ');
  const allowed: readonly string[] = values;
  return z
    .string({ error: `expected one of ${expected} (any case)` })
    .refine((s) => allowed.includes(s.trim().toLowerCase()), {
      error: (iss) => `expected one of ${expected} (any case), got ${JSON.stringify(iss.input)}`,
    })
    .transform((s) => s.trim().toLowerCase() as T[number]);
}

/** Exact (case-sensitive) literal enum whose error names the allowed values and what was received. */
export function strictEnum<const T extends readonly [string, ...string[]]>(values: T) {
  const expected = values.map((v) => JSON.stringify(v)).join(' | ');
  return z.enum(values, { error: (iss) => `expected one of ${expected}, got ${JSON.stringify(iss.input)}` });
}

export const metadataSchema = z.object({
  display_phone_number: z.string().optional(),
  phone_number_id: nonEmpty,
});

export const contactSchema = z.object({
  wa_id: z.string().optional(),
  user_id: z.string().optional(),
  parent_user_id: z.string().optional(),
  profile: z.object({ name: z.string().optional(), username: z.string().optional() }).optional(),
});
export type WireContact = z.infer<typeof contactSchema>;

/** One entry of `errors[]` (value level or item level). */
export const wireErrorSchema = z.object({
  code: z.union([
    z.number().int(),
    z
      .string()
      .regex(/^\d+$/)
      .refine((s) => Number.isSafeInteger(Number(s)))
      .transform(Number),
  ]),
  title: z.string().optional(),
  message: z.string().optional(),
  href: z.string().optional(),
  error_data: z.object({ details: z.string().optional() }).optional(),
});

/** `biz_opaque_callback_data`, also spelt `biz_opaque_callback_date` in Meta's field tables (reference §9). */
export const opaqueFields = {
  biz_opaque_callback_data: z.string().optional(),
  biz_opaque_callback_date: z.string().optional(),
};

export function opaqueOf(o: { biz_opaque_callback_data?: string | undefined; biz_opaque_callback_date?: string | undefined }): string | undefined {
  return o.biz_opaque_callback_data ?? o.biz_opaque_callback_date;
}

/**
 * The envelope: `object`, `entry[].changes[].field/value` (reference §2.2). The parser validates it layer by
 * layer (head, each entry, each change) so one bad entry or change does not hide its neighbours.
 */
export const envelopeHeadSchema = z.object({
  object: z.literal('whatsapp_business_account', { error: 'must be "whatsapp_business_account"' }),
  entry: z.array(z.unknown(), { error: 'must be an array' }),
});

export const entrySchema = z.object({
  id: z.string().optional(),
  time: epochSeconds.optional(),
  changes: z.array(z.unknown(), { error: 'must be an array' }),
});

export const changeSchema = z.object({
  field: nonEmpty,
  value: z.record(z.string(), z.unknown(), { error: 'must be an object' }),
});

export const envelopeSchema = envelopeHeadSchema.extend({ entry: z.array(entrySchema.extend({ changes: z.array(changeSchema) })) });
export type WireEnvelope = z.infer<typeof envelopeSchema>;
