export interface TimerHandle {
  cancel(): void;
}

/**
 * Owns every timer the emulator starts, so close() can clear all of them (nothing leaks after a test).
 * Uses the global setTimeout, so Jest fake timers drive it in unit tests.
 */
export class TimerRegistry {
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #sleepers = new Set<() => void>();
  #closed = false;

  get closed(): boolean {
    return this.#closed;
  }

  set(ms: number, fn: () => void): TimerHandle {
    if (this.#closed) return { cancel: () => undefined };
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.#timers.add(t);
    return {
      cancel: () => {
        clearTimeout(t);
        this.#timers.delete(t);
      },
    };
  }

  /** Resolves after ms, or at once when the registry closes (callers check `closed`). */
  sleep(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#sleepers.delete(wake);
        handle.cancel();
        resolve();
      };
      this.#sleepers.add(wake);
      const handle = this.set(ms, wake);
    });
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Cancels every pending timer and wakes every sleeper, but stays usable (the emulator's reset). */
  cancelAll(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const wake of [...this.#sleepers]) wake();
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    for (const wake of [...this.#sleepers]) wake();
  }
}
