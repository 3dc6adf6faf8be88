/**
 * A first-delivery claim: `claim(key, ttlS)` resolves true exactly once per key within `ttlS` seconds,
 * however many callers race for it (and, for a shared store, across gateway instances).
 */
export interface DedupStore {
  claim(key: string, ttlS: number): Promise<boolean>;
}

/** The part of an ioredis client RedisDedupStore needs: `SET key value EX seconds NX`. */
export interface RedisSetNxPort {
  set(key: string, value: string, secondsToken: 'EX', seconds: number, nx: 'NX'): Promise<'OK' | null>;
}

function assertTtl(ttlS: number): void {
  if (!Number.isInteger(ttlS) || ttlS <= 0) throw new RangeError(`dedup ttlS must be a positive integer, got ${ttlS}`);
}

/**
 * Redis-backed store: one `SET <keyPrefix>:webhooks:seen:<key> 1 EX <ttl> NX`, atomic on the server, so
 * concurrent deliveries to several instances claim a key once. `keyPrefix` is the gateway's Redis prefix
 * (`redis.keyPrefix`, e.g. `wagw`); the key layout is the one in docs/ARCHITECTURE.md.
 */
export class RedisDedupStore implements DedupStore {
  readonly #redis: RedisSetNxPort;
  readonly #keyPrefix: string;

  constructor(redis: RedisSetNxPort, keyPrefix: string) {
    this.#redis = redis;
    this.#keyPrefix = `${keyPrefix}:webhooks:seen:`;
  }

  async claim(key: string, ttlS: number): Promise<boolean> {
    assertTtl(ttlS);
    const reply = await this.#redis.set(this.#keyPrefix + key, '1', 'EX', ttlS, 'NX');
    return reply === 'OK';
  }
}

/** Process-local store for unit tests and single-process tools. The check-and-set is synchronous, so atomic here. */
export class InMemoryDedupStore implements DedupStore {
  readonly #expiresAtMs = new Map<string, number>();
  readonly #now: () => number;

  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  async claim(key: string, ttlS: number): Promise<boolean> {
    assertTtl(ttlS);
    const now = this.#now();
    const expiresAt = this.#expiresAtMs.get(key);
    if (expiresAt !== undefined && expiresAt > now) return false;
    this.#expiresAtMs.set(key, now + ttlS * 1000);
    this.#sweep(now);
    return true;
  }

  /** Keys currently held (expired ones excluded). */
  get size(): number {
    const now = this.#now();
    let n = 0;
    for (const t of this.#expiresAtMs.values()) if (t > now) n++;
    return n;
  }

  #sweep(now: number): void {
    if (this.#expiresAtMs.size < 1024) return;
    for (const [k, t] of this.#expiresAtMs) if (t <= now) this.#expiresAtMs.delete(k);
  }
}
