/**
 * The generators' send schedule: every call sends one packet per 20 ms, and the N calls are spread evenly
 * over the 20 ms (as independent phones would be), so packet j of the whole run (call j mod N, frame
 * j div N) is due at start + j * 20 ms / N. A 1 ms timer sends everything that is due.
 */
import { FRAME_MS, monoUs } from './audio-marks';

export interface PumpPlan {
  /** Monotonic µs of the first packet. */
  startAtUs: number;
  /** Packets per call. */
  packets: number;
  /** Latency samples count only for packets sent inside [fromUs, toUs]. */
  windowFromUs: number;
  windowToUs: number;
}

/** Runs `send(call, frame, nowUs)` on schedule for `calls` calls; resolves when every packet went out. */
export function runSchedule(calls: number, plan: PumpPlan, send: (call: number, frame: number, nowUs: number) => void): Promise<{ lateMaxMs: number }> {
  const total = calls * plan.packets;
  const stepUs = (FRAME_MS * 1000) / calls;
  let j = 0;
  let lateMaxUs = 0;
  return new Promise((resolve) => {
    const run = (): void => {
      const now = monoUs();
      while (j < total) {
        const due = plan.startAtUs + j * stepUs;
        if (due > now) break;
        lateMaxUs = Math.max(lateMaxUs, now - due);
        send(j % calls, Math.floor(j / calls), now);
        j++;
      }
      if (j >= total) resolve({ lateMaxMs: lateMaxUs / 1000 });
      else setTimeout(run, 1);
    };
    setTimeout(run, Math.max(0, (plan.startAtUs - monoUs()) / 1000 - 1));
  });
}
