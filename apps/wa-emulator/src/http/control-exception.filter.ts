import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Response } from 'express';
import type { Logger } from '@wagw/logging';
import { ControlError, GraphError } from '../domain/emulator.errors';
import { EMULATOR_LOGGER } from '../emulator.tokens';

const STATUS_OF_KIND = { not_found: 404, conflict: 409, invalid: 400 } as const;

/** Control API errors: `{ error: { kind, message } }` with 404 / 409 / 400; DTO validation keeps Nest's 400 body. */
@Catch()
export class ControlExceptionFilter implements ExceptionFilter {
  constructor(@Inject(EMULATOR_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (exception instanceof ControlError) {
      res.status(STATUS_OF_KIND[exception.kind]).json({ error: { kind: exception.kind, message: exception.message } });
      return;
    }
    if (exception instanceof GraphError) {
      res.status(exception.httpStatus).json({ error: { kind: 'graph', code: exception.metaCode, message: exception.message, error_data: exception.errorData } });
      return;
    }
    if (exception instanceof HttpException) {
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    }
    this.logger.error({ err: exception }, 'control request failed');
    res.status(500).json({ error: { kind: 'internal', message: exception instanceof Error ? exception.message : String(exception) } });
  }
}
