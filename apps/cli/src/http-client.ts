import { CommandFailedError, UnreachableError } from './cli.errors';

export interface HttpResponse<T> {
  status: number;
  body: T;
}

/** JSON over HTTP with a deadline; failures become the CLI's typed errors (unreachable vs. refused). */
export class HttpClient {
  constructor(
    private readonly baseUrl: string,
    private readonly what: string,
    private readonly token?: string,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The response of a 2xx; a non-2xx throws CommandFailedError with the server's message. */
  async request<T>(method: string, path: string, body?: unknown): Promise<HttpResponse<T>> {
    const res = await this.send(method, path, body);
    if (res.status < 200 || res.status > 299) throw new CommandFailedError(`${this.what} answered ${method} ${path} with HTTP ${res.status}: ${errorText(res.body)}`);
    return res as HttpResponse<T>;
  }

  /** A 2xx answer's bytes and content type (a file); a non-2xx throws CommandFailedError with its message. */
  async download(path: string): Promise<{ bytes: Buffer; contentType: string | undefined; headers: Headers }> {
    const res = await this.#fetch('GET', path, undefined);
    if (res.status < 200 || res.status > 299) {
      throw new CommandFailedError(`${this.what} answered GET ${path} with HTTP ${res.status}: ${errorText(parseBody(await res.text()))}`);
    }
    return { bytes: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? undefined, headers: res.headers };
  }

  /** POSTs bytes (a file) as `contentType`; the JSON answer of a 2xx, else CommandFailedError with its message. */
  async upload<T>(path: string, bytes: Buffer, contentType: string): Promise<HttpResponse<T>> {
    const res = await this.#fetch('POST', path, undefined, { bytes, contentType });
    const body = parseBody(await res.text());
    if (res.status < 200 || res.status > 299) throw new CommandFailedError(`${this.what} answered POST ${path} with HTTP ${res.status}: ${errorText(body)}`);
    return { status: res.status, body: body as T };
  }

  /** Any response (the caller decides on the status); only "nothing answered" throws. */
  async send(method: string, path: string, body?: unknown): Promise<HttpResponse<unknown>> {
    const res = await this.#fetch(method, path, body);
    return { status: res.status, body: parseBody(await res.text()) };
  }

  async #fetch(method: string, path: string, body: unknown, file?: { bytes: Buffer; contentType: string }): Promise<Response> {
    try {
      return await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(file ? { 'content-type': file.contentType } : body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(file ? { body: Uint8Array.from(file.bytes) } : body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = (err as Error).name === 'TimeoutError' ? `no answer within ${this.timeoutMs} ms` : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new UnreachableError(`cannot reach the ${this.what} at ${this.baseUrl}: ${why}`);
    }
  }
}

/** JSON, or the text itself when it is not JSON (for the error message). */
function parseBody(text: string): unknown {
  try {
    return text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    return text;
  }
}

/** The message of our API's `{ error: { code, message } }`, or the body as text. */
export function errorText(body: unknown): string {
  const e = (body as { error?: { code?: unknown; message?: unknown; problems?: unknown } } | undefined)?.error;
  if (e && typeof e === 'object') {
    const msg = Array.isArray(e.message) ? e.message.join('; ') : String(e.message ?? '');
    const problems = Array.isArray(e.problems) ? `\n  - ${e.problems.join('\n  - ')}` : '';
    return `${e.code ? `${String(e.code)}: ` : ''}${msg}${problems}`;
  }
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return (text ?? '').slice(0, 500);
}
