import type Redis from 'ioredis';

export interface Contact {
  waId: string;
  name?: string;
  lastSeenAt: number;
}

/**
 * WhatsApp users the gateway has dealt with (callers, people the agents called, permission replies), for
 * the agent console's conversation list: a zset by last contact and a hash of profile names, capped.
 */
export class ContactsRepository {
  readonly #seen: string;
  readonly #names: string;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly max = 5000,
  ) {
    this.#seen = `${keyPrefix}:contacts`;
    this.#names = `${keyPrefix}:contacts:names`;
  }

  async touch(waId: string, name?: string, at = Date.now()): Promise<void> {
    const m = this.redis.multi().zadd(this.#seen, at, waId).zremrangebyrank(this.#seen, 0, -this.max - 1);
    if (name) m.hset(this.#names, waId, name);
    await m.exec();
  }

  async list(limit = 200): Promise<Contact[]> {
    const rows = await this.redis.zrevrange(this.#seen, 0, limit - 1, 'WITHSCORES');
    const ids: string[] = [];
    const at: number[] = [];
    for (let i = 0; i < rows.length; i += 2) {
      ids.push(rows[i] as string);
      at.push(Number(rows[i + 1]));
    }
    const names = ids.length ? await this.redis.hmget(this.#names, ...ids) : [];
    return ids.map((waId, i) => ({ waId, lastSeenAt: at[i] as number, ...(names[i] ? { name: names[i] as string } : {}) }));
  }
}
