import type { INestApplication } from '@nestjs/common';
import { type NextFunction, type Request, type Response, json, raw } from 'express';
import { newTraceId } from '../domain/ids';
import { MEDIA_UPLOAD_MAX_BODY_BYTES } from '../domain/media-upload.flow';

/** POST /<version>/<PHONE_NUMBER_ID>/media, the Cloud API media upload: the one route with a multipart body. */
const MEDIA_UPLOAD_PATH = /^\/v\d+\.\d+\/[^/]+\/media\/?$/;

/**
 * JSON bodies for every route; the media upload's `multipart/form-data` body kept as raw bytes (at most 20 MB)
 * for the core's own multipart reader. Body errors (malformed JSON, too large) are answered in the route
 * family's error shape: Meta's `{ error: { message, type, code: 100, fbtrace_id } }` on Graph routes, the
 * control API's `{ error: { kind, message } }` under /emulator.
 */
export function useRequestBodies(app: INestApplication): void {
  const multipart = raw({ type: 'multipart/form-data', limit: MEDIA_UPLOAD_MAX_BODY_BYTES });
  app.use(json({ limit: '1mb' }));
  app.use((req: Request, res: Response, next: NextFunction) => (req.method === 'POST' && MEDIA_UPLOAD_PATH.test(req.path) ? multipart(req, res, next) : next()));
  app.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(err);
    const status = typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 400;
    const message = err instanceof Error ? err.message : String(err);
    if (req.path.startsWith('/emulator')) {
      res.status(status).json({ error: { kind: 'invalid', message: `request body: ${message}` } });
      return;
    }
    res.status(status).json({ error: { message: `(#100) Invalid request body: ${message}`, type: 'OAuthException', code: 100, fbtrace_id: newTraceId() } });
  });
}
