// Soak: N short calls through the full path at a fixed rate, then the leak check: no active call (API), no
// WhatsApp leg (media /health) and no UDP socket beyond the media app's idle baseline, no Redis key of a
// call but its CDR (record and wacall alias), and the resident memory of the gateway's processes (signalling, media) back
// within 10 % of where it was after a warm-up. Redis keeps what it should (CDRs for 7 days, de-dup markers for
// 24 h): its memory is reported, not held to the 10 %. The SIP stack keeps an ended call's transactions for
// Timer D (32 s over UDP, RFC 3261 §17.1.1.2), so the memory check waits up to 60 s.
import { callStep, drained, UserPool } from './call-setup.mjs';
import { sleep } from './lib/proc.mjs';
import { mediaUdpSockets } from './lib/gateway.mjs';
import { round } from './lib/stats.mjs';

function rss(gw) {
  return { signalling: round(gw.signalling.rss(), 1), media: round(gw.media.rss(), 1) };
}

/**
 * V8 heap in use (prom-client's nodejs_heap_size_used_bytes on each app's /metrics), MiB: what the JS objects
 * hold, where RSS also counts heap pages V8 has not handed back yet. Reported next to RSS to tell the two apart.
 */
async function heapUsed(gw) {
  const read = async (url) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return round(Number(/^nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)/m.exec(text)?.[1] ?? NaN) / 1048576, 1);
  };
  let media = 0;
  for (const m of gw.medias) media += await read(m.url);
  return { signalling: await read(gw.signallingUrl), media: round(media, 1) };
}

async function redisMemory(gw) {
  const info = await gw.redisClient.info('memory');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
  return { usedMiB: round(used / 1048576, 1), rssMiB: round(gw.redis.proc.rss(), 1), keys: await gw.redisClient.dbsize() };
}

/** Waits up to `timeoutMs` for every process's RSS to be within `tolerance` of `base`; returns the last reading. */
async function rssSettled(gw, base, tolerance, timeoutMs) {
  const until = Date.now() + timeoutMs;
  let now = rss(gw);
  while (Date.now() < until) {
    now = rss(gw);
    if (Object.entries(base).every(([k, v]) => now[k] <= v * (1 + tolerance))) break;
    await sleep(1000);
  }
  return now;
}

export async function runSoak(gw, { calls, ratePerS, holdMs = 1000, log = () => undefined }) {
  const pool = new UserPool(gw);
  const mediaUdpBaseline = mediaUdpSockets(gw);
  const rssAtBoot = rss(gw);
  log(`  soak: warm-up 500 calls at ${ratePerS}/s`);
  await callStep(gw, pool, mediaUdpBaseline, { ratePerS, calls: 500, holdMs });
  await sleep(3000);
  const rssStart = rss(gw);
  const heapStart = await heapUsed(gw);
  const redisStart = await redisMemory(gw);
  log(`  soak: ${calls} calls at ${ratePerS}/s (RSS after warm-up ${JSON.stringify(rssStart)} MiB)`);
  const step = await callStep(gw, pool, mediaUdpBaseline, { ratePerS, calls, holdMs, log });
  const leak = await drained(gw, mediaUdpBaseline, 60_000);
  const rssEnd = await rssSettled(gw, rssStart, 0.1, 60_000);
  const heapEnd = await heapUsed(gw);
  const redisEnd = await redisMemory(gw);
  const rssWithin10Pct = Object.entries(rssStart).every(([k, v]) => rssEnd[k] <= v * 1.1);
  log(`  soak: ${step.ok}/${step.calls} ok, leftovers ${JSON.stringify(leak.report)}, RSS ${JSON.stringify(rssEnd)} MiB (start ${JSON.stringify(rssStart)}), V8 heap used ${JSON.stringify(heapEnd)} MiB (start ${JSON.stringify(heapStart)})`);
  return {
    calls: step.calls,
    ok: step.ok,
    failed: step.failed,
    failureReasons: step.failureReasons,
    ratePerS,
    holdMs,
    setupMs: step.setupMs,
    after: {
      activeCalls: leak.report.activeCalls,
      mediaWaLegs: leak.report.mediaWaLegs,
      mediaUdpSocketsOpen: leak.report.mediaUdpSocketsOpen,
      callStateKeys: leak.report.callStateKeys,
      cdrKeys: leak.report.cdrKeys,
    },
    nothingLeaked: leak.clean,
    rssMiB: { atBoot: rssAtBoot, afterWarmup: rssStart, afterSoak: rssEnd },
    rssWithin10Pct,
    heapUsedMiB: { afterWarmup: heapStart, afterSoak: heapEnd },
    redis: { afterWarmup: redisStart, afterSoak: redisEnd },
  };
}
