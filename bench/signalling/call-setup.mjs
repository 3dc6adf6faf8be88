// Call setup rate, full path: emulator users dial (signed connect webhook) -> signalling (Redis state,
// media app creates the WhatsApp leg and the RTP leg over the bus, pre_accept, INVITE) -> SIPp as the PBX
// answers at once -> ACK, accept to the emulator, bridge started; the user hangs up after `holdMs`
// (terminate webhook -> BYE -> legs closed). Rising fixed rates, each step checked for leftovers.
import { cpuSnapshot, isClean, leakReport, mediaUdpSockets } from './lib/gateway.mjs';
import { prepareUsers, reasons, runCallLoad } from './lib/call-load.mjs';
import { PbxAnswerTimes } from './lib/pbx-answer-times.mjs';
import { loadAverage, sleep } from './lib/proc.mjs';
import { cpuShare, round, summary } from './lib/stats.mjs';

/** Waits until the gateway holds nothing of any call (or `timeoutMs`); returns the last report. */
export async function drained(gw, mediaUdpBaseline, timeoutMs = 60_000) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await leakReport(gw, mediaUdpBaseline);
    if (isClean(last)) return { clean: true, report: last };
    await sleep(250);
  }
  return { clean: false, report: last };
}

export class UserPool {
  #gw;
  #ids = [];
  constructor(gw) {
    this.#gw = gw;
  }
  async atLeast(n) {
    if (this.#ids.length < n) this.#ids.push(...(await prepareUsers(this.#gw, n - this.#ids.length, { offset: this.#ids.length })));
    return this.#ids.slice(0, n);
  }
}

/** The PBX's own answer time per call, read from the signalling log (one reader per gateway: it keeps its place). */
const answerTimes = new WeakMap();
function pbxAnswerTimes(gw) {
  if (!answerTimes.has(gw)) answerTimes.set(gw, new PbxAnswerTimes(gw.signallingLog));
  return answerTimes.get(gw).read();
}

/**
 * Per accepted call whose INVITE/200 lines were found (others are left out: `n` says): what the PBX (SIPp)
 * took from our INVITE to its 200, and the set-up time the gateway added, the emulator's webhook-out ->
 * accept-in minus the PBX's share.
 */
function splitSetup(ok, pbxMs) {
  const found = ok.filter((r) => pbxMs.has(r.waCallId));
  const pbx = found.map((r) => pbxMs.get(r.waCallId));
  return { pbx, added: found.map((r, i) => r.latencyMs - pbx[i]) };
}

/** One step: `ratePerS` for `seconds` (or `calls` calls); figures for the calls, CPU per process, leftovers after. */
export async function callStep(gw, pool, mediaUdpBaseline, { ratePerS, seconds, calls, holdMs, log }) {
  const users = await pool.atLeast(Math.ceil(ratePerS * (holdMs / 1000 + 3)) + 10);
  const load = loadAverage();
  const c0 = cpuSnapshot(gw);
  const t0 = performance.now();
  const run = await runCallLoad(gw, { users, ratePerS, durationS: seconds, calls, holdMs, onProgress: (i, n) => log?.(`    ${i}/${n} calls placed`) });
  const wallS = (performance.now() - t0) / 1000;
  const c1 = cpuSnapshot(gw);
  const after = await drained(gw, mediaUdpBaseline);
  const ok = run.results.filter((r) => r.ok);
  const setup = splitSetup(ok, pbxAnswerTimes(gw));
  const failed = run.results.length - ok.length;
  return {
    targetRate: ratePerS,
    offeredRate: round(run.offeredRate, 1),
    calls: run.results.length,
    ok: ok.length,
    failed,
    failurePct: round((100 * failed) / Math.max(1, run.results.length), 3),
    failureReasons: reasons(run.results),
    setupMs: summary(ok.map((r) => r.latencyMs)),
    setupAddedMs: summary(setup.added),
    pbxAnswerMs: summary(setup.pbx),
    cpu: cpuShare(c0, c1, wallS, run.results.length),
    loadAverageBefore: load.one,
    drained: after.clean,
    leftovers: after.clean ? undefined : after.report,
  };
}

export async function runCallSetup(gw, { rates, seconds, holdMs = 1000, log = () => undefined }) {
  const pool = new UserPool(gw);
  const mediaUdpBaseline = mediaUdpSockets(gw);
  log('  call setup: warm-up 10 s at 10 calls/s');
  await callStep(gw, pool, mediaUdpBaseline, { ratePerS: 10, seconds: 10, holdMs });
  const steps = [];
  for (const rate of rates) {
    const s = await callStep(gw, pool, mediaUdpBaseline, { ratePerS: rate, seconds, holdMs, log });
    log(`  setup ${rate}/s: ${s.ok}/${s.calls} ok (${s.failurePct} % failed${s.failed ? `: ${JSON.stringify(s.failureReasons)}` : ''}), setup p50 ${s.setupMs.p50} p99 ${s.setupMs.p99} ms (added by the gateway p50 ${s.setupAddedMs.p50} p99 ${s.setupAddedMs.p99}, PBX answer p50 ${s.pbxAnswerMs.p50}), CPU ms/call signalling ${s.cpu.signalling?.cpuMsPerUnit} media ${s.cpu.media?.cpuMsPerUnit} redis ${s.cpu.redis?.cpuMsPerUnit} (emulator ${s.cpu.emulator?.cpuMsPerUnit}, sipp ${s.cpu.sipp?.cpuMsPerUnit}), drained ${s.drained}`);
    steps.push(s);
    if (s.failurePct > 5) break; // far past capacity
  }
  const sustained = steps.filter((s) => s.failurePct < 0.1 && s.offeredRate >= s.targetRate * 0.95 && s.drained);
  const best = sustained.at(-1);
  return {
    holdMs,
    steps,
    sustainedCallsPerS: best?.targetRate ?? 0,
    setupMsAtSustained: best?.setupMs ?? null,
    setupAddedMsAtSustained: best?.setupAddedMs ?? null,
    mediaUdpBaseline,
  };
}
