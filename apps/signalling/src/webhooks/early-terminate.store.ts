import type Redis from 'ioredis';
import { redisKeys } from '@wagw/call-state';

/**
 * Meta may deliver `terminate` before `connect` (reference §2.1: the user hangs up at once, or a timed-out
 * connect is retried after its terminate). A terminate for a call we do not know leaves this marker, a
 * webhook de-dup key with the de-dup TTL, and a connect that finds it is not acted on.
 */
export class EarlyTerminateStore {
  readonly #keys: ReturnType<typeof redisKeys>;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly ttlS: number,
  ) {
    this.#keys = redisKeys(keyPrefix);
  }

  async mark(waCallId: string, cause: string): Promise<void> {
    await this.redis.set(this.#keys.webhookSeen(`terminated-early:${waCallId}`), cause, 'EX', this.ttlS);
  }

  async wasTerminated(waCallId: string): Promise<boolean> {
    return (await this.redis.exists(this.#keys.webhookSeen(`terminated-early:${waCallId}`))) === 1;
  }
}
