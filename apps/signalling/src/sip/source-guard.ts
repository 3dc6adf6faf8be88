import type { Logger } from '@wagw/logging';

export interface SourceGuardOptions {
  /** Failures within the window that block a source (0: never block). */
  maxFailures: number;
  windowMs: number;
  blockMs: number;
  logger: Logger;
  /** Epoch ms. */
  now?: () => number;
  /** Sources tracked at most (the oldest is forgotten first): a bound on memory under a scan. */
  maxSources?: number;
}

/**
 * Blocks a source address that keeps failing digest authentication (a PBX with the wrong password, or a
 * scanner guessing): after `maxFailures` failures within `windowMs`, its INVITEs and REGISTERs are refused
 * (403) for `blockMs`, without a challenge. Memory stays bounded (`maxSources`, failures per source).
 */
export class SourceGuard {
  readonly #o: Required<Omit<SourceGuardOptions, 'logger'>> & { logger: Logger };
  readonly #failures = new Map<string, number[]>();
  readonly #blockedUntil = new Map<string, number>();

  constructor(options: SourceGuardOptions) {
    this.#o = { now: Date.now, maxSources: 10_000, ...options };
  }

  /** Records one failed authentication from `address`; blocks it when it reaches the limit. */
  failed(address: string): void {
    const { maxFailures, windowMs, blockMs, now, maxSources, logger } = this.#o;
    if (maxFailures === 0) return;
    const t = now();
    const recent = (this.#failures.get(address) ?? []).filter((at) => t - at < windowMs);
    recent.push(t);
    this.#failures.delete(address); // re-inserted last: the map's order is the eviction order
    if (recent.length >= maxFailures) {
      this.#blockedUntil.set(address, t + blockMs);
      logger.warn({ source: address, failures: recent.length, windowS: windowMs / 1000, blockS: blockMs / 1000 }, 'SIP source blocked after repeated failed authentications');
      return;
    }
    this.#failures.set(address, recent);
    if (this.#failures.size > maxSources) this.#failures.delete(this.#failures.keys().next().value as string);
    if (this.#blockedUntil.size > maxSources) this.#blockedUntil.delete(this.#blockedUntil.keys().next().value as string);
  }

  /** Whether `address` is refused now. */
  blocked(address: string): boolean {
    const until = this.#blockedUntil.get(address);
    if (until === undefined) return false;
    if (this.#o.now() < until) return true;
    this.#blockedUntil.delete(address);
    this.#o.logger.info({ source: address }, 'SIP source no longer blocked');
    return false;
  }

  /** Addresses blocked now (metrics). */
  get blockedCount(): number {
    const t = this.#o.now();
    let n = 0;
    for (const until of this.#blockedUntil.values()) if (t < until) n++;
    return n;
  }
}
