import { RpcException } from '@nestjs/microservices';
import type { Logger } from '@wagw/logging';

/** What a refused request's reply carries: a literal code the caller can branch on, and a message. */
export interface BusErrorBody {
  code: string;
  message: string;
}

/**
 * Maps an error to the bus reply. Typed errors (with a string `code`: contract violations, deadlines,
 * unknown legs, leg state/SDP errors) keep their code and message; anything else is a bug, logged here
 * and answered as INTERNAL without internals.
 */
export function toRpcException(err: unknown, logger: Logger, pattern: string): RpcException {
  if (err instanceof RpcException) return err;
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string') {
    logger.warn({ pattern, code, err: err.message }, 'bus request refused');
    return new RpcException({ code, message: err.message } satisfies BusErrorBody);
  }
  logger.error({ pattern, err }, 'bus request failed');
  return new RpcException({ code: 'INTERNAL', message: 'internal error in the media app' } satisfies BusErrorBody);
}
