// The whole path for the call benches, every part its own process: a private Redis, the media app, the
// signalling app (the gateway: these three are "ours"), the WhatsApp emulator (Meta's side) and SIPp as the
// PBX behind a UDP trunk (the load generators). Apps run from source (bench/support/register.cjs).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { freePort, httpOk, loadAverage, ROOT, startProcess, startRedis, startTsApp, udpSockets, waitFor } from './proc.mjs';

export const BUSINESS = '15550001111';
export const API_TOKEN = 'bench-api-token-0123456789';
export const PREFIX = 'bench';
const SCENARIO_DIR = join(ROOT, 'test', 'sipp');

/** Keys that outlive a call by design (de-dup markers with a TTL, parked webhooks, permissions, contacts, the processes' heartbeats). */
const NOT_CALL_STATE = /:webhooks:seen:|:webhooks:dead-letter$|:perm:|:contacts(:names)?$|:media:instance:|:signalling:instances?(:|$)/;

/**
 * Several media apps as one process-like handle: CPU and RSS summed (so per-call figures compare with one
 * media app), stop() stops them all; `pid` is the first one's.
 */
function mediaGroup(procs) {
  return {
    name: 'media',
    pid: procs[0].pid,
    procs,
    get alive() {
      return procs.every((p) => p.alive);
    },
    cpu: () => procs.reduce((sum, p) => sum + p.cpu(), 0),
    rss: () => procs.reduce((sum, p) => sum + p.rss(), 0),
    stop: async () => {
      for (const p of procs) await p.stop();
    },
  };
}

/** UDP sockets held by the gateway's media apps (all of them). */
export function mediaUdpSockets(gw) {
  return gw.medias.reduce((sum, m) => sum + udpSockets(m.proc.pid), 0);
}

/**
 * The gateway's apps log at `logLevel` (info, as in production); the emulator, a load generator, at warn.
 * `mediaInstances` > 1 runs that many media apps (media.instanceId media-1.., RTP range split between them)
 * behind the one signalling app (signalling.mediaInstances). Media apps start with --single-threaded-gc, as
 * `npm start` and the compose file start them; `nodeArgs.media` comes after it (`--no-single-threaded-gc` undoes it).
 */
export async function startGateway({ logDir, logLevel = 'info', nodeArgs = {}, sippScenario = 'uas-pbx-answers-expect-200.xml', sippArgs = [], mediaIceTimeoutMs = 60_000, extraEnv = {}, mediaInstances = 1 }) {
  const started = [];
  const stopAll = async () => {
    for (const p of started.reverse()) await p.stop().catch(() => undefined);
  };
  try {
    const redis = await startRedis(logDir);
    started.push(redis.proc);
    const [sigPort, mediaPort, emuPort, sipPort, sippPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
    const sippMediaPort = await freePort();
    const sipp = startProcess({
      name: 'sipp',
      command: 'sipp',
      args: [
        '-sf', join(SCENARIO_DIR, sippScenario), '-i', '127.0.0.1', '-p', String(sippPort), '-mi', '127.0.0.1', '-mp', String(sippMediaPort),
        '-nostdin', '-trace_stat', '-stf', join(logDir, 'sipp-stats.csv'), '-fd', '1', '-trace_err', '-error_file', join(logDir, 'sipp-errors.log'),
        '-max_socket', '60000', ...sippArgs,
      ],
      logFile: join(logDir, 'sipp.log'),
    });
    started.push(sipp);
    await waitFor('SIPp UAS bound', () => udpSockets(sipp.pid) > 0, { proc: sipp, timeoutMs: 5000 });
    const env = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: PREFIX,
      LOG_LEVEL: logLevel,
      SIGNALLING_HTTP_PORT: String(sigPort),
      SIGNALLING_API_TOKEN: API_TOKEN,
      MEDIA_HTTP_PORT: String(mediaPort),
      MEDIA_ICE_INTERFACE_ADDRESS: '127.0.0.1',
      MEDIA_ICE_CONNECT_TIMEOUT_MS: String(mediaIceTimeoutMs),
      EMULATOR_HTTP_PORT: String(emuPort),
      EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${sigPort}/webhooks/whatsapp`,
      EMULATOR_USER_ICE_ADDRESS: '127.0.0.1',
      WHATSAPP_GRAPH_BASE_URL: `http://127.0.0.1:${emuPort}`,
      WHATSAPP_BUSINESS_NUMBER: BUSINESS,
      PBX_UDP_PORT: String(sipPort),
      PBX_TCP_PORT: '0',
      PBX_TRUNKS: JSON.stringify([
        { name: 'pbx', hosts: [`127.0.0.1:${sippPort}`], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '127.0.0.1', codecs: ['PCMU', 'PCMA'], allowFrom: [], optionsIntervalMs: 0 },
      ]),
      PBX_ROUTES: JSON.stringify([{ businessNumber: BUSINESS, destinations: [{ uri: `sip:1001@127.0.0.1:${sippPort}`, trunk: 'pbx', ringTimeoutMs: 20000 }], onFailure: 'reject' }]),
      ...extraEnv,
    };
    const instanceIds = mediaInstances > 1 ? Array.from({ length: mediaInstances }, (_, i) => `media-${i + 1}`) : [''];
    if (mediaInstances > 1) env.SIGNALLING_MEDIA_INSTANCES = JSON.stringify(instanceIds);
    const medias = [];
    const rtpSpan = Math.floor(10_000 / instanceIds.length);
    for (const [i, instanceId] of instanceIds.entries()) {
      const port = i === 0 ? mediaPort : await freePort();
      const own = instanceId === '' ? env : { ...env, MEDIA_INSTANCE_ID: instanceId, MEDIA_HTTP_PORT: String(port), MEDIA_RTP_PORT_MIN: String(20_000 + i * rtpSpan), MEDIA_RTP_PORT_MAX: String(20_000 + (i + 1) * rtpSpan - 1) };
      const proc = startTsApp({ name: instanceId || 'media', nodeArgs: ['--single-threaded-gc', ...(nodeArgs.media ?? [])], entry: 'apps/media/src/main.ts', env: own, logFile: join(logDir, `${instanceId || 'media'}.log`) });
      started.push(proc);
      medias.push({ proc, url: `http://127.0.0.1:${port}` });
    }
    const media = mediaGroup(medias.map((m) => m.proc));
    const emulator = startTsApp({ name: 'emulator', nodeArgs: nodeArgs.emulator ?? [], entry: 'apps/wa-emulator/src/main.ts', env: { ...env, LOG_LEVEL: 'warn' }, logFile: join(logDir, 'emulator.log') });
    started.push(emulator);
    for (const m of medias) await waitFor(`${m.proc.name} health`, () => httpOk(`${m.url}/health`), { proc: m.proc, timeoutMs: 60_000 });
    const signalling = startTsApp({ name: 'signalling', nodeArgs: nodeArgs.signalling ?? [], entry: 'apps/signalling/src/main.ts', env, logFile: join(logDir, 'signalling.log') });
    started.push(signalling);
    await waitFor('emulator health', () => httpOk(`http://127.0.0.1:${emuPort}/health`), { proc: emulator, timeoutMs: 60_000 });
    await waitFor('signalling health', () => httpOk(`http://127.0.0.1:${sigPort}/health`), { proc: signalling, timeoutMs: 60_000 });
    const { default: Redis } = await import('ioredis');
    const redisClient = new Redis(redis.port, '127.0.0.1');
    started.push({ stop: async () => redisClient.disconnect() });
    return {
      redisClient,
      env,
      redis,
      sipp,
      media,
      medias,
      signalling,
      emulator,
      emulatorUrl: `http://127.0.0.1:${emuPort}`,
      signallingUrl: `http://127.0.0.1:${sigPort}`,
      mediaUrl: `http://127.0.0.1:${mediaPort}`,
      signallingLog: join(logDir, 'signalling.log'),
      ours: { signalling, media, redis: redis.proc },
      generators: { emulator, sipp },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** CPU seconds of each process now (ours and the generators). */
export function cpuSnapshot(gw) {
  const all = { ...gw.ours, ...gw.generators };
  return Object.fromEntries(Object.entries(all).map(([k, p]) => [k, p.cpu()]));
}

// the driver's requests to the emulator go over keep-alive node:http (global fetch costs ~5x the CPU, and
// this process shares the machine with the gateway)
const agent = new HttpAgent({ keepAlive: true, maxSockets: 128 });

function httpJson(url, method, body, headers = {}, retried = false) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(url, { method, agent, timeout: 30_000, headers: { ...headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${url}: no answer in 30 s`)));
    req.on('error', (err) => {
      // a kept-alive socket the server closed as this request went out on it (its 5 s idle timeout): the
      // request never reached the server, so it is sent once more on a fresh socket (as Node's docs advise)
      if (!retried && req.reusedSocket && err.code === 'ECONNRESET') resolve(httpJson(url, method, body, headers, true));
      else reject(err);
    });
    req.end(payload);
  });
}

export async function emu(gw, method, path, body) {
  const { status, text } = await httpJson(`${gw.emulatorUrl}${path}`, method, body);
  if (status < 200 || status >= 300) throw new Error(`emulator ${method} ${path} -> ${status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

export async function api(gw, path) {
  const res = await fetch(`${gw.signallingUrl}${path}`, { headers: { authorization: `Bearer ${API_TOKEN}` }, signal: AbortSignal.timeout(30_000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`signalling GET ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/**
 * What of any call the gateway still holds: active calls (API), WhatsApp legs (media /health), UDP sockets
 * the media app holds beyond its idle baseline (RTP ports and WebRTC legs), Redis keys of call state other
 * than CDRs and the ended index.
 */
export async function leakReport(gw, mediaUdpBaseline) {
  const calls = await api(gw, '/v1/calls');
  let waLegs = 0;
  for (const m of gw.medias) waLegs += (await (await fetch(`${m.url}/health`)).json()).legs;
  const keys = await gw.redisClient.keys(`${PREFIX}:*`);
  const callKeys = keys.filter((k) => k.startsWith(`${PREFIX}:call:`));
  const aliasKeys = keys.filter((k) => k.startsWith(`${PREFIX}:wacall:`));
  const pipeline = gw.redisClient.pipeline();
  for (const k of callKeys) pipeline.hget(k, 'state');
  for (const k of aliasKeys) pipeline.get(k);
  const replies = ((await pipeline.exec()) ?? []).map(([, value]) => value);
  const states = new Map(callKeys.map((k, i) => [k, replies[i]]));
  // an ended call's record and its wacall alias are its CDR
  const aliasOf = new Map(aliasKeys.map((k, i) => [k, `${PREFIX}:call:${replies[callKeys.length + i]}`]));
  const callState = [];
  let cdrs = 0;
  for (const key of keys) {
    if (NOT_CALL_STATE.test(key) || key === `${PREFIX}:calls:ended`) continue;
    if (states.get(key) === 'ended' || states.get(aliasOf.get(key)) === 'ended') {
      cdrs++;
      continue;
    }
    callState.push(key);
  }
  return {
    activeCalls: calls.active.length,
    mediaWaLegs: waLegs,
    mediaUdpSocketsOpen: mediaUdpSockets(gw) - mediaUdpBaseline,
    callStateKeys: callState.length,
    callStateKeySample: callState.slice(0, 5),
    cdrKeys: cdrs,
    redisKeys: keys.length,
  };
}

export function isClean(r) {
  return r.activeCalls === 0 && r.mediaWaLegs === 0 && r.mediaUdpSocketsOpen <= 0 && r.callStateKeys === 0;
}

export { loadAverage };
