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
  /** Loss is counted from this frame on (the warm-up's frames, call setup effects included, are not). */
  countFromFrame: number;
}

/**
 * Loss accounting without trusting the target. Passthrough payloads carry their packet index, so both
 * sides count the packets with index >= `countFromFrame`: exact. Transcoded payloads carry nothing, so
 * both sides count, per call, what they send / receive after one instant, half a frame before that frame
 * was due: any packet that takes less than 10 ms lands on the same side of that instant at both ends, so
 * with the latency target met (and the generator on time) the counts are exact, and a packet the target
 * drops, conceals or duplicates shows as a difference.
 */
export function countFromUs(plan: PumpPlan, calls: number, call: number): number {
  const stepUs = (FRAME_MS * 1000) / calls;
  return plan.startAtUs + (plan.countFromFrame * calls + call) * stepUs - (FRAME_MS * 1000) / 2;
}

/**
 * Runs `send(call, frame, nowUs)` on schedule for `calls` calls; resolves when every packet went out, with how
 * late the generator sent its most delayed packet of the measured window (a generator that stalls sends its
 * backlog in a burst, which shows as latency at the target).
 */
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
        if (due >= plan.windowFromUs && due <= plan.windowToUs) lateMaxUs = Math.max(lateMaxUs, now - due);
        send(j % calls, Math.floor(j / calls), now);
        j++;
      }
      if (j >= total) resolve({ lateMaxMs: lateMaxUs / 1000 });
      else setTimeout(run, 1);
    };
    setTimeout(run, Math.max(0, (plan.startAtUs - monoUs()) / 1000 - 1));
  });
}
