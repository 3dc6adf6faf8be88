import type { Redis } from 'ioredis';
import { CallRepository, type ApplyResult, type CallEvent, type CallRecord, type CallRepositoryOptions, type NewCallRecord, type PatchInput } from '@wagw/call-state';

/** What the repository reports; SignallingMetrics implements it. */
export interface CallLifecycleObserver {
  callCreated(direction: CallRecord['direction'], entryPoint?: CallRecord['entryPoint']): void;
  callAnswered(record: CallRecord): void;
  callEnded(record: CallRecord): void;
}

/**
 * The call repository with metrics: every creation and every applied transition of every use case passes
 * here, and the compare-and-set makes each transition apply exactly once (even across instances), so
 * setups, answers and ends are counted once without a line in the use cases. Observer errors are bugs in
 * metrics code and must not fail a call: they are swallowed after the write succeeded.
 */
export class MeteredCallRepository extends CallRepository {
  readonly #observer: CallLifecycleObserver;

  constructor(redis: Redis, options: CallRepositoryOptions, observer: CallLifecycleObserver) {
    super(redis, options);
    this.#observer = observer;
  }

  override async create(input: NewCallRecord): Promise<CallRecord> {
    const record = await super.create(input);
    this.#observe(() => this.#observer.callCreated(record.direction, record.entryPoint));
    return record;
  }

  override async apply(callId: string, event: CallEvent, patch?: PatchInput): Promise<ApplyResult> {
    const res = await super.apply(callId, event, patch);
    if (res.outcome === 'applied' && res.to === 'active') this.#observe(() => this.#observer.callAnswered(res.record));
    if (res.outcome === 'applied' && res.to === 'ended') this.#observe(() => this.#observer.callEnded(res.record));
    return res;
  }

  #observe(report: () => void): void {
    try {
      report();
    } catch {
      // metrics must never fail a call that was stored; prom-client only throws on label misuse (a bug)
    }
  }
}
