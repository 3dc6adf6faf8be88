import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { signWebhookBody } from '@wagw/whatsapp';
import type { Logger } from '@wagw/logging';
import type { TimerRegistry } from './timers';

/**
 * Delivers signed webhooks the way Meta does (reference §2.1): `X-Hub-Signature-256` over the exact bytes
 * sent, at-least-once with retries on non-2xx and network errors, no exactly-once. Deliveries that share
 * a key (one call, or one user's messages) go out one after another, in order; different keys run in
 * parallel. Test switches (faults) duplicate every webhook, delay them, or hold the next call's webhooks
 * until its `terminate` and send that first (Meta: "terminate can arrive before connect").
 */

export interface WebhookTransport {
  /** POSTs `body` and resolves with the HTTP status; rejects on network errors and aborts. */
  post(url: string, body: Buffer, headers: Record<string, string>, signal: AbortSignal): Promise<number>;
}

function postWith(agents: { http: HttpAgent | false; https: HttpsAgent | false }): WebhookTransport['post'] {
  return (url, body, headers, signal) =>
    new Promise<number>((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const send = secure ? httpsRequest : httpRequest;
      const req = send(target, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, agent: secure ? agents.https : agents.http, signal }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(body);
    });
}

/** Node http/https without keep-alive, so no socket outlives a delivery. */
export const httpWebhookTransport: WebhookTransport = { post: postWith({ http: false, https: false }) };

/**
 * Node http/https with keep-alive connections (the emulator's default): deliveries reuse connections as a
 * busy sender does, instead of a TCP handshake per webhook on both sides. `close()` drops the pooled
 * sockets (EmulatorCore.close()); idle ones never keep the process alive.
 */
export function keepAliveWebhookTransport(): WebhookTransport & { close(): void } {
  const http = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  const https = new HttpsAgent({ keepAlive: true, maxSockets: 256 });
  return {
    post: postWith({ http, https }),
    close: () => {
      http.destroy();
      https.destroy();
    },
  };
}

export type WebhookKind =
  | 'calls.connect'
  | 'calls.terminate'
  | 'calls.status'
  | 'messages.status'
  | 'messages.call_permission_reply'
  | 'messages.voicemail'
  | 'account_settings_update'
  | 'account_update';

export interface WebhookFaults {
  /** Extra copies of every webhook (0: none). Copies carry the same bytes and signature. */
  duplicateCount: number;
  /** Every webhook waits this long before its first attempt. */
  delayMs: number;
  /** Hold the next call's webhooks until its terminate, then send terminate first. Disarms itself. */
  reorderNextCall: boolean;
}

export const NO_FAULTS: Readonly<WebhookFaults> = { duplicateCount: 0, delayMs: 0, reorderNextCall: false };

export interface DeliveryAttempt {
  /** Real time, epoch ms. */
  at: number;
  status?: number;
  error?: string;
}

export interface DeliveryRecord {
  seq: number;
  key: string;
  kind: WebhookKind;
  /** 0 for the original, 1..n for injected duplicates. */
  copy: number;
  state: 'held' | 'queued' | 'delivering' | 'delivered' | 'failed' | 'dropped';
  attempts: DeliveryAttempt[];
  enqueuedAt: number;
  notBefore: number;
  deliveredAt?: number;
  /** The exact bytes sent, as text. */
  body: string;
  signature: string;
}

export interface WebhookSenderOptions {
  url: string;
  appSecret: string;
  maxAttempts: number;
  retryBaseDelayMs: number;
  transport: WebhookTransport;
  timers: TimerRegistry;
  logger: Logger;
  /** Meta's HTTPS request times out after about 20 s (FAQ-2511). */
  requestTimeoutMs?: number;
  /** Log entries kept (oldest dropped first). */
  logLimit?: number;
}

const MAX_BACKOFF_MS = 30_000;

export class WebhookSender {
  readonly #opts: Required<WebhookSenderOptions>;
  readonly #queues = new Map<string, DeliveryRecord[]>();
  readonly #running = new Set<string>();
  readonly #held = new Map<string, DeliveryRecord[]>();
  #log: DeliveryRecord[] = [];
  #faults: WebhookFaults = { ...NO_FAULTS };
  #seq = 0;
  #abort = new AbortController();
  #idleWaiters: (() => void)[] = [];
  #closed = false;

  constructor(options: WebhookSenderOptions) {
    this.#opts = { requestTimeoutMs: 20_000, logLimit: 2000, ...options };
  }

  get faults(): Readonly<WebhookFaults> {
    return { ...this.#faults };
  }

  setFaults(patch: Partial<WebhookFaults>): Readonly<WebhookFaults> {
    this.#faults = { ...this.#faults, ...patch };
    return this.faults;
  }

  /** Called for every new call: arms the reorder fault for it when requested. */
  callStarted(callKey: string): void {
    if (!this.#faults.reorderNextCall) return;
    this.#faults.reorderNextCall = false;
    this.#held.set(callKey, []);
    this.#opts.logger.info({ key: callKey }, 'fault: webhooks of this call held until its terminate');
  }

  /** Signs and queues one webhook (plus injected duplicates). Returns the log records. */
  enqueue(key: string, kind: WebhookKind, payload: object): DeliveryRecord[] {
    if (this.#closed) return [];
    const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
    const signature = signWebhookBody(bytes, this.#opts.appSecret);
    const now = Date.now();
    const records: DeliveryRecord[] = [];
    for (let copy = 0; copy <= this.#faults.duplicateCount; copy++) {
      const record: DeliveryRecord = { seq: ++this.#seq, key, kind, copy, state: 'queued', attempts: [], enqueuedAt: now, notBefore: now + this.#faults.delayMs, body: bytes.toString('utf8'), signature };
      records.push(record);
      this.#append(record);
    }
    const held = this.#held.get(key);
    if (held && kind !== 'calls.terminate') {
      for (const r of records) r.state = 'held';
      held.push(...records);
      return records;
    }
    if (held) {
      // Reorder fault: terminate first, then everything held back, in the order it was produced.
      this.#held.delete(key);
      for (const r of held) r.state = 'queued';
      this.#queue(key, [...records, ...held]);
    } else {
      this.#queue(key, records);
    }
    return records;
  }

  log(): readonly DeliveryRecord[] {
    return this.#log;
  }

  /** Resolves once nothing is queued or being delivered (held webhooks excepted). */
  idle(): Promise<void> {
    if (this.#pending() === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Drops everything queued and held, aborts requests in flight, clears the log and the faults. */
  reset(): void {
    this.#dropAll();
    this.#log = [];
    this.#faults = { ...NO_FAULTS };
    this.#seq = 0;
    this.#abort.abort();
    this.#abort = new AbortController();
  }

  close(): void {
    this.#closed = true;
    this.#dropAll();
    this.#abort.abort();
    this.#wakeIdle();
  }

  #append(record: DeliveryRecord): void {
    this.#log.push(record);
    if (this.#log.length > this.#opts.logLimit) this.#log.splice(0, this.#log.length - this.#opts.logLimit);
  }

  #dropAll(): void {
    for (const list of [...this.#queues.values(), ...this.#held.values()]) {
      for (const r of list) if (r.state !== 'delivered' && r.state !== 'failed') r.state = 'dropped';
    }
    this.#queues.clear();
    this.#held.clear();
  }

  #pending(): number {
    let n = this.#running.size;
    for (const q of this.#queues.values()) n += q.length;
    return n;
  }

  #wakeIdle(): void {
    if (this.#pending() !== 0 && !this.#closed) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }

  #queue(key: string, records: DeliveryRecord[]): void {
    const q = this.#queues.get(key) ?? [];
    q.push(...records);
    this.#queues.set(key, q);
    void this.#pump(key);
  }

  async #pump(key: string): Promise<void> {
    if (this.#running.has(key)) return;
    this.#running.add(key);
    try {
      for (;;) {
        const q = this.#queues.get(key);
        const record = q?.[0];
        if (!q || !record) break;
        await this.#deliver(record);
        if (q[0] === record) q.shift();
        if (q.length === 0 && this.#queues.get(key) === q) this.#queues.delete(key);
      }
    } finally {
      this.#running.delete(key);
      this.#wakeIdle();
    }
  }

  async #deliver(record: DeliveryRecord): Promise<void> {
    const wait = record.notBefore - Date.now();
    if (wait > 0) await this.#opts.timers.sleep(wait);
    for (let attempt = 1; attempt <= this.#opts.maxAttempts; attempt++) {
      if (this.#closed || record.state === 'dropped') return;
      record.state = 'delivering';
      const outcome = await this.#attempt(record);
      if (record.state !== 'delivering') return; // dropped by reset/close while in flight
      record.attempts.push(outcome);
      if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) {
        record.state = 'delivered';
        record.deliveredAt = Date.now();
        this.#opts.logger.debug({ seq: record.seq, key: record.key, kind: record.kind, attempt }, 'webhook delivered');
        return;
      }
      this.#opts.logger.warn({ seq: record.seq, key: record.key, kind: record.kind, attempt, status: outcome.status, error: outcome.error }, 'webhook delivery failed');
      if (attempt < this.#opts.maxAttempts) {
        record.state = 'queued';
        await this.#opts.timers.sleep(Math.min(MAX_BACKOFF_MS, this.#opts.retryBaseDelayMs * 2 ** (attempt - 1)));
      }
    }
    if (record.state !== 'dropped') {
      record.state = 'failed';
      this.#opts.logger.error({ seq: record.seq, key: record.key, kind: record.kind }, 'webhook given up after the last attempt');
    }
  }

  async #attempt(record: DeliveryRecord): Promise<DeliveryAttempt> {
    const at = Date.now();
    const headers = {
      'content-type': 'application/json',
      'x-hub-signature-256': record.signature,
      'user-agent': 'facebookexternalua',
    };
    try {
      const signal = AbortSignal.any([this.#abort.signal, AbortSignal.timeout(this.#opts.requestTimeoutMs)]);
      const status = await this.#opts.transport.post(this.#opts.url, Buffer.from(record.body, 'utf8'), headers, signal);
      return { at, status };
    } catch (err) {
      return { at, error: err instanceof Error ? err.message : String(err) };
    }
  }
}
