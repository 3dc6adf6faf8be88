import { type IncomingMessage, type Server, type ServerResponse, createServer, request } from 'node:http';
import { verifyWebhookSignature } from '@wagw/whatsapp';
import { type FlatEvent, flattenWebhook } from './webhook-events';

export interface ReceivedWebhook {
  raw: Buffer;
  body: unknown;
  signature: string | undefined;
  signatureOk: boolean;
}

interface Waiter {
  predicate: (events: FlatEvent[]) => boolean;
  resolve: (events: FlatEvent[]) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A tiny webhook endpoint for integration tests: verifies X-Hub-Signature-256 over the raw bytes, can answer
 * 500 to the next N deliveries, and lets a test await a condition on what arrived (event-driven, bounded).
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** Deliveries answered 500 (not recorded as received). */
  refused = 0;
  #failNext = 0;
  #waiters: Waiter[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly appSecret: string,
  ) {}

  static async start(appSecret: string): Promise<WebhookReceiver> {
    const holder: { receiver?: WebhookReceiver } = {};
    const server = createServer((req, res) => holder.receiver?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    holder.receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}/webhooks/whatsapp`, appSecret);
    return holder.receiver;
  }

  failNext(n: number): void {
    this.#failNext = n;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (this.#failNext > 0) {
        this.#failNext -= 1;
        this.refused += 1;
        res.writeHead(500).end('receiver refuses');
        return;
      }
      const raw = Buffer.concat(chunks);
      const signature = req.headers['x-hub-signature-256'] as string | undefined;
      const signatureOk = verifyWebhookSignature(raw, signature, this.appSecret).ok;
      this.received.push({ raw, body: JSON.parse(raw.toString('utf8')), signature, signatureOk });
      res.writeHead(signatureOk ? 200 : 401).end();
      this.#check();
    });
  }

  events(): FlatEvent[] {
    return this.received.flatMap((r) => flattenWebhook(r.body));
  }

  eventsOf(id: string): FlatEvent[] {
    return this.events().filter((e) => e.id === id);
  }

  /** Resolves with all events once `predicate` holds; rejects after timeoutMs. */
  waitFor(predicate: (events: FlatEvent[]) => boolean, timeoutMs = 10_000): Promise<FlatEvent[]> {
    const now = this.events();
    if (predicate(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          reject(new Error(`webhook condition not met within ${timeoutMs} ms; got: ${this.events().map((e) => e.type).join(', ')}`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Waits for an event of `type` about `id` (a call or message id). */
  waitForEvent(id: string, type: string, timeoutMs?: number): Promise<FlatEvent> {
    return this.waitFor((events) => events.some((e) => e.id === id && e.type === type), timeoutMs).then(
      (events) => events.find((e) => e.id === id && e.type === type) as FlatEvent,
    );
  }

  #check(): void {
    const events = this.events();
    for (const w of [...this.#waiters]) {
      if (!w.predicate(events)) continue;
      clearTimeout(w.timer);
      this.#waiters = this.#waiters.filter((x) => x !== w);
      w.resolve(events);
    }
  }

  async close(): Promise<void> {
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.reject(new Error('receiver closed'));
    }
    this.#waiters = [];
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface HttpResult {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON from the server under test
}

/** JSON over node:http without keep-alive (no socket outlives a test). A Buffer body is sent as is. */
export function httpJson(method: string, url: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method, agent: false, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON: the text itself is the body
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}
