import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { EMULATED_CALL_STATES } from '../domain/call.record';

/** What the emulator metrics read at scrape time (EmulatorCore's views). */
export interface EmulatorMetricsSource {
  listCalls(): Record<string, unknown>[];
  listUsers(): unknown[];
}

export interface EmulatorMetricsOptions {
  /** Process metrics (CPU, memory, event-loop lag, GC) on this registry. Default true. */
  defaultMetrics?: boolean;
}

/** The emulator's Prometheus metrics on a registry of its own: calls it knows by state, simulated users. */
export class EmulatorMetrics {
  readonly registry = new Registry();

  constructor(source: EmulatorMetricsSource, options: EmulatorMetricsOptions = {}) {
    const registers = [this.registry];
    new Gauge({
      name: 'wagw_emulator_calls',
      help: 'Emulated WhatsApp calls by state (ended ones stay listed).',
      labelNames: ['state'],
      registers,
      collect() {
        const counts = new Map<string, number>(EMULATED_CALL_STATES.map((s) => [s, 0]));
        for (const call of source.listCalls()) {
          const state = String(call['state']);
          if (counts.has(state)) counts.set(state, (counts.get(state) ?? 0) + 1);
        }
        for (const [state, n] of counts) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'wagw_emulator_users',
      help: 'Simulated WhatsApp users.',
      registers,
      collect() {
        this.set(source.listUsers().length);
      },
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  async metrics(): Promise<string> {
    return this.registry.metrics();
  }
}
