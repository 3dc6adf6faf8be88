/**
 * The playout clock: calls its listeners once per 20 ms frame. One clock can (and in the media app should)
 * drive every bridge of the process, so 100 calls cost one timer, not 100.
 *
 * Node timers fire late and drift, so the clock counts frames from its start time: each timer run plays all
 * frames that are due, at most `maxCatchUpFrames` (a longer stall of the event loop skips frames rather than
 * bursting them out). The timer runs at half the frame interval to keep the output cadence regular.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '@wagw/logging';

export interface FrameTickListener {
  /** Called once per frame; `nowMs` is the frame's due time on the clock's monotonic scale. */
  onFrameTick(nowMs: number): void;
}

/** What a bridge needs from a clock (tests drive a manual one). */
export interface FrameTicker {
  add(listener: FrameTickListener): void;
  remove(listener: FrameTickListener): void;
}

export interface FrameClockOptions {
  logger: Logger;
  frameMs?: number;
  maxCatchUpFrames?: number;
  now?: () => number;
}

export class FrameClock implements FrameTicker {
  readonly frameMs: number;
  readonly #logger: Logger;
  readonly #maxCatchUp: number;
  readonly #now: () => number;
  #listeners: ReadonlyArray<FrameTickListener> = [];
  #timer: NodeJS.Timeout | undefined;
  #startedAt = 0;
  #framesDone = 0;
  #framesSkipped = 0;

  constructor(options: FrameClockOptions) {
    this.#logger = options.logger;
    this.frameMs = options.frameMs ?? 20;
    this.#maxCatchUp = options.maxCatchUpFrames ?? 3;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Frames skipped because the event loop stalled for longer than the catch-up allows. */
  get framesSkipped(): number {
    return this.#framesSkipped;
  }

  get listenerCount(): number {
    return this.#listeners.length;
  }

  add(listener: FrameTickListener): void {
    if (this.#listeners.includes(listener)) return;
    this.#listeners = [...this.#listeners, listener];
    if (!this.#timer) this.#start();
  }

  remove(listener: FrameTickListener): void {
    this.#listeners = this.#listeners.filter((l) => l !== listener);
    if (this.#listeners.length === 0) this.stop();
  }

  /** Stops the timer (listeners stay registered; `add` restarts it). */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #start(): void {
    this.#startedAt = this.#now();
    this.#framesDone = 0;
    this.#timer = setInterval(this.#run, Math.max(1, this.frameMs / 2));
    this.#timer.unref();
  }

  #run = (): void => {
    const due = Math.floor((this.#now() - this.#startedAt) / this.frameMs);
    if (due - this.#framesDone > this.#maxCatchUp) {
      this.#framesSkipped += due - this.#framesDone - this.#maxCatchUp;
      this.#framesDone = due - this.#maxCatchUp;
    }
    while (this.#framesDone < due) {
      this.#framesDone++;
      const at = this.#startedAt + this.#framesDone * this.frameMs;
      const listeners = this.#listeners;
      for (let i = 0; i < listeners.length; i++) {
        try {
          (listeners[i] as FrameTickListener).onFrameTick(at);
        } catch (err) {
          this.#logger.error({ err }, 'frame tick listener threw');
        }
      }
    }
  };
}
