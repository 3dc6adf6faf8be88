/**
 * The emulator's notion of "now" (epoch ms). Real time plus an adjustable offset, so tests can cross the
 * 24 h / 7 day windows of Meta's limits without waiting. Timers (ring, accept window, media watchdog) run on
 * real time; only the rules that Meta states in days (quotas, expiry, daily cap) read this clock.
 */
export class Clock {
  #offsetMs = 0;

  constructor(private readonly realNow: () => number = Date.now) {}

  now(): number {
    return this.realNow() + this.#offsetMs;
  }

  /** Moves the clock forward (or back, with a negative value) and returns the new now(). */
  advance(ms: number): number {
    if (!Number.isFinite(ms)) throw new TypeError(`advance(${ms}): a finite number of ms is required`);
    this.#offsetMs += ms;
    return this.now();
  }

  get offsetMs(): number {
    return this.#offsetMs;
  }

  set offsetMs(ms: number) {
    if (!Number.isFinite(ms)) throw new TypeError(`offsetMs = ${ms}: a finite number is required`);
    this.#offsetMs = ms;
  }
}

/** Unix seconds as Meta writes them in webhooks: a string. */
export function unixSeconds(ms: number): string {
  return String(Math.floor(ms / 1000));
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
