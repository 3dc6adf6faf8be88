import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Logger } from '@wagw/logging';
import type { CrmEvent } from './crm-event.types';

/** Header carrying `sha256=<hex HMAC-SHA256 of the raw body>` keyed with `crm.webhookSecret`. */
export const CRM_SIGNATURE_HEADER = 'x-wagw-signature-256';
/** Header carrying the event id, the CRM's de-duplication key (delivery is at-least-once). */
export const CRM_EVENT_ID_HEADER = 'x-wagw-event-id';
export const CRM_EVENT_TYPE_HEADER = 'x-wagw-event-type';
/** 1 for the first attempt of a delivery, 2 for the first retry, ... */
export const CRM_ATTEMPT_HEADER = 'x-wagw-delivery-attempt';

/** `sha256=` and the hex HMAC-SHA256 of `body` (the exact bytes sent). */
export function signCrmWebhook(body: string | Buffer, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** What a CRM runs on each delivery: true when `header` is the signature of the raw `body`. */
export function verifyCrmWebhook(body: string | Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = Buffer.from(signCrmWebhook(body, secret));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** The part of WHATWG fetch the sender uses (the global fetch in the app, a fake in tests). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface CrmWebhookSenderOptions {
  url: string;
  secret: string;
  /** Attempts per event, the first included (`crm.webhookMaxAttempts`). */
  maxAttempts: number;
  /** Delay before the second attempt; doubles each time (`crm.webhookRetryBaseDelayMs`). */
  retryBaseDelayMs: number;
  /** Longest delay between attempts. 60 s. */
  maxBackoffMs?: number;
  /** Deadline of one POST. 10 s. */
  requestTimeoutMs?: number;
  /** Events waiting across all queues; past it the oldest waiting event of the longest queue is dropped. 10,000. */
  maxPending?: number;
  fetch?: FetchLike;
  logger: Logger;
}

interface Delivery {
  readonly event: CrmEvent;
  readonly body: string;
  readonly signature: string;
}

/** Keeps calls' ordering keys once a call is seen, so all its events share one queue. Bounded. */
const MAX_REMEMBERED_CALLS = 10_000;

/**
 * POSTs every CRM event as JSON to the CRM's URL, signed, at-least-once: a non-2xx answer or a network
 * error is retried with exponential backoff up to `maxAttempts`, then logged and dropped. Events of one
 * WhatsApp user (or, without a user, of one call) go out one after another, in publish order; other users'
 * events are not held up by them. `enqueue` never blocks or throws into the call flow. `close()` aborts
 * requests in flight and clears every retry timer.
 */
export class CrmWebhookSender {
  readonly #opts: Required<CrmWebhookSenderOptions>;
  readonly #queues = new Map<string, Delivery[]>();
  readonly #running = new Set<string>();
  readonly #keyOfCall = new Map<string, string>();
  readonly #sleeps = new Set<{ timer: NodeJS.Timeout; wake: () => void }>();
  /** Requests in flight and their deadline timers. */
  readonly #inFlight = new Map<AbortController, NodeJS.Timeout>();
  #idleWaiters: (() => void)[] = [];
  #pending = 0;
  #closed = false;

  constructor(options: CrmWebhookSenderOptions) {
    this.#opts = { maxBackoffMs: 60_000, requestTimeoutMs: 10_000, maxPending: 10_000, fetch: (url, init) => fetch(url, init), ...options };
    if (!/^https?:\/\//.test(this.#opts.url)) throw new TypeError(`CRM webhook URL must be http(s), got ${this.#opts.url}`);
    if (!this.#opts.secret) throw new TypeError('CRM webhook secret is empty');
  }

  /** Events queued or being delivered. */
  get pendingCount(): number {
    return this.#pending;
  }

  /** Retry timers and request deadlines currently armed (0 once idle or closed). */
  get timerCount(): number {
    return this.#sleeps.size + this.#inFlight.size;
  }

  /** Queues one event for delivery; returns at once. */
  enqueue(event: CrmEvent): void {
    if (this.#closed) return;
    const body = JSON.stringify(event);
    const delivery: Delivery = { event, body, signature: signCrmWebhook(body, this.#opts.secret) };
    const key = this.#orderingKey(event);
    const queue = this.#queues.get(key) ?? [];
    queue.push(delivery);
    this.#queues.set(key, queue);
    this.#pending++;
    if (this.#pending > this.#opts.maxPending) this.#shed();
    void this.#pump(key);
  }

  /** Resolves once nothing is queued or in flight (or the sender is closed). */
  idle(): Promise<void> {
    if (this.#pending === 0 || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops: drops what is queued, aborts requests in flight, clears retry timers. Idempotent. */
  close(): number {
    if (this.#closed) return 0;
    this.#closed = true;
    const dropped = this.#pending;
    this.#queues.clear();
    this.#pending = 0;
    for (const [ctrl, deadline] of this.#inFlight) {
      clearTimeout(deadline);
      ctrl.abort(new Error('CRM webhook sender closed'));
    }
    this.#inFlight.clear();
    for (const sleep of [...this.#sleeps]) {
      clearTimeout(sleep.timer);
      sleep.wake();
    }
    this.#sleeps.clear();
    this.#wakeIdle();
    return dropped;
  }

  /** A user's events share one queue (permission and call events in order); a call without a user has its own. */
  #orderingKey(event: CrmEvent): string {
    const data = event.data as { callId?: string; waId?: string };
    const known = data.callId ? this.#keyOfCall.get(data.callId) : undefined;
    const key = known ?? (data.waId ? `wa:${data.waId}` : data.callId ? `call:${data.callId}` : 'global');
    if (data.callId && !known) {
      this.#keyOfCall.set(data.callId, key);
      if (this.#keyOfCall.size > MAX_REMEMBERED_CALLS) this.#keyOfCall.delete(this.#keyOfCall.keys().next().value as string);
    }
    if (event.type === 'call.ended') this.#keyOfCall.delete(event.data.callId);
    return key;
  }

  /** Over the pending limit (the CRM has been down for long): drop the oldest waiting event of the longest queue. */
  #shed(): void {
    let longest: Delivery[] | undefined;
    for (const q of this.#queues.values()) if (!longest || q.length > longest.length) longest = q;
    // index 0 may be in flight; drop the next one (a queue of one is only the in-flight event)
    const victim = longest && longest.length > 1 ? longest.splice(1, 1)[0] : undefined;
    if (!victim) return;
    this.#pending--;
    this.#opts.logger.error({ eventId: victim.event.id, event: victim.event.type, pending: this.#pending }, 'CRM webhook dropped: too many undelivered events');
  }

  async #pump(key: string): Promise<void> {
    if (this.#running.has(key)) return;
    this.#running.add(key);
    try {
      for (let q = this.#queues.get(key); q && q.length > 0 && !this.#closed; q = this.#queues.get(key)) {
        const delivery = q[0] as Delivery;
        await this.#deliver(delivery);
        if (this.#closed) break;
        q.shift();
        this.#pending--;
        if (q.length === 0) this.#queues.delete(key);
      }
    } finally {
      this.#running.delete(key);
      this.#wakeIdle();
    }
  }

  async #deliver(delivery: Delivery): Promise<void> {
    const log = { eventId: delivery.event.id, event: delivery.event.type };
    for (let attempt = 1; attempt <= this.#opts.maxAttempts && !this.#closed; attempt++) {
      const outcome = await this.#attempt(delivery, attempt);
      if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
        this.#opts.logger.debug({ ...log, attempt, status: outcome.status }, 'CRM webhook delivered');
        return;
      }
      if (this.#closed) return;
      const last = attempt === this.#opts.maxAttempts;
      this.#opts.logger[last ? 'error' : 'warn']({ ...log, attempt, status: outcome.status, error: outcome.error }, last ? 'CRM webhook given up after the last attempt' : 'CRM webhook attempt failed; will retry');
      if (!last) await this.#sleep(Math.min(this.#opts.maxBackoffMs, this.#opts.retryBaseDelayMs * 2 ** (attempt - 1)));
    }
  }

  async #attempt(delivery: Delivery, attempt: number): Promise<{ status?: number; error?: string }> {
    const ctrl = new AbortController();
    const deadline = setTimeout(() => ctrl.abort(new Error(`no answer within ${this.#opts.requestTimeoutMs} ms`)), this.#opts.requestTimeoutMs);
    this.#inFlight.set(ctrl, deadline);
    try {
      const res = await this.#opts.fetch(this.#opts.url, {
        method: 'POST',
        redirect: 'manual',
        signal: ctrl.signal,
        body: delivery.body,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'wagw-crm-webhooks/1',
          [CRM_SIGNATURE_HEADER]: delivery.signature,
          [CRM_EVENT_ID_HEADER]: delivery.event.id,
          [CRM_EVENT_TYPE_HEADER]: delivery.event.type,
          [CRM_ATTEMPT_HEADER]: String(attempt),
        },
      });
      // The body is not needed; cancelling it frees the connection.
      await res.body?.cancel().catch(() => undefined);
      return { status: res.status };
    } catch (err) {
      const reason = ctrl.signal.aborted ? ctrl.signal.reason : err;
      return { error: reason instanceof Error ? reason.message : String(reason) };
    } finally {
      clearTimeout(deadline);
      this.#inFlight.delete(ctrl);
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const entry = {
        timer: setTimeout(() => {
          this.#sleeps.delete(entry);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.#sleeps.add(entry);
    });
  }

  #wakeIdle(): void {
    if (this.#pending !== 0 && !this.#closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
