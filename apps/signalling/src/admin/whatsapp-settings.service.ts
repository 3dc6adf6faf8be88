import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { OggFormatError, readOggOpus } from '@wagw/media-bridge';
import { adviseOnCallingSettings, GraphApiError, type SettingsAdvice, type WhatsAppGraphClient } from '@wagw/whatsapp';
import { CLOCK, GRAPH_CLIENT, SIGNALLING_LOGGER, type Clock } from '../signalling.tokens';

/** The business number's calling settings as the gateway reads them, with what an operator should know. */
export interface WhatsAppSettingsView {
  phoneNumberId: string;
  /** The `calling` block as Meta keeps it (Meta's snake_case, every field). */
  calling: Record<string, unknown>;
  restrictions: { type: string; reason?: string; expiresAt?: number }[];
  advice: SettingsAdvice[];
  readAt: number;
}

/** Meta refused a settings change (its code 100: a field or value it does not take): the admin's input, 400. */
export class SettingsRefusedError extends Error {
  readonly code = 'WA_SETTINGS_REFUSED';
  readonly httpStatus = 400;
  constructor(
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SettingsRefusedError';
  }
}

/** A voicemail announcement Meta would not take, or one that cannot be applied: the admin's input. */
export class AnnouncementRefusedError extends Error {
  constructor(
    readonly code: 'ANNOUNCEMENT_INVALID' | 'NO_VOICEMAIL_SETTINGS',
    message: string,
    readonly httpStatus: number,
  ) {
    super(message);
    this.name = 'AnnouncementRefusedError';
  }
}

export interface AnnouncementUploaded {
  mediaId: string;
  durationS: number;
  /** The voicemail settings now name it (`apply`). */
  applied: boolean;
  settings?: WhatsAppSettingsView;
}

/** Meta: "The announcement must be under 60 s, audio/ogg Opus" (reference §5.1). */
const ANNOUNCEMENT_MAX_S = 60;

/** How long the start-up look may take before the gateway goes on without it. */
const STARTUP_LOOK_MS = 5_000;

/**
 * The business number's calling settings (reference §5.1-§5.2) for operators: read them with advice
 * (adviseOnCallingSettings: calling off, Meta's SIP mode on, which refuses the Graph calls this gateway makes,
 * voicemail settings Meta ignores, restrictions), change them (a `calling` block in Meta's own shape, passed
 * on; sending `call_hours` replaces it whole, as at Meta), and look once at start-up, logging the warnings so
 * an operator sees at once why no call comes in.
 */
@Injectable()
export class WhatsAppSettingsService implements OnApplicationBootstrap {
  constructor(
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(CLOCK) private readonly now: Clock,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.phoneNumberId = config.whatsapp.phoneNumberId;
  }

  readonly phoneNumberId: string;

  async read(): Promise<WhatsAppSettingsView> {
    const s = await this.graph.getCallingSettings();
    const restrictions = s.restrictions ?? [];
    return { phoneNumberId: this.phoneNumberId, calling: s.raw, restrictions, advice: adviseOnCallingSettings(s.raw, restrictions), readAt: this.now() };
  }

  /** Sends `calling` to Meta and answers the settings read back after it. */
  async update(calling: Record<string, unknown>): Promise<WhatsAppSettingsView> {
    try {
      await this.graph.updateCallingSettings({ extra: calling });
    } catch (err) {
      if (err instanceof GraphApiError && err.metaCode === 100 && err.httpStatus < 500) {
        const details = (err.errorData as { details?: unknown } | undefined)?.details;
        const why = typeof details === 'string' ? details : (err.metaMessage ?? err.reason);
        this.logger.warn({ metaCode: err.metaCode, why }, 'WhatsApp refused the calling settings change');
        throw new SettingsRefusedError(`WhatsApp refused the calling settings: ${why}`, { metaCode: err.metaCode, ...(err.fbtraceId ? { fbtraceId: err.fbtraceId } : {}) });
      }
      throw err;
    }
    this.logger.info({ fields: Object.keys(calling) }, 'WhatsApp calling settings changed through the API');
    return this.read();
  }

  /**
   * Uploads a voicemail announcement (Ogg Opus under 60 s, checked here first) as Meta's
   * `use_case=call_voicemail_announcement` media; with `apply`, the voicemail settings then name it
   * (`calling.voicemail.audio.default.announcement_media_id`, the rest of the block kept).
   */
  async uploadAnnouncement(bytes: Buffer, apply: boolean): Promise<AnnouncementUploaded> {
    if (bytes.length === 0) throw new AnnouncementRefusedError('ANNOUNCEMENT_INVALID', 'no audio in the request body: send the Ogg Opus file itself with Content-Type audio/ogg', 400);
    let durationS: number;
    try {
      durationS = readOggOpus(bytes).durationS;
    } catch (err) {
      if (err instanceof OggFormatError) throw new AnnouncementRefusedError('ANNOUNCEMENT_INVALID', `not an Ogg Opus file (Meta takes only audio/ogg Opus): ${err.message}`, 400);
      throw err;
    }
    if (durationS <= 0) throw new AnnouncementRefusedError('ANNOUNCEMENT_INVALID', 'the announcement has no audio', 400);
    if (durationS >= ANNOUNCEMENT_MAX_S) throw new AnnouncementRefusedError('ANNOUNCEMENT_INVALID', `the announcement lasts ${durationS.toFixed(1)} s: Meta takes under ${ANNOUNCEMENT_MAX_S} s`, 400);
    let voicemail: Record<string, unknown> | undefined;
    if (apply) {
      // checked before uploading, so a refusal leaves nothing behind at Meta
      const current = (await this.graph.getCallingSettings()).raw['voicemail'];
      if (typeof current !== 'object' || current === null || Array.isArray(current)) {
        throw new AnnouncementRefusedError('NO_VOICEMAIL_SETTINGS', 'the number has no voicemail settings to add the announcement to: set calling.voicemail first (POST /v1/admin/whatsapp-settings)', 409);
      }
      voicemail = current as Record<string, unknown>;
    }
    const { mediaId } = await this.graph.uploadMedia({ bytes, mimeType: 'audio/ogg', fileName: 'voicemail-announcement.ogg', useCase: 'call_voicemail_announcement' });
    this.logger.info({ mediaId, durationS, bytes: bytes.length }, 'voicemail announcement uploaded to WhatsApp');
    if (!voicemail) return { mediaId, durationS, applied: false };
    const audio = (voicemail['audio'] as Record<string, unknown> | undefined) ?? {};
    const byDefault = (audio['default'] as Record<string, unknown> | undefined) ?? {};
    const settings = await this.update({ voicemail: { ...voicemail, audio: { ...audio, default: { ...byDefault, announcement_media_id: mediaId } } } });
    return { mediaId, durationS, applied: true, settings };
  }

  async onApplicationBootstrap(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), STARTUP_LOOK_MS)));
    try {
      const view = await Promise.race([this.read(), late]);
      if (view === 'late') {
        this.logger.warn({ afterMs: STARTUP_LOOK_MS }, 'WhatsApp calling settings not read at start-up: Meta did not answer in time (GET /v1/admin/whatsapp-settings reads them)');
        return;
      }
      this.#log(view);
    } catch (err) {
      this.logger.warn({ err }, 'WhatsApp calling settings could not be read at start-up (GET /v1/admin/whatsapp-settings reads them)');
    } finally {
      clearTimeout(timer);
    }
  }

  #log(view: WhatsAppSettingsView): void {
    const status = view.calling['status'];
    this.logger.info({ phoneNumberId: view.phoneNumberId, status, notices: view.advice.filter((a) => a.level === 'notice').map((a) => a.message) }, 'WhatsApp calling settings read');
    for (const a of view.advice) if (a.level === 'warning') this.logger.warn({ code: a.code }, `WhatsApp calling settings: ${a.message}`);
  }
}
