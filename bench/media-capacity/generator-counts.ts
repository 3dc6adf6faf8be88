/**
 * What both generators (WhatsApp side, PBX side) count per call and report to the driver: packets sent and
 * received, the counted part for loss, the transcode marks, tone onsets for latency. One shape for both, so
 * the driver compares the two directions alike.
 */
import type { LatencyHistogram } from './audio-marks';
import { ArrivalMarks, SendMarks } from './loss-count';
import { countFromUs, type PumpPlan } from './pump-schedule';

export type BenchMode = 'transcode' | 'passthrough';

export interface CallCounts {
  sent: number;
  received: number;
  /** From countFromUs(...) on: what the loss figure compares. */
  sentCounted: number;
  receivedCounted: number;
  countFromUs: number;
  sendMarks: SendMarks;
  arrivals: ArrivalMarks;
  onsetSentUs: number[];
  onsetReceivedUs: number[];
}

export interface GeneratorResults {
  sent: number;
  received: number;
  /** Counted for loss (from the plan's countFromFrame on). */
  sentCounted: number;
  receivedCounted: number;
  /** Transcode: per call, the first counted frame, the boundary instant, packets sent and received, early arrivals. */
  marks: { frame: number; atUs: number; sent: number; received: number; arrivals: number[] }[];
  /** Calls that received nothing at all. */
  silentCalls: number;
  latency: [number, number][];
  onsetSentUs: number[][];
  onsetReceivedUs: number[][];
  lateMaxMs: number;
}

/** Starts the counted part of a pump: each call's loss boundary for `plan`, marks and counters reset. */
export function startCounting(calls: CallCounts[], plan: PumpPlan): void {
  calls.forEach((c, i) => {
    c.countFromUs = countFromUs(plan, calls.length, i);
    c.sendMarks = new SendMarks(plan.countFromFrame);
    c.arrivals = new ArrivalMarks(plan.countFromFrame + 60);
    c.sentCounted = 0;
    c.receivedCounted = 0;
  });
}

export function collectResults(calls: CallCounts[], mode: BenchMode, hist: LatencyHistogram, lateMaxMs: number): GeneratorResults {
  const sum = (f: (c: CallCounts) => number): number => calls.reduce((n, c) => n + f(c), 0);
  return {
    sent: sum((c) => c.sent),
    received: sum((c) => c.received),
    sentCounted: sum((c) => c.sentCounted),
    marks: mode === 'transcode' ? calls.map((c) => ({ ...c.sendMarks.boundary(), sent: c.sent, received: c.received, arrivals: c.arrivals.list() })) : [],
    receivedCounted: sum((c) => c.receivedCounted),
    silentCalls: calls.filter((c) => c.received === 0).length,
    latency: hist.toSparse(),
    onsetSentUs: calls.map((c) => c.onsetSentUs),
    onsetReceivedUs: calls.map((c) => c.onsetReceivedUs),
    lateMaxMs,
  };
}
