import { z } from 'zod';
import { invalidParameter } from './emulator.errors';

/**
 * The business number's `calling` settings block (reference §5.1-§5.2, CS-2606). POST replaces the keys it
 * sends and keeps the others (sending `call_hours` replaces the whole call_hours value); GET returns what was
 * stored, so `srtp_key_exchange_protocol` appears only once set. Unknown keys are stored and echoed.
 *
 * The emulator starts with calling ENABLED (Meta's default is off; the demo needs it on) and the callback
 * permission DISABLED. Voicemail (CS-2606) can only be ENABLED while calling is; turning calling off later keeps
 * the block, but no voicemail is taken then.
 */

const onOff = z.enum(['ENABLED', 'DISABLED'], { error: 'must be "ENABLED" or "DISABLED"' });
const hhmm = z.string().regex(/^([01]\d|2[0-3])[0-5]\d$/, 'a time as "HHMM"');
const DAYS = ['MONDAY', 'TUESDAY', 'WEDNESDAY', 'THURSDAY', 'FRIDAY', 'SATURDAY', 'SUNDAY'] as const;

const callHoursSchema = z.looseObject({
  status: onOff,
  timezone_id: z.string().min(1, 'an IANA time zone'),
  weekly_operating_hours: z
    .array(z.looseObject({ day_of_week: z.enum(DAYS), open_time: hhmm, close_time: hhmm }))
    .min(1, 'weekly_operating_hours must not be empty')
    .superRefine((entries, ctx) => {
      for (const day of DAYS) {
        const ofDay = entries.filter((e) => e.day_of_week === day).sort((a, b) => a.open_time.localeCompare(b.open_time));
        if (ofDay.length > 2) ctx.addIssue({ code: 'custom', message: `more than 2 entries for ${day}` });
        ofDay.forEach((e, i) => {
          if (e.open_time >= e.close_time) ctx.addIssue({ code: 'custom', message: `${day}: open_time must be before close_time` });
          const next = ofDay[i + 1];
          if (next && next.open_time < e.close_time) ctx.addIssue({ code: 'custom', message: `${day}: overlapping entries` });
        });
      }
    }),
  holiday_schedule: z
    .array(z.looseObject({ date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date as YYYY-MM-DD') }))
    .max(20, 'at most 20 holidays')
    .optional(),
});

/** Who triggers a voicemail (CS-2606): the business rejects the call, or nobody answers within timeout_seconds. */
export const VOICEMAIL_TRIGGERS = ['REJECT', 'TIMEOUT'] as const;
export type VoicemailTrigger = (typeof VOICEMAIL_TRIGGERS)[number];

/**
 * `calling.voicemail` (reference §5.1, CS-2606). `timeout_seconds` is 0-30, counted from when ringing starts;
 * the announcement is an uploaded media id (the sample writes it as a number), which must be an announcement
 * upload (`announcementProblem`). Sending the block replaces it.
 */
const MEDIA_ID = 'a media id (a positive integer or a string of digits)';
const voicemailSchema = z.looseObject({
  status: onOff,
  triggers: z.array(z.enum(VOICEMAIL_TRIGGERS, { error: 'must be "REJECT" or "TIMEOUT"' })).optional(),
  audio: z
    .looseObject({
      default: z.looseObject({
        announcement_media_id: z.union([z.number().int(MEDIA_ID).positive(MEDIA_ID), z.string().regex(/^\d+$/, MEDIA_ID)], { error: MEDIA_ID }).optional(),
        timeout_seconds: z
          .number({ error: 'whole seconds 0-30' })
          .int('whole seconds 0-30')
          .min(0, 'whole seconds 0-30')
          .max(30, 'whole seconds 0-30')
          .optional(),
      }),
    })
    .optional(),
});
type VoicemailBlock = z.infer<typeof voicemailSchema>;

/** The voicemail in effect: its triggers, TIMEOUT only with timeout_seconds ("treated as disabled" without, CS-2606). */
export interface VoicemailInEffect {
  triggers: VoicemailTrigger[];
  timeoutSeconds: number | undefined;
  /** TIMEOUT was configured but without timeout_seconds, so it does not count. */
  timeoutIgnored: boolean;
}

const callingPatchSchema = z.looseObject({
  status: onOff.optional(),
  call_icon_visibility: z.enum(['DEFAULT', 'DISABLE_ALL', 'HIDE_IN_CHAT']).optional(),
  call_icons: z.looseObject({ restrict_to_user_countries: z.array(z.string().regex(/^[A-Z]{2}$/, 'ISO country codes')) }).optional(),
  call_hours: callHoursSchema.optional(),
  callback_permission_status: onOff.optional(),
  srtp_key_exchange_protocol: z.enum(['DTLS', 'SDES']).optional(),
  audio: z.looseObject({ additional_codecs: z.array(z.enum(['PCMA', 'PCMU'])) }).optional(),
  sip: z
    .looseObject({
      status: onOff,
      servers: z.array(z.looseObject({ hostname: z.string().min(1), port: z.number().int().min(1).max(65535).optional() })).optional(),
    })
    .optional(),
  voicemail: voicemailSchema.optional(),
});

/** Where announcement media ids are looked up: the MediaStore (an unknown or expired id is undefined). */
export interface AnnouncementMedia {
  get(mediaId: string): { readonly useCase?: string } | undefined;
}

const ANNOUNCEMENT_FIELD = 'calling.voicemail.audio.default.announcement_media_id';

/**
 * Reference §5.1: the announcement is a media id the business uploaded with `use_case=call_voicemail_announcement`
 * (POST /<PHONE_NUMBER_ID>/media, which also checked it is Ogg Opus under 60 s); checked whenever the voicemail
 * block carrying it is sent.
 */
function announcementProblem(media: AnnouncementMedia, id: number | string): string | undefined {
  const stored = media.get(String(id));
  if (!stored) return `${ANNOUNCEMENT_FIELD}: media ${id} was not uploaded (POST /<PHONE_NUMBER_ID>/media with use_case=call_voicemail_announcement) or has expired`;
  if (stored.useCase !== 'call_voicemail_announcement') return `${ANNOUNCEMENT_FIELD}: media ${id} was not uploaded with use_case=call_voicemail_announcement`;
  return undefined;
}

const postBodySchema = z.looseObject({ calling: z.record(z.string(), z.unknown(), { error: 'calling must be an object' }) });

export const DEFAULT_CALLING_SETTINGS: Readonly<Record<string, unknown>> = {
  status: 'ENABLED',
  call_icon_visibility: 'DEFAULT',
  callback_permission_status: 'DISABLED',
  sip: { status: 'DISABLED', servers: [] },
};

function voicemailInEffect(block: VoicemailBlock): VoicemailInEffect {
  const timeoutSeconds = block.audio?.default.timeout_seconds;
  const configured = [...new Set(block.triggers ?? [])];
  const timeoutIgnored = configured.includes('TIMEOUT') && timeoutSeconds === undefined;
  return { triggers: configured.filter((t) => t !== 'TIMEOUT' || !timeoutIgnored), timeoutSeconds, timeoutIgnored };
}

function describeIssues(error: z.ZodError, prefix: string): string {
  return error.issues.map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`).join('; ');
}

export class SettingsStore {
  #calling: Record<string, unknown> = structuredClone(DEFAULT_CALLING_SETTINGS) as Record<string, unknown>;

  /** `media`: where `voicemail.audio.default.announcement_media_id` must name an announcement upload. */
  constructor(private readonly media: AnnouncementMedia) {}

  /** A copy of the stored calling block. */
  calling(): Record<string, unknown> {
    return structuredClone(this.#calling);
  }

  callingEnabled(): boolean {
    return this.#calling['status'] === 'ENABLED';
  }

  sipEnabled(): boolean {
    const sip = this.#calling['sip'] as { status?: unknown } | undefined;
    return sip?.status === 'ENABLED';
  }

  callbackPermissionEnabled(): boolean {
    return this.#calling['callback_permission_status'] === 'ENABLED';
  }

  /** The stored voicemail block when its status is ENABLED (whatever calling.status says), else undefined. */
  voicemail(): VoicemailInEffect | undefined {
    const parsed = voicemailSchema.safeParse(this.#calling['voicemail']);
    if (!parsed.success || parsed.data.status !== 'ENABLED') return undefined;
    return voicemailInEffect(parsed.data);
  }

  /** Validates a POST body `{ calling: {...} }` (100 on problems) and applies it; returns the new block. */
  update(body: unknown): Record<string, unknown> {
    const outer = postBodySchema.safeParse(body);
    if (!outer.success) throw invalidParameter(describeIssues(outer.error, 'body'));
    const patch = callingPatchSchema.safeParse(outer.data.calling);
    if (!patch.success) throw invalidParameter(describeIssues(patch.error, 'calling'));
    const next = { ...this.#calling, ...structuredClone(outer.data.calling) };
    const sip = outer.data.calling['sip'] as Record<string, unknown> | undefined;
    if (sip && sip['servers'] === undefined) {
      // Disabling SIP keeps the configured servers (SIP-2512).
      const before = this.#calling['sip'] as Record<string, unknown> | undefined;
      next['sip'] = { ...sip, servers: before?.['servers'] ?? [] };
    }
    const servers = (next['sip'] as { status?: unknown; servers?: unknown[] } | undefined) ?? {};
    if (servers.status === 'ENABLED' && !servers.servers?.length) {
      throw invalidParameter('calling.sip.servers: at least one server is required while sip.status is ENABLED');
    }
    if (patch.data.voicemail?.status === 'ENABLED' && next['status'] !== 'ENABLED') {
      throw invalidParameter('calling.voicemail.status: voicemail needs calling (calling.status ENABLED)');
    }
    const announcementId = patch.data.voicemail?.audio?.default.announcement_media_id;
    const problem = announcementId === undefined ? undefined : announcementProblem(this.media, announcementId);
    if (problem !== undefined) throw invalidParameter(problem);
    this.#calling = next;
    return this.calling();
  }

  reset(): void {
    this.#calling = structuredClone(DEFAULT_CALLING_SETTINGS) as Record<string, unknown>;
  }
}
