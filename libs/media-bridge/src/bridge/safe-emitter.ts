/**
 * A small typed event emitter whose `emit` catches and logs listener errors (STYLE §3, as mediasoup's
 * `safeEmit`): a listener bug must never kill a socket handler or the media loop. Listener lists are
 * copy-on-write, so `emit` allocates nothing and a listener may unsubscribe while being called.
 */
import type { Logger } from '@wagw/logging';

export class SafeEmitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, ReadonlyArray<(arg: never) => void>>();

  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Subscribes; returns the unsubscribe function. */
  on<K extends keyof Events>(name: K, listener: (arg: Events[K]) => void): () => void {
    const current = this.#listeners.get(name) ?? [];
    this.#listeners.set(name, [...current, listener as (arg: never) => void]);
    return () => this.off(name, listener);
  }

  /** Resolves with the next emission of `name` (for tests and one-shot waits). */
  once<K extends keyof Events>(name: K): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(name, (arg) => {
        off();
        resolve(arg);
      });
    });
  }

  off<K extends keyof Events>(name: K, listener: (arg: Events[K]) => void): void {
    const current = this.#listeners.get(name);
    if (!current) return;
    const next = current.filter((l) => l !== (listener as unknown));
    if (next.length) this.#listeners.set(name, next);
    else this.#listeners.delete(name);
  }

  emit<K extends keyof Events>(name: K, arg: Events[K]): void {
    const listeners = this.#listeners.get(name);
    if (!listeners) return;
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as (arg: Events[K]) => void)(arg);
      } catch (err) {
        this.#logger.error({ err, event: String(name) }, 'event listener threw');
      }
    }
  }

  removeAll(): void {
    this.#listeners.clear();
  }
}
