/**
 * At most one warning per key (a source address) per window: a flood of bad input must not flood the log.
 * `due` says whether a warning may go now and, when it may, how many were held back since the last one.
 * Bounded: forgets every key when it tracks too many.
 */
export class WarningWindow {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly windowMs = 10_000,
    private readonly maxKeys = 1000,
  ) {}

  /** `{ heldBack }` when a warning for `key` may go now (after `heldBack` held back), undefined when not. */
  due(key: string): { heldBack: number } | undefined {
    const now = Date.now();
    const seen = this.#last.get(key);
    if (seen && now - seen.at < this.windowMs) {
      seen.suppressed++;
      return undefined;
    }
    if (this.#last.size >= this.maxKeys) this.#last.clear();
    this.#last.set(key, { at: now, suppressed: 0 });
    return { heldBack: seen?.suppressed ?? 0 };
  }
}
