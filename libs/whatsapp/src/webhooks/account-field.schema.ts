import { z } from 'zod';
import { callingSettingsWireSchema } from '../calling-settings.schema';
import { epochSeconds, nonEmpty, strictEnum } from './wire-common.schema';

/** `field: "account_settings_update"` (reference §2.9, CS-2511): fires for every settings change, ours included. */
export const accountSettingsValueSchema = z.object({
  type: z.literal('phone_number_settings', { error: 'must be "phone_number_settings"' }),
  timestamp: epochSeconds.optional(),
  phone_number_settings: z.object({
    phone_number_id: nonEmpty,
    calling: z.record(z.string(), z.unknown()).pipe(callingSettingsWireSchema),
  }),
});

/** `field: "account_update"` (reference §2.9, CS-2511/CS-2606). Only the calling-quality events are ours. */
export const ACCOUNT_UPDATE_EVENTS = ['ACCOUNT_VIOLATION', 'ACCOUNT_RESTRICTION'] as const;

export const accountUpdateValueSchema = z.object({
  phone_number: z.string().optional(),
  timestamp: epochSeconds.optional(),
  event: strictEnum(ACCOUNT_UPDATE_EVENTS),
  violation_info: z.object({ violation_type: nonEmpty }).optional(),
  restriction_info: z.array(z.object({ restriction_type: nonEmpty, expiration: epochSeconds.optional() })).optional(),
});
