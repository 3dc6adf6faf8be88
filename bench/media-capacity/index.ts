/**
 * Media capacity suite (run by bench/run.mjs, or alone):
 *   node -r ./bench/support/register.cjs bench/media-capacity/index.ts [--out file.json] [--quick]
 *        [--targets media,rtpengine] [--modes transcode,passthrough] [--calls 10,20] [--window-s 10]
 * For each target and mode it climbs a ladder of concurrent calls and records CPU, memory, loss, latency and
 * event-loop lag per step; the capacity is the largest N that passed (0 % loss, p99 <= 10 ms each way).
 */
import { writeFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { runStep, type StepResult } from './capacity-step';
import { GeneratorProcess } from './generator-rpc';
import { MediaTarget } from './media-target';
import { RtpengineTarget } from './rtpengine-target';
import type { BridgeTarget } from './bridge-target';
import type { BenchMode } from './wa-generator';

const HOST = '127.0.0.1';

interface Args {
  out?: string;
  quick: boolean;
  targets: string[];
  modes: BenchMode[];
  calls?: number[];
  windowS: number;
  warmupS: number;
  prof: boolean;
  rtpengineLog?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { quick: false, targets: ['media', 'rtpengine'], modes: ['transcode', 'passthrough'], windowS: 10, warmupS: 3, prof: false };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = (): string => argv[++i] ?? '';
    if (k === '--out') a.out = v();
    else if (k === '--quick') a.quick = true;
    else if (k === '--prof') a.prof = true;
    else if (k === '--rtpengine-log') a.rtpengineLog = v();
    else if (k === '--targets') a.targets = v().split(',');
    else if (k === '--modes') a.modes = v().split(',') as BenchMode[];
    else if (k === '--calls') a.calls = v().split(',').map(Number);
    else if (k === '--window-s') a.windowS = Number(v());
    else if (k === '--warmup-s') a.warmupS = Number(v());
  }
  return a;
}

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function fmtStep(r: StepResult): string {
  const d = (x: StepResult['waToPbx']): string => `loss ${x.lossPct.toFixed(2)}% p50 ${x.latencyP50Ms.toFixed(1)} p99 ${x.latencyP99Ms.toFixed(1)} ms (${x.latencySamples})`;
  const lag = r.eventLoopLagMs ? ` lag p99 ${r.eventLoopLagMs.p99.toFixed(1)} ms` : '';
  return `  ${r.target} ${r.mode} N=${r.calls}${r.setupRetries ? ` (retried ${r.setupRetries})` : ""}: cpu ${r.cpuPct.toFixed(1)}% (${r.cpuPctPerCall.toFixed(3)}%/call) rss ${r.rssMb.toFixed(0)} MB (${r.rssPerCallKb.toFixed(0)} kB/call) | WA->PBX ${d(r.waToPbx)} | PBX->WA ${d(r.pbxToWa)}${lag} | gen cpu ${r.generatorCpuPct.wa.toFixed(0)}/${r.generatorCpuPct.pbx.toFixed(0)}% drops ${r.targetUdpDrops}/${r.generatorUdpDrops} ${r.pass ? 'PASS' : `FAIL ${r.failures.join(', ')}`}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  Logger.overrideLogger(false); // the bus client's Nest logger would print to stdout
  const wa = GeneratorProcess.start(join(__dirname, 'wa-generator.ts'), 'wa-generator');
  const pbx = GeneratorProcess.start(join(__dirname, 'pbx-generator.ts'), 'pbx-generator');
  const steps: StepResult[] = [];
  try {
    for (const t of args.targets) {
      const target: BridgeTarget =
        t === 'media' ? new MediaTarget({ host: HOST, portMin: 54000, portMax: 57999 }) : new RtpengineTarget({ host: HOST, portMin: 44000, portMax: 47999, ...(args.rtpengineLog ? { logLevel: 7, logFile: args.rtpengineLog } : {}) });
      for (const mode of args.modes) {
        for (const calls of args.calls ?? [10]) {
          const r = await runStep({ target, wa, pbx, mode, calls, host: HOST, pbxPortMin: 50000, pbxPortMax: 53999, warmupMs: args.warmupS * 1000, windowMs: args.windowS * 1000, log, ...(args.prof ? { profileFile: join(tmpdir(), `media-${mode}-${calls}.cpuprofile`) } : {}) });
          log(fmtStep(r));
          steps.push(r);
        }
      }
      await target.dispose();
    }
  } finally {
    await Promise.all([wa.stop(), pbx.stop()]);
  }
  const out = { suite: 'media-capacity', steps };
  if (args.out) writeFileSync(args.out, JSON.stringify(out, null, 2));
}

main().catch((err: unknown) => {
  process.stderr.write(`media-capacity failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
