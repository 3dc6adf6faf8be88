// Webhook ingest: one signalling process alone (child process, its own Redis, no media app, no SIP) takes
// signed webhooks from a generator process at rising fixed rates. Per step: ack latency (generator side),
// achieved rate, CPU of the signalling process per webhook, and whether every acked webhook was processed
// (its de-dup key is in Redis) and how long after the last ack that took.
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cpuSeconds, freePort, httpOk, ROOT, sleep, startProcess, startRedis, startTsApp, waitFor } from './lib/proc.mjs';
import { round } from './lib/stats.mjs';

const SECRET = 'bench-app-secret-0123456789';
const PREFIX = 'ingest';

function runGenerator(options) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench', 'signalling', 'ingest-generator.mjs'), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1))) : reject(new Error(`ingest generator exited ${code}: ${err.slice(-500)}`))));
  });
}

/** The generator's ack percentiles, to 0.01 ms. */
const roundedAckMs = (g) => Object.fromEntries(Object.entries(g.ackMs).map(([k, v]) => [k, round(v, 2)]));

/** Keys the step's webhooks should leave: one de-dup key each, plus an early-terminate marker per terminate. */
async function processedKeys(redis) {
  let cursor = '0';
  let n = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${PREFIX}:webhooks:seen:*`, 'COUNT', 5000);
    n += batch.length;
    cursor = next;
  } while (cursor !== '0');
  return n;
}

/**
 * The same generator at the same rates against bare node:http (floor-server.mjs): what the machine, Node's HTTP
 * stack and the generator cost by themselves, so a missed ack target can be read as ours or the platform's.
 */
async function runFloor({ logDir, rates, seconds, log }) {
  const port = await freePort();
  const server = startProcess({ name: 'floor', command: process.execPath, args: [join(ROOT, 'bench', 'signalling', 'floor-server.mjs'), String(port)], logFile: join(logDir, 'ingest', 'floor.log') });
  const steps = [];
  try {
    const url = `http://127.0.0.1:${port}/webhooks/whatsapp`;
    await waitFor('floor server', () => httpOk(`http://127.0.0.1:${port}/`), { proc: server, timeoutMs: 10_000 });
    await runGenerator({ url, secret: SECRET, rate: 500, seconds: 2 });
    for (const rate of rates) {
      const cpu0 = cpuSeconds(server.pid);
      const g = await runGenerator({ url, secret: SECRET, rate, seconds });
      const cpu = cpuSeconds(server.pid) - cpu0;
      const step = {
        targetRate: rate,
        achievedRate: round(g.achievedRate, 0),
        notSent: g.dropped,
        errors: g.errors,
        ackMs: roundedAckMs(g),
        serverCpuUsPerRequest: round((cpu * 1e6) / Math.max(1, g.ok), 0),
      };
      log(`  floor (bare node:http) ${rate}/s: achieved ${step.achievedRate}/s, ack p50 ${step.ackMs.p50} p99 ${step.ackMs.p99} ms, ${step.serverCpuUsPerRequest} µs CPU/request`);
      steps.push(step);
    }
  } finally {
    await server.stop();
  }
  return steps;
}

export async function runWebhookIngest({ logDir, rates, seconds = 8, log = () => undefined, logLevel = 'info', nodeArgs = [] }) {
  const redisProc = await startRedis(join(logDir, 'ingest'));
  const port = await freePort();
  const signalling = startTsApp({
    name: 'signalling',
    entry: 'apps/signalling/src/main.ts',
    nodeArgs,
    logFile: join(logDir, 'ingest', 'signalling.log'),
    env: {
      REDIS_URL: redisProc.url,
      REDIS_KEY_PREFIX: PREFIX,
      LOG_LEVEL: logLevel,
      SIGNALLING_HTTP_PORT: String(port),
      SIGNALLING_API_TOKEN: 'bench-api-token-0123456789',
      WHATSAPP_APP_SECRET: SECRET,
      WHATSAPP_GRAPH_BASE_URL: 'http://127.0.0.1:9',
      PBX_UDP_PORT: '0',
      PBX_TCP_PORT: '0',
    },
  });
  const { default: Redis } = await import('ioredis');
  const redis = new Redis(redisProc.port, '127.0.0.1');
  const steps = [];
  try {
    await waitFor('signalling health', () => httpOk(`http://127.0.0.1:${port}/health`), { proc: signalling, timeoutMs: 60_000 });
    const url = `http://127.0.0.1:${port}/webhooks/whatsapp`;
    log('  ingest: warm-up 3 s at 500/s');
    await runGenerator({ url, secret: SECRET, rate: 500, seconds: 3 });
    for (const rate of rates) {
      const keysBefore = await processedKeys(redis);
      const cpu0 = cpuSeconds(signalling.pid);
      const redisCpu0 = cpuSeconds(redisProc.proc.pid);
      const g = await runGenerator({ url, secret: SECRET, rate, seconds });
      const ackedAt = performance.now();
      const expected = g.ok + g.terminatesOk; // every webhook: its de-dup key; an unknown-call terminate: + its marker
      let processed = 0;
      const until = Date.now() + 30_000;
      while (Date.now() < until) {
        processed = (await processedKeys(redis)) - keysBefore;
        if (processed >= expected) break;
        await sleep(100);
      }
      const drainS = (performance.now() - ackedAt) / 1000;
      const cpu = cpuSeconds(signalling.pid) - cpu0;
      const redisCpu = cpuSeconds(redisProc.proc.pid) - redisCpu0;
      const step = {
        targetRate: rate,
        achievedRate: round(g.achievedRate, 0),
        sent: g.sent,
        ok: g.ok,
        errors: g.errors,
        errorKinds: g.errorKinds,
        notSent: g.dropped,
        ackMs: roundedAckMs(g),
        allProcessed: processed >= expected,
        processedAfterLastAckS: round(drainS, 2),
        signallingCpuUsPerWebhook: round((cpu * 1e6) / Math.max(1, g.ok), 0),
        signallingCoreShare: round(cpu / (g.elapsedS + drainS), 2),
        redisCpuUsPerWebhook: round((redisCpu * 1e6) / Math.max(1, g.ok), 0),
      };
      log(`  ingest ${rate}/s: achieved ${step.achievedRate}/s, ack p50 ${step.ackMs.p50} p99 ${step.ackMs.p99} ms, errors ${g.errors}${g.errors ? ` ${JSON.stringify(g.errorKinds)}` : ''}, not sent ${g.dropped}, processed ${step.allProcessed ? 'all' : `${processed}/${expected}`} (+${step.processedAfterLastAckS} s), ${step.signallingCpuUsPerWebhook} µs CPU/webhook`);
      steps.push(step);
      if (g.dropped > 0 || g.achievedRate < rate * 0.9) break; // saturated: higher rates say nothing new
    }
  } finally {
    redis.disconnect();
    await signalling.stop();
    await redisProc.proc.stop();
  }
  // the floor at every rate the app was offered, and at least up to the target's 3,000/s
  const floorRates = rates.filter((r) => r <= Math.max(3000, steps.at(-1)?.targetRate ?? 0));
  const floor = await runFloor({ logDir, rates: floorRates, seconds, log });
  const passing = steps.filter((s) => s.errors === 0 && s.notSent === 0 && s.allProcessed && s.ackMs.p99 !== null && s.ackMs.p99 <= 10 && s.achievedRate >= s.targetRate * 0.98);
  const best = passing.at(-1);
  return {
    steps,
    sustainedWebhooksPerS: best?.targetRate ?? 0,
    ackP99MsAtSustained: best?.ackMs.p99 ?? null,
    maxAchievedRate: Math.max(0, ...steps.map((s) => s.achievedRate)),
    floor,
  };
}
