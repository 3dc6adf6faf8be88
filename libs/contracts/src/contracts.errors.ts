import type { z } from 'zod';

/** A bus message that does not match its contract (wrong version, missing field). */
export class ContractViolationError extends Error {
  readonly code = 'CONTRACT_VIOLATION' as const;
  constructor(
    readonly pattern: string,
    readonly issues: string,
  ) {
    super(`message on ${pattern} violates its contract: ${issues}`);
    this.name = 'ContractViolationError';
  }
}

/** A request whose deadline passed before it could be served or answered. */
export class DeadlineExceededError extends Error {
  readonly code = 'DEADLINE_EXCEEDED' as const;
  constructor(
    readonly pattern: string,
    readonly deadline: number,
  ) {
    super(`request on ${pattern} passed its deadline (${new Date(deadline).toISOString()})`);
    this.name = 'DeadlineExceededError';
  }
}

/** Validates a message against its schema, naming the pattern in the error. */
export function parseMessage<S extends z.ZodType>(pattern: string, schema: S, data: unknown): z.infer<S> {
  const res = schema.safeParse(data);
  if (!res.success) throw new ContractViolationError(pattern, res.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return res.data;
}

/** Throws DeadlineExceededError when a request arrives after its deadline. */
export function assertBeforeDeadline(pattern: string, deadline: number, now = Date.now()): void {
  if (now > deadline) throw new DeadlineExceededError(pattern, deadline);
}
