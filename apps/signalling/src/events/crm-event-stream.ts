import type { Logger } from '@wagw/logging';
import { CrmEventBuffer } from './crm-event-buffer';
import type { CrmEvent } from './crm-event.types';
import { formatSseComment, formatSseEvent, formatSseRetry } from './sse-format';

/** Where one SSE client's bytes go (an HTTP response in the app, an array in tests). */
export interface SseSink {
  /** Writes a chunk; returns false when the client is too far behind and should be dropped. */
  write(chunk: string): boolean;
  /** Ends the response (idempotent). */
  end(): void;
}

export interface SseClientOptions {
  /** The `Last-Event-ID` the client sent: buffered events after it are replayed first. */
  lastEventId?: string;
  /** Only these event types (all when absent). */
  types?: ReadonlySet<string>;
}

export interface CrmEventStreamOptions {
  /** Recent events kept for replay (`crm.eventBufferSize`). */
  bufferSize: number;
  /** A comment is written to every client this often so idle connections stay open. 15 s. */
  keepAliveMs?: number;
  /** `retry:` sent to each client on connect: the browser's reconnect delay. 3 s. */
  reconnectDelayMs?: number;
  logger: Logger;
}

interface Client {
  readonly id: number;
  readonly sink: SseSink;
  readonly types: ReadonlySet<string> | undefined;
}

/**
 * Fans CRM events out to Server-Sent Events clients (GET /v1/events) and keeps the recent ones for replay.
 * One keep-alive timer serves every client; it runs only while a client is attached, so a stream with no
 * clients (and a closed one) holds no timer. A client leaves by its detach function (the HTTP connection
 * closed), when its sink reports it is too far behind, or on `close()`.
 */
export class CrmEventStream {
  readonly #buffer: CrmEventBuffer;
  readonly #clients = new Map<number, Client>();
  readonly #keepAliveMs: number;
  readonly #reconnectDelayMs: number;
  readonly #log: Logger;
  #keepAlive: NodeJS.Timeout | undefined;
  #nextId = 0;
  #closed = false;

  constructor(options: CrmEventStreamOptions) {
    this.#buffer = new CrmEventBuffer(options.bufferSize);
    this.#keepAliveMs = options.keepAliveMs ?? 15_000;
    this.#reconnectDelayMs = options.reconnectDelayMs ?? 3_000;
    this.#log = options.logger;
  }

  get clientCount(): number {
    return this.#clients.size;
  }

  get bufferedCount(): number {
    return this.#buffer.size;
  }

  /** Records an event and writes it to every client whose filter takes it. */
  publish(event: CrmEvent): void {
    if (this.#closed) return;
    this.#buffer.push(event);
    const chunk = formatSseEvent(event);
    for (const client of [...this.#clients.values()]) {
      if (!client.types || client.types.has(event.type)) this.#write(client, chunk);
    }
  }

  /**
   * Attaches a client: writes the reconnect delay, replays buffered events after `lastEventId`, then
   * streams live ones. All of it runs synchronously, so no event published meanwhile can be missed or
   * doubled. Returns the detach function (idempotent).
   */
  attach(sink: SseSink, options: SseClientOptions = {}): () => void {
    if (this.#closed) {
      sink.end();
      return () => undefined;
    }
    const client: Client = { id: ++this.#nextId, sink, types: options.types };
    this.#clients.set(client.id, client);
    this.#write(client, formatSseRetry(this.#reconnectDelayMs));
    if (options.lastEventId !== undefined) this.#replay(client, options.lastEventId);
    this.#startKeepAlive();
    this.#log.debug({ client: client.id, clients: this.#clients.size, lastEventId: options.lastEventId }, 'SSE client attached');
    return () => this.#detach(client.id);
  }

  /** Ends every client and stops the keep-alive timer; later publishes and attaches do nothing. */
  close(): void {
    this.#closed = true;
    for (const client of [...this.#clients.values()]) {
      this.#detach(client.id);
      client.sink.end();
    }
  }

  #replay(client: Client, lastEventId: string): void {
    const { events, complete } = this.#buffer.after(lastEventId);
    if (!complete) this.#write(client, formatSseComment(`replay from the oldest buffered event: ${lastEventId} is no longer buffered`));
    for (const event of events) {
      if (!client.types || client.types.has(event.type)) this.#write(client, formatSseEvent(event));
    }
  }

  #write(client: Client, chunk: string): void {
    if (!this.#clients.has(client.id)) return;
    let ok: boolean;
    try {
      ok = client.sink.write(chunk);
    } catch (err) {
      this.#log.warn({ err, client: client.id }, 'SSE write failed; client dropped');
      ok = false;
    }
    if (ok) return;
    this.#log.warn({ client: client.id }, 'SSE client dropped (too far behind or gone); it can reconnect with Last-Event-ID');
    this.#detach(client.id);
    client.sink.end();
  }

  #detach(id: number): void {
    if (!this.#clients.delete(id)) return;
    this.#log.debug({ client: id, clients: this.#clients.size }, 'SSE client detached');
    if (this.#clients.size === 0 && this.#keepAlive) {
      clearInterval(this.#keepAlive);
      this.#keepAlive = undefined;
    }
  }

  #startKeepAlive(): void {
    if (this.#keepAlive || this.#clients.size === 0) return;
    this.#keepAlive = setInterval(() => {
      const chunk = formatSseComment('keep-alive');
      for (const client of [...this.#clients.values()]) this.#write(client, chunk);
    }, this.#keepAliveMs);
  }
}
