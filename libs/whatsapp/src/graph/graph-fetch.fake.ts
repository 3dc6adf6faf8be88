import type { Logger } from '@wagw/logging';

/** Test doubles for the Graph client: a scripted `fetch` that records requests, and a recording Logger. */

export type FakeReply =
  | { status: number; body?: unknown; rawBody?: string; bytes?: Uint8Array; headers?: Record<string, string> }
  | { error: unknown }
  /** Never answers; rejects with an AbortError when the client's deadline aborts the request. */
  | { hang: true };

export interface RecordedRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  /** The body as sent (a string) and parsed back from JSON. */
  rawBody: string | undefined;
  body: unknown;
  /** A body sent as bytes (a media upload). */
  bodyBytes?: Buffer;
}

export class FakeFetch {
  readonly requests: RecordedRequest[] = [];
  readonly #replies: FakeReply[];

  constructor(replies: FakeReply[]) {
    this.#replies = [...replies];
  }

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const rawBody = typeof init?.body === 'string' ? init.body : undefined;
    const bytes = init?.body instanceof Uint8Array ? Buffer.from(init.body) : undefined;
    this.requests.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string> | undefined) },
      rawBody,
      body: rawBody === undefined ? undefined : (JSON.parse(rawBody) as unknown),
      ...(bytes ? { bodyBytes: bytes } : {}),
    });
    const reply = this.#replies.shift();
    if (!reply) throw new Error(`FakeFetch: unexpected request #${this.requests.length} to ${String(input)}`);
    if ('error' in reply) throw reply.error;
    if ('hang' in reply) return hangUntilAborted(init?.signal ?? undefined);
    if (reply.bytes) return new Response(Buffer.from(reply.bytes), { status: reply.status, headers: reply.headers ?? {} });
    const text = reply.rawBody ?? (reply.body === undefined ? '' : JSON.stringify(reply.body));
    return new Response(text, { status: reply.status, headers: reply.headers ?? {} });
  };
}

function hangUntilAborted(signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((_resolve, reject) => {
    if (!signal) return;
    signal.addEventListener('abort', () => reject(new DOMException('This operation was aborted', 'AbortError')), { once: true });
  });
}

/** `TypeError('fetch failed')` with a socket error as cause, the way undici reports it. */
export function networkError(code: string): TypeError {
  const cause = Object.assign(new Error(`connect ${code} 127.0.0.1:443`), { code });
  return new TypeError('fetch failed', { cause });
}

export interface LogEntry {
  level: string;
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export class RecordingLogger implements Logger {
  constructor(
    readonly entries: LogEntry[] = [],
    readonly bindings: Record<string, unknown> = {},
  ) {}

  #log(level: string, obj: object | string, msg?: string): void {
    if (typeof obj === 'string') this.entries.push({ level, obj: { ...this.bindings }, msg: obj });
    else this.entries.push({ level, obj: { ...this.bindings, ...(obj as Record<string, unknown>) }, msg });
  }

  trace(obj: object | string, msg?: string): void {
    this.#log('trace', obj, msg);
  }
  debug(obj: object | string, msg?: string): void {
    this.#log('debug', obj, msg);
  }
  info(obj: object | string, msg?: string): void {
    this.#log('info', obj, msg);
  }
  warn(obj: object | string, msg?: string): void {
    this.#log('warn', obj, msg);
  }
  error(obj: object | string, msg?: string): void {
    this.#log('error', obj, msg);
  }
  fatal(obj: object | string, msg?: string): void {
    this.#log('fatal', obj, msg);
  }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.entries, { ...this.bindings, ...bindings });
  }
}
