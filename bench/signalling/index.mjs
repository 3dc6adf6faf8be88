#!/usr/bin/env node
// Signalling benches (issue: performance): call setup rate over the full path, webhook ingest per
// signalling instance, and a soak of short calls with a leak check. The gateway's processes (signalling,
// media, Redis) and the load generators (WhatsApp emulator, SIPp, the webhook generator, this driver) all
// run as separate processes; CPU is reported per process, so the generators' cost is never counted as ours.
//
//   node bench/signalling/index.mjs [--quick] [--only setup,ingest,soak] [--out file.json] [--log-dir dir]
//     [--media-instances N]   (N media apps behind the signalling app for setup and soak; default 1)
//
// As a suite of bench/run.mjs: `run(ctx)` with ctx { quick?, only?, logDir?, log?, mediaInstances? } resolves with
// { suite: 'signalling', figures, targets, verdicts, environment }.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startGateway } from './lib/gateway.mjs';
import { loadAverage, ROOT } from './lib/proc.mjs';
import { runCallSetup } from './call-setup.mjs';
import { runSoak } from './soak.mjs';
import { runWebhookIngest } from './webhook-ingest.mjs';

export const TARGETS = {
  callSetupsPerS: 200,
  callSetupFailurePctMax: 0.1,
  callSetupP99MsMax: 50,
  webhooksPerS: 3000,
  webhookAckP99MsMax: 10,
  soakCalls: 10_000,
};

function plan(quick) {
  return quick
    ? { setupRates: [10, 25], setupSeconds: 8, ingestRates: [500, 1000], ingestSeconds: 4, soakCalls: 300, soakRate: 20 }
    : { setupRates: [10, 20, 30, 40, 50, 60, 80, 100, 150, 200, 250], setupSeconds: 15, ingestRates: [1000, 2000, 3000, 4000, 5000], ingestSeconds: 8, soakCalls: TARGETS.soakCalls, soakRate: undefined };
}

export async function run(ctx = {}) {
  const quick = Boolean(ctx.quick);
  const only = new Set(ctx.only ?? ['setup', 'ingest', 'soak']);
  const log = ctx.log ?? ((line) => process.stderr.write(`${line}\n`));
  const logDir = ctx.logDir ?? join(tmpdir(), `wagw-bench-signalling-${Date.now()}`);
  mkdirSync(logDir, { recursive: true });
  const p = plan(quick);
  const mediaInstances = ctx.mediaInstances ?? 1;
  const environment = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, loadAverageAtStart: loadAverage(), logDir, quick, mediaInstances };
  const figures = {};
  log(`signalling benches (logs in ${logDir}), load average ${environment.loadAverageAtStart.one}`);

  if (only.has('ingest')) {
    log('webhook ingest: one signalling process, its own Redis, a generator process');
    figures.webhookIngest = await runWebhookIngest({ logDir, rates: p.ingestRates, seconds: p.ingestSeconds, log });
  }
  if (only.has('setup') || only.has('soak')) {
    const gw = await startGateway({ logDir: join(logDir, 'gateway'), mediaInstances });
    if (mediaInstances > 1) log(`  ${mediaInstances} media apps behind the signalling app (CPU and RSS of media: their sum)`);
    try {
      if (only.has('setup')) {
        log('call setup: emulator users (sdp-only media) -> signalling + media + Redis -> SIPp UAS');
        figures.callSetup = await runCallSetup(gw, { rates: p.setupRates, seconds: p.setupSeconds, log });
      }
      if (only.has('soak')) {
        // 80 % of the rate the gateway sustained (so the soak tests leaks, not overload), at most 100/s, and at
        // least what fits 10,000 calls into ~5 minutes of the bench's 15
        const sustained = figures.callSetup?.sustainedCallsPerS ?? 0;
        const rate = p.soakRate ?? Math.max(Math.ceil(p.soakCalls / 300), Math.min(100, Math.floor(sustained * 0.8)));
        figures.soak = await runSoak(gw, { calls: p.soakCalls, ratePerS: rate, log });
      }
    } finally {
      await gw.stop();
    }
  }
  environment.loadAverageAtEnd = loadAverage();
  return { suite: 'signalling', figures, targets: TARGETS, verdicts: verdicts(figures), environment, tables: tables(figures) };
}

/** Tables for bench/run.mjs's report: [{ title, columns, rows }]. */
function tables(f) {
  const out = [];
  const cpu = (c, k) => c[k]?.cpuMsPerUnit ?? null;
  if (f.callSetup) {
    out.push({
      title: `Call setup, full path (hold ${f.callSetup.holdMs} ms; added = full path minus the PBX's INVITE -> 200 time; CPU ms per call per process)`,
      columns: ['calls/s', 'calls', 'failed %', 'setup p50 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'PBX p50 ms', 'signalling', 'media', 'redis', 'emulator*', 'sipp*', 'load'],
      rows: f.callSetup.steps.map((s) => [s.targetRate, s.calls, s.failurePct, s.setupMs.p50, s.setupMs.p99, s.setupAddedMs?.p50, s.setupAddedMs?.p99, s.pbxAnswerMs?.p50, cpu(s.cpu, 'signalling'), cpu(s.cpu, 'media'), cpu(s.cpu, 'redis'), cpu(s.cpu, 'emulator'), cpu(s.cpu, 'sipp'), s.loadAverageBefore]),
    });
  }
  if (f.webhookIngest) {
    out.push({
      title: 'Webhook ingest, one signalling process (ack latency at the generator)',
      columns: ['target/s', 'achieved/s', 'ack p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'not sent', 'all processed', 'CPU us/webhook'],
      rows: f.webhookIngest.steps.map((s) => [s.targetRate, s.achievedRate, s.ackMs.p50, s.ackMs.p99, s.ackMs.p999, s.errors, s.notSent, s.allProcessed, s.signallingCpuUsPerWebhook]),
    });
    if (f.webhookIngest.floor?.length) {
      out.push({
        title: 'Floor: the same generator against bare node:http (no signature, parsing, Redis or logs)',
        columns: ['target/s', 'achieved/s', 'ack p50 ms', 'p99 ms', 'p99.9 ms', 'errors', 'not sent', 'CPU us/request'],
        rows: f.webhookIngest.floor.map((s) => [s.targetRate, s.achievedRate, s.ackMs.p50, s.ackMs.p99, s.ackMs.p999, s.errors, s.notSent, s.serverCpuUsPerRequest]),
      });
    }
  }
  if (f.soak) {
    const s = f.soak;
    out.push({
      title: `Soak: ${s.calls} calls at ${s.ratePerS}/s, then the leak check`,
      columns: ['ok', 'failed', 'setup p99 ms', 'active calls', 'WA legs', 'media UDP sockets', 'call keys', 'RSS signalling MiB', 'RSS media MiB', 'within 10 %', 'heap used signalling MiB', 'heap used media MiB'],
      rows: [[s.ok, s.failed, s.setupMs.p99, s.after.activeCalls, s.after.mediaWaLegs, s.after.mediaUdpSocketsOpen, s.after.callStateKeys, `${s.rssMiB.afterWarmup.signalling} -> ${s.rssMiB.afterSoak.signalling}`, `${s.rssMiB.afterWarmup.media} -> ${s.rssMiB.afterSoak.media}`, s.rssWithin10Pct, `${s.heapUsedMiB.afterWarmup.signalling} -> ${s.heapUsedMiB.afterSoak.signalling}`, `${s.heapUsedMiB.afterWarmup.media} -> ${s.heapUsedMiB.afterSoak.media}`]],
    });
  }
  return out;
}

function verdicts(f) {
  const v = {};
  if (f.callSetup) {
    const at = f.callSetup.steps.find((s) => s.targetRate === TARGETS.callSetupsPerS);
    v.callSetupRate = { met: f.callSetup.sustainedCallsPerS >= TARGETS.callSetupsPerS, sustained: f.callSetup.sustainedCallsPerS, target: TARGETS.callSetupsPerS };
    // the target is the p99 the gateway adds (the PBX's own answer time taken out), at the target rate
    const added = at?.setupAddedMs?.p99 ?? null;
    v.callSetupP99 = {
      met: added !== null && added <= TARGETS.callSetupP99MsMax,
      addedP99AtTargetRate: added,
      addedP99AtSustained: f.callSetup.setupAddedMsAtSustained?.p99 ?? null,
      fullPathP99AtTargetRate: at?.setupMs.p99 ?? null,
      fullPathP99AtSustained: f.callSetup.setupMsAtSustained?.p99 ?? null,
      target: TARGETS.callSetupP99MsMax,
    };
  }
  if (f.webhookIngest) {
    const at = f.webhookIngest.steps.find((s) => s.targetRate === TARGETS.webhooksPerS);
    v.webhookRate = { met: f.webhookIngest.sustainedWebhooksPerS >= TARGETS.webhooksPerS, sustained: f.webhookIngest.sustainedWebhooksPerS, target: TARGETS.webhooksPerS };
    v.webhookAckP99 = { met: Boolean(at && at.ackMs.p99 !== null && at.ackMs.p99 <= TARGETS.webhookAckP99MsMax), p99AtTargetRate: at?.ackMs.p99 ?? null, target: TARGETS.webhookAckP99MsMax };
  }
  if (f.soak) {
    v.soakNothingLeaked = { met: f.soak.nothingLeaked && f.soak.calls >= TARGETS.soakCalls, calls: f.soak.calls, failed: f.soak.failed, leftovers: f.soak.after, target: `${TARGETS.soakCalls} calls, 0 left` };
    v.soakRss = { met: f.soak.rssWithin10Pct, start: f.soak.rssMiB.afterWarmup, end: f.soak.rssMiB.afterSoak, target: 'within 10 %' };
  }
  return v;
}

async function main() {
  const argv = process.argv.slice(2);
  const arg = (name) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const mediaInstances = Number(arg('--media-instances') ?? 1);
  if (!Number.isInteger(mediaInstances) || mediaInstances < 1 || mediaInstances > 8) throw new Error('--media-instances takes 1 to 8');
  const result = await run({ quick: argv.includes('--quick'), only: arg('--only')?.split(','), logDir: arg('--log-dir'), mediaInstances });
  const out = arg('--out') ?? join(ROOT, 'bench', 'results', `${new Date().toISOString().slice(0, 10)}-signalling.json`);
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  process.stderr.write(`written ${out}\n${JSON.stringify(result.verdicts, null, 2)}\n`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err) => {
    process.stderr.write(`signalling bench failed: ${err.stack ?? err}\n`);
    process.exit(1);
  });
}
