import type { AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import type { DedupStore, WebhookEvent } from '@wagw/whatsapp';
import { BATCH_WINDOW_MS, QUIET_MS, WebhookIngestService } from './webhook-ingest.service';
import type { DeadLetterRepository } from './dead-letter.repository';
import type { WebhookEventRouter } from './webhook-event.router';
import type { SignallingMetrics } from '../metrics/signalling-metrics';

const metadata = { display_phone_number: '15550001111', phone_number_id: '100000000000001' };

function statusWebhook(messageId: string): unknown {
  const value = { messaging_product: 'whatsapp', metadata, statuses: [{ id: messageId, status: 'sent', timestamp: '1760000000', recipient_id: '15551230000' }] };
  return { object: 'whatsapp_business_account', entry: [{ id: '100000000000002', changes: [{ field: 'messages', value }] }] };
}

/** A de-dup store whose claims resolve only when the test says so, remembering when each was asked. */
class HeldDedup implements DedupStore {
  readonly claims: string[] = [];
  readonly #release: Array<() => void> = [];
  readonly #seen = new Set<string>();

  claim(key: string): Promise<boolean> {
    this.claims.push(key);
    const fresh = !this.#seen.has(key);
    this.#seen.add(key);
    return new Promise((resolve) => this.#release.push(() => resolve(fresh)));
  }

  releaseAll(): void {
    for (const r of this.#release.splice(0)) r();
  }
}

function service(dedup: DedupStore, routed: WebhookEvent[]): WebhookIngestService {
  const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Logger;
  const deadLetters = { add: jest.fn(async () => undefined) } as unknown as DeadLetterRepository;
  const router = { route: jest.fn(async (e: WebhookEvent) => void routed.push(e)) } as unknown as WebhookEventRouter;
  const metrics = { webhook: jest.fn() } as unknown as SignallingMetrics;
  const config = { whatsapp: { webhookDedupTtlS: 3600, phoneNumberId: '100000000000001' } } as unknown as AppConfig;
  return new WebhookIngestService(config, logger, deadLetters, dedup, router, metrics);
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, BATCH_WINDOW_MS + 5));

describe('WebhookIngestService', () => {
  it('starts the webhooks acked within the batch window together (their de-dup claims leave in one go), in arrival order', async () => {
    const dedup = new HeldDedup();
    const routed: WebhookEvent[] = [];
    const ingest = service(dedup, routed);

    ingest.enqueue(statusWebhook('wamid.A'));
    ingest.enqueue(statusWebhook('wamid.B'));
    ingest.enqueue(statusWebhook('wamid.C'));
    expect(dedup.claims).toEqual([]); // nothing before the turn's batch runs

    await nextTurn();
    expect(dedup.claims).toHaveLength(3); // all three claims asked before any was answered
    expect(dedup.claims.map((k) => k.match(/wamid\.[ABC]/)?.[0])).toEqual(['wamid.A', 'wamid.B', 'wamid.C']);

    dedup.releaseAll();
    await ingest.idle();
    expect(routed.map((e) => (e as { messageId?: string }).messageId)).toEqual(['wamid.A', 'wamid.B', 'wamid.C']);
  });

  it('idle() waits for webhooks still waiting for their batch, and one acked after a batch started starts a new batch', async () => {
    const dedup = new HeldDedup();
    const routed: WebhookEvent[] = [];
    const ingest = service(dedup, routed);

    ingest.enqueue(statusWebhook('wamid.A'));
    let idle = false;
    const done = ingest.idle().then(() => (idle = true));
    await nextTurn();
    expect(idle).toBe(false);
    ingest.enqueue(statusWebhook('wamid.B')); // after the first batch started: a batch of its own
    await nextTurn();
    expect(dedup.claims).toHaveLength(2);
    dedup.releaseAll();
    await done;
    expect(routed).toHaveLength(2);
  });

  it("parks an event for another phone number of the account in the dead-letter list, counted and with why, and routes the rest", async () => {
    const dedup = new HeldDedup();
    const routed: WebhookEvent[] = [];
    const logger = { info: jest.fn(), warn: jest.fn(), error: jest.fn() } as unknown as Logger;
    const letters: { path: string; reason: string }[] = [];
    const deadLetters = { add: jest.fn(async (l: { path: string; reason: string }) => void letters.push(l)) } as unknown as DeadLetterRepository;
    const router = { route: jest.fn(async (e: WebhookEvent) => void routed.push(e)) } as unknown as WebhookEventRouter;
    const metrics = { webhook: jest.fn() } as unknown as SignallingMetrics;
    const config = { whatsapp: { webhookDedupTtlS: 3600, phoneNumberId: '100000000000001' } } as unknown as AppConfig;
    const ingest = new WebhookIngestService(config, logger, deadLetters, dedup, router, metrics);
    const other = statusWebhook('wamid.OTHER') as { entry: { changes: { value: { metadata: { phone_number_id: string } } }[] }[] };
    other.entry[0]!.changes[0]!.value.metadata = { ...metadata, phone_number_id: '100000000000009' };

    ingest.enqueue(other);
    ingest.enqueue(statusWebhook('wamid.OURS'));
    await nextTurn();
    dedup.releaseAll();
    await ingest.idle();
    expect(routed.map((e) => (e as { messageId?: string }).messageId)).toEqual(['wamid.OURS']);
    expect(letters).toEqual([
      expect.objectContaining({ path: 'phone_number_id 100000000000009', reason: "message.status for phone number id 100000000000009, not this gateway's (whatsapp.phoneNumberId 100000000000001): ignored" }),
    ]);
    expect(metrics.webhook).toHaveBeenCalledWith('other_number');
    expect(dedup.claims).toHaveLength(1); // the other number's event is not claimed
  });

  it('drops a duplicate delivered in the same batch as the original', async () => {
    const dedup = new HeldDedup();
    const routed: WebhookEvent[] = [];
    const ingest = service(dedup, routed);

    ingest.enqueue(statusWebhook('wamid.A'));
    ingest.enqueue(statusWebhook('wamid.A'));
    await nextTurn();
    dedup.releaseAll();
    await ingest.idle();
    expect(routed).toHaveLength(1);
  });

  describe('on a clock the test moves', () => {
    beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());
    const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

    it('starts a webhook that comes after a quiet spell at the end of the I/O turn, without the batch window', async () => {
      const dedup = new HeldDedup();
      const ingest = service(dedup, []);

      ingest.enqueue(statusWebhook('wamid.A'));
      await endOfTurn();
      expect(dedup.claims).toHaveLength(1);
      jest.advanceTimersByTime(QUIET_MS + 1);
      ingest.enqueue(statusWebhook('wamid.B'));
      await endOfTurn();
      expect(dedup.claims).toHaveLength(2);
      dedup.releaseAll();
      await ingest.idle();
    });

    it('holds one that follows another closely for the batch window', async () => {
      const dedup = new HeldDedup();
      const ingest = service(dedup, []);

      ingest.enqueue(statusWebhook('wamid.A'));
      await endOfTurn();
      jest.advanceTimersByTime(QUIET_MS - 1);
      ingest.enqueue(statusWebhook('wamid.B'));
      ingest.enqueue(statusWebhook('wamid.C'));
      await endOfTurn();
      expect(dedup.claims).toHaveLength(1); // B and C wait for the window
      jest.advanceTimersByTime(BATCH_WINDOW_MS);
      await endOfTurn();
      expect(dedup.claims).toHaveLength(3);
      dedup.releaseAll();
      await ingest.idle();
    });
  });
});
