import type { Logger } from '@wagw/logging';

type Listener<A extends unknown[]> = (...args: A) => unknown;

/**
 * A small typed event emitter. `safeEmit` calls every listener and catches what it throws (or the promise
 * it rejects), logging it: a listener bug must never break the SIP stack that emits (STYLE §3).
 * `E` maps event names to argument tuples, e.g. `{ answered: [AnsweredEvent]; trying: [] }`.
 */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  readonly #listeners = new Map<keyof E, Set<Listener<never[]>>>();
  readonly #emitterLogger: Logger;

  constructor(logger: Logger) {
    this.#emitterLogger = logger;
  }

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never[]>);
    return this;
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    const wrapper: Listener<E[K]> = (...args) => {
      this.off(event, wrapper);
      return listener(...args);
    };
    return this.on(event, wrapper);
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): this {
    this.#listeners.get(event)?.delete(listener as Listener<never[]>);
    return this;
  }

  listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Removes every listener (used when a leg is disposed). */
  removeAllListeners(): void {
    this.#listeners.clear();
  }

  /** Calls the listeners of `event` in order; returns whether there were any. Never throws. */
  protected safeEmit<K extends keyof E>(event: K, ...args: E[K]): boolean {
    const set = this.#listeners.get(event);
    if (!set || set.size === 0) return false;
    for (const listener of [...set]) {
      try {
        const result = (listener as Listener<E[K]>)(...args);
        if (result instanceof Promise) {
          result.catch((err: unknown) => this.#emitterLogger.error({ err, event: String(event) }, 'event listener rejected'));
        }
      } catch (err) {
        this.#emitterLogger.error({ err, event: String(event) }, 'event listener threw');
      }
    }
    return true;
  }
}
