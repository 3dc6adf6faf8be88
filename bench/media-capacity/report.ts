/** Media capacity figures from the steps: capacity per target and mode, CPU per call, the rtpengine ratio, tables. */
import type { StepResult } from './capacity-step';
import type { BenchMode } from './wa-generator';

/** The targets (per core of the 2-core machine). */
export const TARGETS = {
  transcodedCallsPerCore: 120,
  passthroughCallsPerCore: 400,
  lossPctMax: 0,
  latencyP99MsMax: 10,
  rssPerCallMbMax: 1,
  cpuPerTranscodedCallVsRtpengineMax: 1,
};

const MODES: BenchMode[] = ['transcode', 'passthrough'];
const TARGET_NAMES = ['media app', 'media app, opusComplexity 1', 'rtpengine'];

export interface ModeSummary {
  /** Largest N that passed (0 % loss and p99 <= 10 ms both ways); 0 when none did. */
  capacity: number;
  /** CPU % of one core per call at that N (when none passed: at the largest N the target kept up with; else null). */
  cpuPctPerCall: number | null;
  /** 100 / cpuPctPerCall: calls one core could carry by CPU alone. */
  callsPerCoreByCpu: number | null;
  rssPerCallKb: number | null;
  /** The steps run (N) and whether each passed. */
  ladder: { calls: number; pass: boolean }[];
}

export interface Comparison {
  calls: number;
  oursPctPerCall: number;
  rtpenginePctPerCall: number;
  /** Ours divided by rtpengine's. */
  ratio: number;
  bothPassed: boolean;
}

export interface Summary {
  capacity: Record<string, Record<string, ModeSummary>>;
  vsRtpengine: Record<string, { headline: Comparison | null; all: Comparison[] }>;
}

/**
 * A step whose target kept up with the load (no datagram dropped at its sockets, loss within 0.5 % either
 * way): only then does its CPU per call mean anything. A starved target uses little CPU and drops the rest.
 */
export function keptUp(s: StepResult): boolean {
  return s.targetUdpDrops === 0 && Math.abs(s.waToPbx.lossPct) <= 0.5 && Math.abs(s.pbxToWa.lossPct) <= 0.5 && s.connected === s.calls;
}

function modeSummary(all: StepResult[]): ModeSummary {
  const steps = all.filter((s) => !s.retried);
  const passed = steps.filter((s) => s.pass);
  const usable = steps.filter(keptUp);
  const pick = (xs: StepResult[]): StepResult | undefined => (xs.length ? xs.reduce((a, b) => (b.calls > a.calls ? b : a)) : undefined);
  const best = pick(passed) ?? pick(usable);
  return {
    capacity: passed.length ? Math.max(...passed.map((s) => s.calls)) : 0,
    cpuPctPerCall: best ? best.cpuPctPerCall : null,
    callsPerCoreByCpu: best && best.cpuPctPerCall > 0 ? Math.round(100 / best.cpuPctPerCall) : null,
    rssPerCallKb: best ? Math.round(best.rssPerCallKb) : null,
    ladder: steps.map((s) => ({ calls: s.calls, pass: s.pass })),
  };
}

function compare(steps: StepResult[], mode: BenchMode): { headline: Comparison | null; all: Comparison[] } {
  const ours = steps.filter((s) => s.target === 'media app' && s.mode === mode && !s.retried);
  const theirs = steps.filter((s) => s.target === 'rtpengine' && s.mode === mode && !s.retried);
  const all: Comparison[] = [];
  for (const o of ours) {
    const r = theirs.find((t) => t.calls === o.calls);
    if (!r || r.cpuPctPerCall <= 0) continue;
    if (!keptUp(o) || !keptUp(r)) continue; // a starved process's CPU per call is no figure
    all.push({ calls: o.calls, oursPctPerCall: o.cpuPctPerCall, rtpenginePctPerCall: r.cpuPctPerCall, ratio: o.cpuPctPerCall / r.cpuPctPerCall, bothPassed: o.pass && r.pass });
  }
  const passedBoth = all.filter((c) => c.bothPassed);
  const pool = passedBoth.length ? passedBoth : all;
  const headline = pool.length ? pool.reduce((a, b) => (b.calls > a.calls ? b : a)) : null;
  return { headline, all };
}

export function summarize(steps: StepResult[]): Summary {
  const capacity: Summary['capacity'] = {};
  for (const t of TARGET_NAMES) {
    for (const m of MODES) {
      const s = steps.filter((x) => x.target === t && x.mode === m);
      if (s.length) (capacity[t] ??= {})[m] = modeSummary(s);
    }
  }
  return { capacity, vsRtpengine: { transcode: compare(steps, 'transcode'), passthrough: compare(steps, 'passthrough') } };
}

export function verdicts(f: Summary): Record<string, Record<string, unknown>> {
  const ours = f.capacity['media app'] ?? {};
  const v: Record<string, Record<string, unknown>> = {};
  if (ours['transcode']) v['transcodedCalls'] = { met: ours['transcode'].capacity >= TARGETS.transcodedCallsPerCore, measured: ours['transcode'].capacity, target: TARGETS.transcodedCallsPerCore, callsPerCoreByCpu: ours['transcode'].callsPerCoreByCpu };
  if (ours['passthrough']) v['passthroughCalls'] = { met: ours['passthrough'].capacity >= TARGETS.passthroughCallsPerCore, measured: ours['passthrough'].capacity, target: TARGETS.passthroughCallsPerCore, callsPerCoreByCpu: ours['passthrough'].callsPerCoreByCpu };
  const rss = MODES.map((m) => ours[m]?.rssPerCallKb).filter((x): x is number => x !== null && x !== undefined);
  if (rss.length) v['rssPerCall'] = { met: Math.max(...rss) / 1024 <= TARGETS.rssPerCallMbMax, measuredMb: Math.max(...rss) / 1024, target: TARGETS.rssPerCallMbMax };
  const h = f.vsRtpengine['transcode']?.headline;
  if (h) v['cpuPerTranscodedCallVsRtpengine'] = { met: h.ratio <= TARGETS.cpuPerTranscodedCallVsRtpengineMax, ratio: h.ratio, atCalls: h.calls, oursPctPerCall: h.oursPctPerCall, rtpenginePctPerCall: h.rtpenginePctPerCall, target: TARGETS.cpuPerTranscodedCallVsRtpengineMax };
  const hp = f.vsRtpengine['passthrough']?.headline;
  if (hp) v['cpuPerPassthroughCallVsRtpengine'] = { met: null, ratio: hp.ratio, atCalls: hp.calls, oursPctPerCall: hp.oursPctPerCall, rtpenginePctPerCall: hp.rtpenginePctPerCall, target: 'none (informational)' };
  return v;
}

export interface Table {
  title: string;
  columns: string[];
  rows: (string | number)[][];
}

const f1 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(1));
const f3 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(3));

export function tables(steps: StepResult[], f: Summary): Table[] {
  const stepRows = steps.map((s) => [
    s.target,
    s.mode,
    s.calls,
    f1(s.cpuPct),
    f3(s.cpuPctPerCall),
    Math.round(s.rssMb),
    Math.round(s.rssPerCallKb),
    f3(s.waToPbx.lossPct),
    `${f1(s.waToPbx.latencyP50Ms)}/${f1(s.waToPbx.latencyP99Ms)}`,
    f3(s.pbxToWa.lossPct),
    `${f1(s.pbxToWa.latencyP50Ms)}/${f1(s.pbxToWa.latencyP99Ms)}`,
    s.eventLoopLagMs ? f1(s.eventLoopLagMs.p99) : '-',
    s.generatorCpuPct.map((x) => Math.round(x)).join('+'),
    s.pass ? 'pass' : `${s.retried ? 'failed, retried: ' : 'FAIL: '}${s.failures.join('; ')}`,
  ]);
  const summaryRows: (string | number)[][] = [];
  for (const [t, modes] of Object.entries(f.capacity)) {
    for (const [m, s] of Object.entries(modes)) summaryRows.push([t, m, s.capacity, f3(s.cpuPctPerCall), s.callsPerCoreByCpu ?? '-', s.rssPerCallKb ?? '-']);
  }
  const cmpRows = Object.entries(f.vsRtpengine).flatMap(([m, c]) => c.all.map((x) => [m, x.calls, f3(x.oursPctPerCall), f3(x.rtpenginePctPerCall), x.ratio.toFixed(2), x.bothPassed ? 'yes' : 'no']));
  return [
    {
      title: 'Media capacity: every step (CPU % of one core, target process only; latency ms generator to generator)',
      columns: ['target', 'mode', 'calls', 'CPU %', 'CPU %/call', 'RSS MB', 'RSS kB/call', 'loss WA>PBX %', 'WA>PBX p50/p99', 'loss PBX>WA %', 'PBX>WA p50/p99', 'loop lag p99', 'gen CPU %', 'result'],
      rows: stepRows,
    },
    { title: 'Media capacity: largest N with 0 % loss and p99 <= 10 ms', columns: ['target', 'mode', 'calls', 'CPU %/call', 'calls/core by CPU', 'RSS kB/call'], rows: summaryRows },
    { title: 'CPU per call: ours / rtpengine (same calls, same generators; steps where both kept up)', columns: ['mode', 'calls', 'ours %/call', 'rtpengine %/call', 'ours/rtpengine', 'both passed'], rows: cmpRows },
  ];
}
