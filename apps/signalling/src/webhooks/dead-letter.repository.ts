import type Redis from 'ioredis';

export interface DeadLetter {
  /** When the webhook was received (ISO 8601). */
  receivedAt: string;
  /** Where in the body the problem is (JSON path) and why it was not applied. */
  path: string;
  reason: string;
  /** The offending part of the payload, as received. */
  raw: unknown;
}

/**
 * Webhooks of unknown or invalid shape, kept for operators in a capped Redis list (newest first).
 * Meta redelivers on 4xx, so such bodies are acknowledged with 200 and parked here instead.
 */
export class DeadLetterRepository {
  readonly #key: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly max: number,
  ) {
    this.#key = `${keyPrefix}:webhooks:dead-letter`;
  }

  async add(letter: DeadLetter): Promise<void> {
    await this.redis.multi().lpush(this.#key, JSON.stringify(letter)).ltrim(this.#key, 0, this.max - 1).exec();
  }

  async list(limit: number): Promise<DeadLetter[]> {
    const rows = await this.redis.lrange(this.#key, 0, Math.max(0, limit - 1));
    return rows.map((r) => JSON.parse(r) as DeadLetter);
  }

  async count(): Promise<number> {
    return this.redis.llen(this.#key);
  }
}
