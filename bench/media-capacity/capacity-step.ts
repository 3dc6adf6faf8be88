/**
 * One measurement step: N calls through a target (our media app or rtpengine), both generators pumping
 * 50 packets/s each way for a warm-up and a measured window. CPU and memory come from /proc for the
 * target's process only; the generators' own CPU is reported next to it, since they share the machine.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadavg } from 'node:os';
import { FRAME_MS, LatencyHistogram, monoUs, pairOnsets } from './audio-marks';
import type { BridgeTarget } from './bridge-target';
import type { Generator } from './generator-rpc';
import type { PbxResults } from './pbx-generator';
import { receivedAfter } from './loss-count';
import { cpuPercent, cpuSeconds, cpuSplit, rssBytes, sampleCpu, udpDrops, type CpuSample } from './proc-stats';
import type { PumpPlan } from './pump-schedule';
import type { BenchMode, WaResults } from './wa-generator';

export interface StepOptions {
  target: BridgeTarget;
  wa: Generator;
  pbx: Generator;
  mode: BenchMode;
  calls: number;
  host: string;
  pbxPortMin: number;
  pbxPortMax: number;
  warmupMs: number;
  windowMs: number;
  log: (line: string) => void;
  /** Writes a CPU profile of the target's measured window here (Node targets only). */
  profileFile?: string;
}

export interface DirectionResult {
  sent: number;
  received: number;
  /** (sent - received) / sent over the counted part (negative: more arrived than was sent). */
  lossPct: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencySamples: number;
}

export interface StepResult {
  target: string;
  mode: BenchMode;
  calls: number;
  connected: number;
  /** Calls set up again because their WhatsApp side did not connect the first time. */
  setupRetries: number;
  setupSeconds: number;
  /**
   * The target's CPU (all threads) while it set the calls up, per call set up (retries included): ICE, the
   * DTLS handshake, SRTP keys, both legs, the control requests. The generators' share is not in it.
   */
  setupCpuMsPerCall: number;
  cpuPct: number;
  cpuPctPerCall: number;
  /** Where the target's CPU went: user vs kernel time, and its main (event-loop) thread's share. */
  cpuSplitPct: { user: number; system: number; mainThread: number };
  rssMb: number;
  rssPerCallKb: number;
  waToPbx: DirectionResult;
  pbxToWa: DirectionResult;
  eventLoopLagMs: { p50: number; p99: number; max: number } | null;
  targetUdpDrops: number;
  generatorUdpDrops: number;
  /** CPU % of each generator process: one figure when both generators share a process, else WA's and the PBX's. */
  generatorCpuPct: number[];
  generatorLateMaxMs: number;
  loadAvg1m: number;
  pass: boolean;
  failures: string[];
  /** A failed attempt that was run again (the ladder keeps the second result). */
  retried?: boolean;
}

const MAX_LATENCY_MS = 10;
/** How long before the measured window the UDP drop counters are read (less than the shortest warm-up). */
const DROPS_LEAD_MS = 800;

async function pool<T>(items: T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

const CONNECT_TIMEOUT_MS = 8000;
const SETUP_ROUNDS = 3;

/**
 * Sets up every call (8 at a time), waits for the WhatsApp side's DTLS, and sets up again (fresh peer,
 * new call id) the calls that did not connect, up to SETUP_ROUNDS times: a werift ICE-lite peer and
 * rtpengine sometimes disagree on ICE roles and never connect (see README "Performance"). Returns the call
 * ids in use and how many calls needed another round.
 */
async function setUp(o: StepOptions): Promise<{ callIds: string[]; connected: number; retried: number }> {
  await o.pbx.call('allocate', o.calls, o.mode, o.host, o.pbxPortMin, o.pbxPortMax, o.target.pbxSrtp === true);
  let offers = await o.wa.call<string[]>('createPeers', o.calls, o.mode, o.host, o.target.waIceLite);
  const callIds = offers.map((_, i) => `bench-${i}`);
  let todo = callIds.map((_, i) => i);
  let retried = 0;
  for (let round = 1; todo.length > 0; round++) {
    await pool(todo, 8, async (i) => {
      await o.target.setupCall(callIds[i] as string, offers[i] as string, o.mode, {
        applyWaAnswer: (sdp) => o.wa.call('applyAnswer', i, sdp),
        answerPbx: (offer) => o.pbx.call<string>('answer', i, offer, o.host),
      });
    });
    const failed = await o.wa.call<number[]>('waitConnected', CONNECT_TIMEOUT_MS);
    if (failed.length === 0 || round >= SETUP_ROUNDS) {
      if (failed.length) o.log(`  ${failed.length} calls did not connect after ${round} rounds`);
      break;
    }
    retried += failed.length;
    offers = [...offers];
    for (const i of failed) {
      await o.target.abortCall(callIds[i] as string);
      callIds[i] = `bench-${i}-r${round}`;
      offers[i] = await o.wa.call<string>('replacePeer', i);
    }
    todo = failed;
  }
  const notConnected = await o.wa.call<number[]>('waitConnected', 1);
  await pool(callIds, 8, (id) => o.target.startCall(id));
  return { callIds, connected: o.calls - notConnected.length, retried };
}

/** Loss counts both ways: a packet missing or one too many (a duplicate, a concealed frame) is a fault. */
function direction(sent: number, received: number, hist: LatencyHistogram): DirectionResult {
  return {
    sent,
    received,
    lossPct: sent > 0 ? (100 * (sent - received)) / sent : 0,
    latencyP50Ms: hist.quantile(0.5),
    latencyP99Ms: hist.quantile(0.99),
    latencySamples: hist.count,
  };
}

function latencies(mode: BenchMode, from: WaResults | PbxResults, to: WaResults | PbxResults, plan: PumpPlan): LatencyHistogram {
  const h = new LatencyHistogram();
  if (mode === 'passthrough') h.merge(to.latency);
  else from.onsetSentUs.forEach((sent, i) => pairOnsets(sent, to.onsetReceivedUs[i] ?? [], 200, h, plan.windowFromUs, plan.windowToUs));
  return h;
}

/** Transcode: packets sent from each call's first counted frame on, and received after its boundary. */
function countedTranscode(from: WaResults | PbxResults, to: WaResults | PbxResults): [number, number] {
  let sent = 0;
  let received = 0;
  from.marks.forEach((m, i) => {
    const r = to.marks[i];
    sent += m.sent - m.frame;
    received += r ? receivedAfter(r.received, r.arrivals, m.atUs) : 0;
  });
  return [sent, received];
}

export async function runStep(o: StepOptions): Promise<StepResult> {
  await o.target.start();
  await sleep(1000); // let the fresh process settle (JIT, lazy requires) before its baseline memory
  const baselineRss = rssBytes(o.target.pid);
  const t0 = performance.now();
  const setupCpuBefore = cpuSeconds(o.target.pid);
  const { connected, retried } = await setUp(o);
  const setupCpuMsPerCall = (1000 * (cpuSeconds(o.target.pid) - setupCpuBefore)) / (o.calls + retried);
  const setupSeconds = (performance.now() - t0) / 1000;
  const startAtUs = monoUs() + 500_000;
  const plan: PumpPlan = {
    startAtUs,
    packets: Math.round((o.warmupMs + o.windowMs) / FRAME_MS),
    windowFromUs: startAtUs + o.warmupMs * 1000,
    windowToUs: startAtUs + (o.warmupMs + o.windowMs) * 1000,
    // loss is counted over the measured window (and the drain after it), not over the warm-up
    countFromFrame: Math.round(o.warmupMs / FRAME_MS),
  };
  const pumping = Promise.all([o.wa.call('pump', plan), o.pbx.call('pump', plan)]);
  const pids = [...new Set([o.target.pid, o.wa.pid, o.pbx.pid])];
  // the drop counters are read a while before the window: reading /proc/net/udp with ~1,600 sockets open
  // (and every process's fd table) stalls packet delivery for tens of ms, which read at the window's start
  // was the latency of its first packets (p99 > 10 ms at 400 passthrough calls from that alone)
  await sleep((plan.windowFromUs - monoUs()) / 1000 - DROPS_LEAD_MS);
  const dropsBefore = udpDrops(pids);
  await sleep((plan.windowFromUs - monoUs()) / 1000);
  const before: CpuSample[] = pids.map(sampleCpu);
  const splitBefore = { all: cpuSplit(o.target.pid), main: cpuSplit(o.target.pid, o.target.pid) };
  await o.target.probe?.('reset');
  if (o.profileFile) await o.target.probe?.('profile-start');
  await sleep((plan.windowToUs - monoUs()) / 1000);
  const after: CpuSample[] = pids.map(sampleCpu);
  const splitAfter = { all: cpuSplit(o.target.pid), main: cpuSplit(o.target.pid, o.target.pid) };
  const lag = (await o.target.probe?.('read')) ?? null;
  if (o.profileFile) await o.target.probe?.('profile-stop', o.profileFile);
  const rss = rssBytes(o.target.pid);
  const load = loadavg()[0] as number;
  const dropsAfter = udpDrops(pids);
  await pumping;
  await sleep(500); // in flight, and the bridge's jitter buffer playing out
  const [wa, pbx] = await Promise.all([o.wa.call<WaResults>('results'), o.pbx.call<PbxResults>('results')]);
  await o.target.stop();
  await Promise.all([o.wa.call('closeAll'), o.pbx.call('closeAll')]);

  const cpu = pids.map((_, i) => cpuPercent(before[i] as CpuSample, after[i] as CpuSample));
  const wallS = (after[0] as CpuSample).wall - (before[0] as CpuSample).wall;
  const pct = (a: number, b: number): number => (wallS > 0 ? (100 * (b - a)) / wallS : 0);
  const cpuSplitPct = {
    user: pct(splitBefore.all.user, splitAfter.all.user),
    system: pct(splitBefore.all.system, splitAfter.all.system),
    mainThread: pct(splitBefore.main.user + splitBefore.main.system, splitAfter.main.user + splitAfter.main.system),
  };
  const drops = pids.map((_, i) => (dropsAfter[i] as number) - (dropsBefore[i] as number));
  const [waSent, pbxReceived] = o.mode === 'passthrough' ? [wa.sentCounted, pbx.receivedCounted] : countedTranscode(wa, pbx);
  const [pbxSent, waReceived] = o.mode === 'passthrough' ? [pbx.sentCounted, wa.receivedCounted] : countedTranscode(pbx, wa);
  const waToPbx = direction(waSent, pbxReceived, latencies(o.mode, wa, pbx, plan));
  const pbxToWa = direction(pbxSent, waReceived, latencies(o.mode, pbx, wa, plan));
  const failures: string[] = [];
  if (connected < o.calls) failures.push(`${o.calls - connected} calls not connected`);
  for (const [name, d] of [['WA->PBX', waToPbx], ['PBX->WA', pbxToWa]] as const) {
    if (d.lossPct > 0) failures.push(`${name} loss ${d.lossPct.toFixed(3)} %`);
    else if (d.lossPct < 0) failures.push(`${name} ${d.received - d.sent} packets more than sent`);
    if (!(d.latencyP99Ms <= MAX_LATENCY_MS)) failures.push(`${name} p99 ${d.latencyP99Ms.toFixed(1)} ms`);
  }
  if ((drops[0] as number) > 0) failures.push(`${drops[0]} datagrams dropped at the target's sockets`);
  return {
    target: o.target.name,
    mode: o.mode,
    calls: o.calls,
    connected,
    setupRetries: retried,
    setupSeconds,
    setupCpuMsPerCall,
    cpuPct: cpu[0] as number,
    cpuPctPerCall: (cpu[0] as number) / o.calls,
    cpuSplitPct,
    rssMb: rss / 2 ** 20,
    rssPerCallKb: (rss - baselineRss) / 1024 / o.calls,
    waToPbx,
    pbxToWa,
    eventLoopLagMs: lag ? { p50: lag['p50'] as number, p99: lag['p99'] as number, max: lag['max'] as number } : null,
    targetUdpDrops: drops[0] as number,
    generatorUdpDrops: drops.slice(1).reduce((a, b) => a + b, 0),
    generatorCpuPct: cpu.slice(1),
    generatorLateMaxMs: Math.max(wa.lateMaxMs, pbx.lateMaxMs),
    loadAvg1m: load,
    pass: failures.length === 0,
    failures,
  };
}
