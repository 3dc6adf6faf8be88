import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
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
