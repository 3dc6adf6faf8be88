import { MediaAtCapacityError } from './media.errors';

/**
 * How many calls this media app carries at once (`media.maxCalls`, 0: no limit). A call is admitted with its
 * first leg (WhatsApp or PBX side) and counted until its last leg closes; more legs of an admitted call (the
 * other side, a transfer's new PBX leg) are always taken. A new call over the limit is refused with
 * MediaAtCapacityError before anything is allocated, so the calls already carried keep their quality instead
 * of all degrading together (README "Performance" says how many one process carries).
 */
export class CallAdmission {
  readonly #max: number;
  /** Legs per admitted call. */
  readonly #legs = new Map<string, number>();
  #refused = 0;

  constructor(maxCalls: number) {
    if (!Number.isInteger(maxCalls) || maxCalls < 0) throw new RangeError(`maxCalls must be an integer >= 0, got ${maxCalls}`);
    this.#max = maxCalls;
  }

  /** Calls carried now. */
  get calls(): number {
    return this.#legs.size;
  }

  get maxCalls(): number {
    return this.#max;
  }

  /** New calls refused since start. */
  get refused(): number {
    return this.#refused;
  }

  /** Counts one more leg of the call; throws MediaAtCapacityError for a new call over the limit. */
  admitLeg(callId: string): void {
    const legs = this.#legs.get(callId);
    if (legs === undefined && this.#max > 0 && this.#legs.size >= this.#max) {
      this.#refused++;
      throw new MediaAtCapacityError(this.#max);
    }
    this.#legs.set(callId, (legs ?? 0) + 1);
  }

  /** One leg of the call is gone (closed, or its creation failed); the call leaves with its last leg. */
  releaseLeg(callId: string): void {
    const legs = this.#legs.get(callId);
    if (legs === undefined) return;
    if (legs <= 1) this.#legs.delete(callId);
    else this.#legs.set(callId, legs - 1);
  }
}
