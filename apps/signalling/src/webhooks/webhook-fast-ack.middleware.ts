import type { NextFunction, Request, Response } from 'express';
import { ACK_BODY, ACK_HEADERS, signedJsonBody } from './webhook-fast-path';

export interface WebhookFastAckOptions {
  /** Read per request, as the signature guard reads it. */
  appSecret: () => string;
  ingest: { enqueue(body: unknown): void };
}

/**
 * Signed webhooks the HTTP server's fast path (webhook-fast-path.ts) leaves to Express, those with a chunked
 * or encoded body, answered before Nest (mounted on the webhook path after its raw-body parser): a POST whose X-Hub-Signature-256 verifies over the raw bytes and whose body is JSON is handed to
 * the ingest service and acknowledged here with the controller's own answer (200 `{"received":true}`),
 * skipping Nest's routing, guard and response pipeline (ETag hashing included), about a tenth of the CPU
 * of a webhook. Anything else (another method, a bad or missing signature, a body that is not JSON) goes
 * on to WebhookSignatureGuard and WebhookController, which answer and log it as before.
 */
export function webhookFastAck(options: WebhookFastAckOptions): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    if (req.method !== 'POST' || !Buffer.isBuffer(req.body)) return next();
    const body = signedJsonBody(req.body, req.headers['x-hub-signature-256'], options.appSecret());
    if (body === undefined) return next(); // the guard answers 401, the controller 400, each with the reason
    // the ack goes out first: parsing the events (which starts inside enqueue) is not on its path
    res.writeHead(200, ACK_HEADERS);
    res.end(ACK_BODY);
    options.ingest.enqueue(body);
  };
}
