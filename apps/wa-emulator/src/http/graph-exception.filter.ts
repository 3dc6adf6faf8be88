import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '@wagw/logging';
import { ControlError, GraphError, MediaLinkError } from '../domain/emulator.errors';
import { TransientGraphError } from '../domain/graph-faults';
import { newTraceId } from '../domain/ids';
import { EMULATOR_LOGGER } from '../emulator.tokens';

/**
 * Graph routes answer errors in Meta's shape (reference §3.5):
 * `{ error: { message, type, code, is_transient?, error_subcode?, error_data?, fbtrace_id } }`; injected transient
 * failures (graphFailures fault) add `is_transient: true` and, when asked, a `Retry-After` header. A refused
 * media download URL (not a Graph route at Meta either) is a 404 with the reason only: `{ error: { message } }`.
 */
@Catch()
export class GraphExceptionFilter implements ExceptionFilter {
  constructor(@Inject(EMULATOR_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const fbtrace_id = newTraceId();
    if (exception instanceof GraphError) {
      const error: Record<string, unknown> = { message: exception.message, type: exception.type, code: exception.metaCode };
      if (exception instanceof TransientGraphError) {
        error['is_transient'] = true;
        if (exception.retryAfterS !== undefined) res.setHeader('Retry-After', String(exception.retryAfterS));
      }
      if (exception.subcode !== undefined) error['error_subcode'] = exception.subcode;
      if (exception.errorData !== undefined) error['error_data'] = exception.errorData;
      error['fbtrace_id'] = fbtrace_id;
      this.logger.info({ code: exception.metaCode, httpStatus: exception.httpStatus, details: exception.errorData?.details }, 'graph request refused');
      res.status(exception.httpStatus).json({ error });
      return;
    }
    if (exception instanceof MediaLinkError) {
      this.logger.info({ httpStatus: exception.httpStatus, reason: exception.message }, 'media download refused');
      res.status(exception.httpStatus).json({ error: { message: exception.message } });
      return;
    }
    if (exception instanceof ControlError) {
      // A domain refusal outside Meta's table (e.g. a malformed user id): Meta answers such input with 100.
      res.status(400).json({ error: { message: '(#100) Invalid parameter', type: 'OAuthException', code: 100, error_data: { details: exception.message }, fbtrace_id } });
      return;
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      res.status(status).json({ error: { message: exception.message, type: 'OAuthException', code: status === 404 ? 803 : 100, fbtrace_id } });
      return;
    }
    this.logger.error({ err: exception }, 'graph request failed');
    res.status(500).json({ error: { message: 'An unknown error has occurred.', type: 'OAuthException', code: 1, fbtrace_id } });
  }
}
