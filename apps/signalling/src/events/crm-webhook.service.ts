import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { CrmEventBus } from './crm-event-bus';
import { CrmWebhookSender } from './crm-webhook.sender';

/**
 * Nest wiring of the CRM webhooks: when `crm.webhookUrl` is set, every event on the bus is queued on a
 * `CrmWebhookSender`. On shutdown (after the call flows have drained) the sender stops: requests in flight
 * are aborted, retries cancelled, and the number of undelivered events is logged.
 */
@Injectable()
export class CrmWebhookService implements OnApplicationShutdown {
  readonly sender: CrmWebhookSender | undefined;
  readonly #unsubscribe: (() => void) | undefined;
  readonly #log: Logger;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(SIGNALLING_LOGGER) logger: Logger, bus: CrmEventBus) {
    this.#log = logger.child({ component: 'crm-webhooks' });
    const { webhookUrl, webhookSecret, webhookMaxAttempts, webhookRetryBaseDelayMs } = config.crm;
    if (!webhookUrl) {
      this.#log.info('CRM webhooks off (crm.webhookUrl is empty)');
      return;
    }
    const sender = new CrmWebhookSender({
      url: webhookUrl,
      secret: webhookSecret,
      maxAttempts: webhookMaxAttempts,
      retryBaseDelayMs: webhookRetryBaseDelayMs,
      logger: this.#log,
    });
    this.sender = sender;
    this.#unsubscribe = bus.subscribe((event) => sender.enqueue(event));
    this.#log.info({ url: webhookUrl, maxAttempts: webhookMaxAttempts }, 'CRM webhooks on');
  }

  onApplicationShutdown(): void {
    this.#unsubscribe?.();
    const dropped = this.sender?.close() ?? 0;
    if (dropped > 0) this.#log.warn({ undelivered: dropped }, 'CRM webhooks not delivered before shutdown');
  }
}
