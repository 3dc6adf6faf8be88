import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { dedupKeyOf, parseWebhook, type DedupStore, type WebhookEvent } from '@wagw/whatsapp';
import { DEAD_LETTERS, DEDUP_STORE, SIGNALLING_LOGGER } from '../signalling.tokens';
import type { DeadLetterRepository } from './dead-letter.repository';
import { WebhookEventRouter } from './webhook-event.router';
import { SignallingMetrics } from '../metrics/signalling-metrics';

/** How long the first webhook of a batch waits for others (after its ack, so not on the ack's path). */
export const BATCH_WINDOW_MS = 2;
/**
 * A webhook that comes after this long without one starts at the end of the current I/O turn instead (with
 * any acked in the same turn): at low rates there is nothing to batch with, and the window would only
 * delay the call's set-up.
 */
export const QUIET_MS = 20;

/**
 * Work done after the webhook ack: parse into typed events, park what cannot be used in the dead-letter
 * list, drop duplicates (atomic claim in Redis, so it holds across instances and concurrent deliveries),
 * and hand each new event to the router. Events of one WhatsApp call are handled in arrival order.
 */
@Injectable()
export class WebhookIngestService implements OnApplicationShutdown {
  readonly #inFlight = new Set<Promise<void>>();
  readonly #perCall = new Map<string, Promise<void>>();
  /** Acked webhooks waiting for the open batch to start. */
  readonly #batch: unknown[] = [];
  #lastArrival = Number.NEGATIVE_INFINITY;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(DEAD_LETTERS) private readonly deadLetters: DeadLetterRepository,
    @Inject(DEDUP_STORE) private readonly dedup: DedupStore,
    private readonly router: WebhookEventRouter,
    private readonly metrics: SignallingMetrics,
  ) {}

  /**
   * Called after the signature check and the ack; never throws. Webhooks are processed in batches: those
   * acked within BATCH_WINDOW_MS of the first one start together, so their Redis commands leave as one
   * pipelined write and their replies come back in one read, instead of a write and a read per webhook (on
   * loopback in a VM each such wake-up cost ~130 us of CPU against ~10-20 us per command in a batch).
   * A webhook waits at most that window before its processing starts (none after QUIET_MS without one);
   * order of arrival is kept.
   */
  enqueue(body: unknown): void {
    const now = performance.now();
    const quiet = now - this.#lastArrival > QUIET_MS;
    this.#lastArrival = now;
    this.#batch.push(body);
    if (this.#batch.length > 1) return; // the open batch takes it
    const start = new Promise<void>((resolve) => (quiet ? setImmediate(resolve) : setTimeout(resolve, BATCH_WINDOW_MS)));
    const job = start.then(() => {
      const bodies = this.#batch.splice(0);
      return Promise.all(bodies.map((b) => this.#process(b).catch((err: unknown) => this.logger.error({ err }, 'webhook processing failed')))).then(() => undefined);
    });
    this.#inFlight.add(job);
    void job.finally(() => this.#inFlight.delete(job));
  }

  /** Resolves when every accepted webhook so far has been processed (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
  }

  async #process(body: unknown): Promise<void> {
    const { events, rejected } = parseWebhook(body);
    const receivedAt = new Date().toISOString();
    this.metrics.webhook('dead_letter', rejected.length);
    for (const r of rejected) {
      this.logger.warn({ path: r.path, reason: r.reason }, 'webhook item not applied: parked in dead-letter list');
      await this.deadLetters.add({ receivedAt, path: r.path, reason: r.reason, raw: r.raw });
    }
    const ours = this.config.whatsapp.phoneNumberId;
    const mine: WebhookEvent[] = [];
    for (const event of events) {
      if ('phoneNumberId' in event && event.phoneNumberId !== ours) await this.#otherNumber(event, ours, receivedAt);
      else mine.push(event);
    }
    await Promise.all(mine.map((event) => this.#handleOnce(event)));
  }

  /**
   * An event for another phone number of the WhatsApp Business Account (Meta sends every number's webhooks
   * to the app's one URL): not this gateway's to act on (its Graph requests would name the wrong number), so
   * it is parked in the dead-letter list with why, and counted.
   */
  async #otherNumber(event: WebhookEvent & { phoneNumberId: string }, ours: string, receivedAt: string): Promise<void> {
    const reason = `${event.kind} for phone number id ${event.phoneNumberId}, not this gateway's (whatsapp.phoneNumberId ${ours}): ignored`;
    this.metrics.webhook('other_number');
    this.logger.warn({ kind: event.kind, phoneNumberId: event.phoneNumberId, ...('waCallId' in event ? { waCallId: event.waCallId } : {}) }, 'webhook for another phone number ignored: parked in dead-letter list');
    await this.deadLetters.add({ receivedAt, path: `phone_number_id ${event.phoneNumberId}`, reason, raw: event });
  }

  async #handleOnce(event: WebhookEvent): Promise<void> {
    const key = dedupKeyOf(event);
    const fresh = await this.dedup.claim(key, this.config.whatsapp.webhookDedupTtlS);
    if (!fresh) {
      this.metrics.webhook('duplicate');
      this.logger.info({ dedupKey: key, kind: event.kind }, 'duplicate webhook ignored');
      return;
    }
    const lane = 'waCallId' in event && typeof event.waCallId === 'string' ? event.waCallId : key;
    const previous = this.#perCall.get(lane) ?? Promise.resolve();
    const next = previous.then(() => this.router.route(event)).catch((err: unknown) => {
      this.logger.error({ err, dedupKey: key, kind: event.kind }, 'webhook event handling failed');
    });
    this.#perCall.set(lane, next);
    await next;
    if (this.#perCall.get(lane) === next) this.#perCall.delete(lane);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.idle();
  }
}
