import { Gauge, register, type Registry } from 'prom-client';
import type { TrunkHealth } from './trunk-health-monitor';

export const TRUNK_HOST_UP = 'wagw_trunk_host_up';

/**
 * `wagw_trunk_host_up{trunk,host}`: 1 while a host answers OPTIONS, 0 while it is marked down; absent while
 * its state is unknown (keep-alives off, or no probe answered yet). One gauge per registry (prom-client's
 * default one by default), shared by every monitor of the process; each publisher removes its own series.
 */
export class TrunkHostMetrics {
  readonly #gauge: Gauge<'trunk' | 'host'>;
  #published = new Map<string, { trunk: string; host: string }>();

  constructor(registry: Registry = register) {
    const existing = registry.getSingleMetric(TRUNK_HOST_UP);
    this.#gauge =
      (existing as Gauge<'trunk' | 'host'> | undefined) ??
      new Gauge({ name: TRUNK_HOST_UP, help: 'Trunk host health from OPTIONS keep-alives: 1 up, 0 down (absent while unknown).', labelNames: ['trunk', 'host'], registers: [registry] });
  }

  /** Writes the state of every host and removes the series of hosts that are gone or unknown. */
  publish(trunks: readonly TrunkHealth[]): void {
    const next = new Map<string, { trunk: string; host: string }>();
    for (const t of trunks) {
      for (const h of t.hosts) {
        if (h.state === 'unknown') continue;
        const labels = { trunk: t.name, host: h.host };
        this.#gauge.set(labels, h.state === 'up' ? 1 : 0);
        next.set(`${t.name}\u0000${h.host}`, labels);
      }
    }
    for (const [key, labels] of this.#published) if (!next.has(key)) this.#gauge.remove(labels);
    this.#published = next;
  }

  /** Removes every series this publisher wrote (shutdown). */
  clear(): void {
    for (const labels of this.#published.values()) this.#gauge.remove(labels);
    this.#published.clear();
  }
}
