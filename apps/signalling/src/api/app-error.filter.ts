import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';

interface CodedError {
  code: string;
  message: string;
  httpStatus?: number;
  details?: Record<string, unknown>;
  /** Refusals say when trying again may work (epoch ms). */
  retryAt?: number;
}

/** Error codes of our own conditions and the HTTP status the CRM API answers them with. */
const STATUS_BY_CODE: Record<string, number> = {
  CALL_NOT_FOUND: 404,
  PERMISSION_DECLINED: 403,
  PERMISSION_QUOTA: 429,
  DAILY_CALL_CAP: 429,
  CALL_NOT_CANCELLABLE: 409,
  INVALID_REQUEST: 400,
  WA_GRAPH_API_ERROR: 502,
  WA_GRAPH_UNREACHABLE: 502,
  WA_GRAPH_OUTCOME_UNKNOWN: 502,
  WA_GRAPH_BAD_RESPONSE: 502,
  DEADLINE_EXCEEDED: 504,
  MEDIA_AT_CAPACITY: 503,
  GATEWAY_DRAINING: 503,
  MEDIA_SHUTTING_DOWN: 503,
};

function isCoded(err: unknown): err is CodedError {
  return typeof err === 'object' && err !== null && typeof (err as CodedError).code === 'string' && typeof (err as CodedError).message === 'string';
}

/**
 * The one place errors become HTTP answers (STYLE §5): HttpExceptions keep their status; our coded errors
 * map through STATUS_BY_CODE with `{ error: { code, message, ...details } }`; anything else is a 500 and
 * is logged with its stack.
 */
@Catch()
export class AppErrorFilter implements ExceptionFilter {
  constructor(@Inject(SIGNALLING_LOGGER) private readonly logger: Logger) {}

  catch(err: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (err instanceof HttpException) {
      const body = err.getResponse();
      const message = typeof body === 'string' ? body : ((body as { message?: unknown }).message ?? err.message);
      res.status(err.getStatus()).json({ error: { code: `HTTP_${err.getStatus()}`, message } });
      return;
    }
    if (isCoded(err)) {
      const status = err.httpStatus ?? STATUS_BY_CODE[err.code] ?? 500;
      if (status >= 500) this.logger.warn({ code: err.code, err }, 'API request failed');
      if (err.retryAt !== undefined) res.setHeader('Retry-After', String(Math.max(0, Math.ceil((err.retryAt - Date.now()) / 1000))));
      res.status(status).json({ error: { code: err.code, message: err.message, ...(err.retryAt !== undefined ? { retryAt: err.retryAt } : {}), ...(err.details ?? {}) } });
      return;
    }
    const http = err as { status?: unknown; expose?: unknown; message?: unknown; type?: unknown };
    if (typeof http.status === 'number' && http.status >= 400 && http.status < 500 && http.expose === true) {
      // body-parser refusals (413 too large, 400 bad encoding): the client's fault, said plainly
      this.logger.warn({ status: http.status, type: http.type }, 'request body refused');
      res.status(http.status).json({ error: { code: `HTTP_${http.status}`, message: String(http.message) } });
      return;
    }
    this.logger.error({ err }, 'unexpected error in an API request');
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error (see the gateway log)' } });
  }
}
