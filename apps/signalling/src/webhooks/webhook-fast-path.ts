import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { verifyWebhookSignature } from '@wagw/whatsapp';

/** The controller's answer to an accepted webhook, byte for byte. */
export const ACK_BODY = '{"received":true}';
export const ACK_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(ACK_BODY)) };

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface WebhookFastPathOptions {
  /** The webhook's path, without its leading slash (WEBHOOK_PATH). */
  path: string;
  /** Largest body taken here; a longer one (or one of unknown length) goes to the app's own parser. */
  limitBytes: number;
  /** Read per request, as the signature guard reads it. */
  appSecret: () => string;
  ingest: { enqueue(body: unknown): void };
  /** Called once per acked webhook with the seconds from the request's arrival to the end of the ack. */
  acked?: (seconds: number) => void;
}

/**
 * Meta's common case answered at the HTTP server, before Express and Nest: a POST to the webhook path with a
 * Content-Length (within the limit) and no Content-Encoding is read here; if its X-Hub-Signature-256 verifies
 * over the raw bytes and it is JSON, it is acked (200, the controller's own answer) and handed to the ingest.
 * Walking Express's middleware stack, the raw-body parser and the response helpers cost several times what
 * the ack itself does (the webhook-ingest bench measures both against bare node:http).
 *
 * Everything else goes to the app's own listener unchanged: another path or method, a chunked or encoded
 * body, one over the limit. A body read here that is not acked (bad or missing signature, not JSON) goes on
 * with its bytes as `req.body` and marked as parsed (`req._body`, which Express's body parsers honour), so
 * the signature guard and the controller answer and log it exactly as before.
 *
 * Installed on the server that carries the app (`app.getHttpServer()`), it replaces the server's request
 * listeners with one that calls them for whatever it does not take.
 */
export function installWebhookFastPath(server: Server, options: WebhookFastPathOptions): void {
  const appListeners = server.listeners('request') as RequestListener[];
  if (appListeners.length === 0) throw new Error('installWebhookFastPath: the server has no request listener (install it after the app is created)');
  const exact = `/${options.path}`;
  const passOn = (req: IncomingMessage, res: ServerResponse): void => {
    for (const l of appListeners) l.call(server, req, res);
  };
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = process.hrtime.bigint();
    if (req.method !== 'POST' || !pathIs(req.url, exact)) return passOn(req, res);
    const lengthHeader = req.headers['content-length'];
    const length = lengthHeader === undefined ? NaN : Number(lengthHeader);
    const encoding = req.headers['content-encoding'];
    if (!Number.isInteger(length) || length < 0 || length > options.limitBytes || (encoding !== undefined && encoding.toLowerCase() !== 'identity')) {
      return passOn(req, res);
    }
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      chunks.push(chunk);
    });
    req.once('end', () => {
      const raw = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, received);
      const body = signedJsonBody(raw, req.headers['x-hub-signature-256'], options.appSecret());
      if (body === undefined) {
        // the guard and the controller answer it (401, 400) and log why, from these bytes
        Object.assign(req, { body: raw, _body: true });
        return passOn(req, res);
      }
      res.writeHead(200, ACK_HEADERS);
      res.end(ACK_BODY);
      options.acked?.(Number(process.hrtime.bigint() - started) / 1e9);
      options.ingest.enqueue(body);
    });
    // a client that goes away mid-body: nothing was acked and nothing is applied
    req.once('error', () => res.destroy());
  });
}

function pathIs(url: string | undefined, exact: string): boolean {
  if (url === undefined || !url.startsWith(exact)) return false;
  const next = url.charCodeAt(exact.length);
  return Number.isNaN(next) || next === 0x3f; // end, or '?'
}

/**
 * The parsed body of a webhook whose signature verifies over `raw` and which is JSON: one to ack at once. Undefined
 * when the app's own guard and controller must answer it (they say why and log it).
 */
export function signedJsonBody(raw: Buffer, signature: string | string[] | undefined, secret: string): unknown {
  if (typeof signature !== 'string' || !verifyWebhookSignature(raw, signature, secret).ok) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
