import type { INestApplication } from '@nestjs/common';
import { type NextFunction, type Request, type Response, json } from 'express';
import { newTraceId } from '../domain/ids';

/**
 * JSON bodies for every route, and body errors (malformed JSON, too large) answered in the route family's
 * error shape: Meta's `{ error: { message, type, code: 100, fbtrace_id } }` on Graph routes, the control
 * API's `{ error: { kind, message } }` under /emulator.
 */
export function useJsonBodies(app: INestApplication): void {
  app.use(json({ limit: '1mb' }));
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
