/**
 * Exact loss counts for transcoded calls, whose payloads carry no packet index (see pump-schedule.ts for
 * passthrough). Each sender notes when it sent the frames around the start of the counted part; per call
 * the count starts at the first frame there that followed its predecessor by at least 15 ms, and the
 * boundary instant is half-way between the two. The receiver notes when its first packets arrived; the
 * driver counts, per call, the arrivals after that instant. Both ends then count the same packets as long
 * as no packet took longer than half that gap (>= 7.5 ms), which the latency target (p99 <= 10 ms) makes
 * the normal case; a late generator (packets bunched) no longer matters.
 */

/** Send times of frames [from - 1, from - 1 + length) of one call. */
export class SendMarks {
  readonly #times: Float64Array;
  constructor(readonly from: number, length = 50) {
    this.#times = new Float64Array(length).fill(Number.NaN);
  }

  note(frame: number, sentUs: number): void {
    const i = frame - (this.from - 1);
    if (i >= 0 && i < this.#times.length) this.#times[i] = sentUs;
  }

  /** The first counted frame and the boundary instant (µs). */
  boundary(): { frame: number; atUs: number } {
    const t = this.#times;
    for (let i = 1; i < t.length; i++) {
      const gap = (t[i] as number) - (t[i - 1] as number);
      if (gap >= 15_000) return { frame: this.from - 1 + i, atUs: ((t[i] as number) + (t[i - 1] as number)) / 2 };
    }
    const a = t[0] as number;
    const b = t[1] as number;
    return { frame: this.from, atUs: Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : (a + b) / 2 };
  }
}

/** Arrival times of the first packets of one call (enough to cover the boundary). */
export class ArrivalMarks {
  readonly #times: Float64Array;
  #n = 0;
  constructor(length = 200) {
    this.#times = new Float64Array(length);
  }

  note(atUs: number): void {
    if (this.#n < this.#times.length) this.#times[this.#n++] = atUs;
  }

  list(): number[] {
    return Array.from(this.#times.subarray(0, this.#n));
  }
}

/** Packets of one call counted at the receiver: all of them minus those that arrived before the boundary. */
export function receivedAfter(total: number, arrivals: number[], boundaryUs: number): number {
  if (Number.isNaN(boundaryUs)) return total;
  let before = 0;
  for (const a of arrivals) if (a < boundaryUs) before++;
  return total - before;
}
