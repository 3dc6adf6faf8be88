import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What GraphHttp needs of an HTTP exchange: global `fetch` has this shape, and so does createNodeHttpFetch(). */
export interface GraphFetchInit {
  method: string;
  headers: Record<string, string>;
  /** JSON text, or bytes (a media upload's multipart body). */
  body?: string | Uint8Array<ArrayBuffer>;
  signal?: AbortSignal;
}

export interface GraphFetchResponse {
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
  /** The body as bytes (a media download). */
  arrayBuffer(): Promise<ArrayBuffer>;
}

export type GraphFetch = (url: string, init: GraphFetchInit) => Promise<GraphFetchResponse>;

export interface NodeHttpFetch extends GraphFetch {
  /** Closes the pooled connections (on shutdown). */
  close(): void;
}

/** A body longer than the exchange allows (`maxResponseBytes`): the connection is dropped unread. */
export class ResponseTooLargeError extends Error {
  readonly code = 'ERR_GRAPH_RESPONSE_TOO_LARGE' as const;
  constructor(readonly limitBytes: number) {
    super(`response body over ${limitBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/** Graph JSON answers are small; a media download is at most 16 MB at Meta (audio), 100 MB for documents. */
const DEFAULT_MAX_RESPONSE_BYTES = 100 * 1024 * 1024;

function responseOf(res: IncomingMessage, maxBytes: number): Promise<GraphFetchResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    res.on('data', (c: Buffer) => {
      total += c.length;
      if (total > maxBytes) {
        res.destroy();
        reject(new ResponseTooLargeError(maxBytes));
        return;
      }
      chunks.push(c);
    });
    res.once('error', reject);
    res.once('end', () => {
      const body = Buffer.concat(chunks);
      resolve({
        status: res.statusCode ?? 0,
        headers: {
          get: (name) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
        },
        text: async () => body.toString('utf8'),
        arrayBuffer: async () => body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer,
      });
    });
  });
}

/**
 * A `fetch` for the Graph API on node:http/https with keep-alive connection pools. A body over
 * `maxResponseBytes` (default 100 MB) fails with ResponseTooLargeError instead of filling memory. Global fetch (undici)
 * costs about five times the CPU per request (web streams, a WASM parser, abort plumbing), and the gateway
 * makes two or three Graph requests per call. Supports what GraphHttp uses: method, headers, a string
 * body, an abort signal (the deadline), and the status, headers and text of the answer. Errors are Node's
 * own (`code` ECONNREFUSED, ECONNRESET, ...; AbortError on the deadline), which the retry policy reads.
 */
export function createNodeHttpFetch(options: { maxSockets?: number; maxResponseBytes?: number } = {}): NodeHttpFetch {
  const maxSockets = options.maxSockets ?? 256;
  const maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const http = new HttpAgent({ keepAlive: true, maxSockets });
  const https = new HttpsAgent({ keepAlive: true, maxSockets });
  const fetchFn = (url: string, init: GraphFetchInit): Promise<GraphFetchResponse> =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      const headers: Record<string, string> = { ...init.headers };
      if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
      const req = (secure ? httpsRequest : httpRequest)(
        target,
        { method: init.method, headers, agent: secure ? https : http, ...(init.signal ? { signal: init.signal } : {}) },
        (res) => responseOf(res, maxResponseBytes).then(resolve, reject),
      );
      req.once('error', reject);
      req.end(init.body);
    });
  return Object.assign(fetchFn, {
    close: () => {
      http.destroy();
      https.destroy();
    },
  });
}
