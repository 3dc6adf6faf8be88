import type { z } from 'zod';
import { assertBeforeDeadline, parseMessage } from '@wagw/contracts';
import type { Logger } from '@wagw/logging';
import { toRpcException } from './rpc-error';

/**
 * Runs one bus request: validates it against its contract, refuses it once past its deadline, validates the
 * reply too, and maps any error to the bus reply (rpc-error.ts).
 */
export async function serveRequest<Req extends z.ZodType<{ deadline: number }>, Rep extends z.ZodType>(
  logger: Logger,
  pattern: string,
  request: Req,
  reply: Rep,
  data: unknown,
  handle: (req: z.infer<Req>) => Promise<z.infer<Rep>>,
): Promise<z.infer<Rep>> {
  try {
    const req = parseMessage(pattern, request, data);
    assertBeforeDeadline(pattern, req.deadline);
    return parseMessage(pattern, reply, await handle(req));
  } catch (err) {
    throw toRpcException(err, logger, pattern);
  }
}
