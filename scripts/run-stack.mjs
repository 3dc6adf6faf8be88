#!/usr/bin/env node
// `npm start`: runs the whole gateway on this machine from the built dist/ (run `npm run build` first):
// a private Redis (unless one already answers at REDIS_URL), a demo PBX when no trunk is configured
// (Kamailio + a baresip desk phone, see demo-pbx.mjs; DEMO_PBX=off skips it), the WhatsApp Cloud API
// emulator (unless WHATSAPP_GRAPH_BASE_URL points at Meta), the media app and the signalling app. Waits
// for every health endpoint, prints where things are, and stops everything on Ctrl-C (last started first).
import { spawn } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEMO_EXTENSION, demoPbxMissing, startDemoPbx } from './demo-pbx.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
// the demo's Ctrl-C: calls in progress get 5 s to end (production default: 30 s, signalling.drainTimeoutS)
env.SIGNALLING_DRAIN_TIMEOUT_S ??= '5';
let drainGraceMs = 10_000;
const redisUrl = new URL(env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const usesMeta = (env.WHATSAPP_GRAPH_BASE_URL ?? '').includes('graph.facebook.com');
const children = [];
let stopping = false;

function log(msg) {
  process.stdout.write(`[run-stack] ${msg}\n`);
}

function portOpen(host, port) {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

async function waitFor(what, check, timeoutMs) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (stopping) throw new Error(`stopped while waiting for ${what}`);
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} not ready within ${timeoutMs} ms`);
}

async function healthy(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

/**
 * Spawns a child of the stack; with `logFile` its output goes there instead of this terminal. Each child
 * leads its own process group, so Ctrl-C reaches only this script, which then stops them in order.
 */
function start(name, cmd, args, { logFile, extraEnv = {} } = {}) {
  const out = logFile ? openSync(logFile, 'a') : 'inherit';
  const child = spawn(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', out, out], detached: true });
  children.push({ name, child });
  child.on('error', (err) => {
    log(`${name} could not start: ${err.message}`);
    void stop(1);
  });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${code ?? signal}); stopping the stack`);
      void stop(1);
    }
  });
  return child;
}

function exitedWithin(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Stops the children last-started first (the apps before the phone, the phone before its registrar). */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const { name, child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    // signalling drains first: calls in progress go on up to signalling.drainTimeoutS, then end cleanly
    const graceMs = name === 'signalling' ? drainGraceMs : 3000;
    if (!(await exitedWithin(child, graceMs))) {
      log(`${name} did not stop within ${graceMs / 1000} s: SIGKILL`);
      killGroup(child);
      await exitedWithin(child, 1000);
    }
  }
  log('stopped');
  process.exit(code);
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

// whatever way this script ends, no child outlives it (an orderly stop() has stopped them already)
process.on('exit', () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) killGroup(child);
});

/** The gateway's configuration as the apps will read it (default.yaml, CONFIG_FILE, environment). */
function gatewayConfig() {
  const { loadConfig } = createRequire(import.meta.url)(join(root, 'dist/libs/config/src/index.js'));
  return loadConfig({ env });
}

/** With no trunk configured, a demo PBX to ring: its trunk and route go into the apps' environment. */
async function maybeStartDemoPbx(config) {
  if (config.pbx.trunks.length > 0) return undefined;
  if ((env.DEMO_PBX ?? '').toLowerCase() === 'off') {
    log('no PBX trunk configured and DEMO_PBX=off: calls are answered by the gateway itself (test tone)');
    return undefined;
  }
  const missing = await demoPbxMissing();
  if (missing.length > 0) {
    log(`no PBX trunk configured, and the demo PBX needs ${missing.join(', ')} (bash scripts/install-deps.sh run): calls are answered by the gateway itself (test tone)`);
    return undefined;
  }
  // DEMO_PBX_DIR: where the demo PBX keeps its configs, logs and the phone's recordings (each start replaces its own files there)
  const dir = env.DEMO_PBX_DIR ? resolve(env.DEMO_PBX_DIR) : undefined;
  const pbx = await startDemoPbx({ root, dir, businessNumber: config.whatsapp.businessNumber, gatewaySipPort: config.pbx.udpPort, start, waitFor });
  Object.assign(env, pbx.env);
  log(`demo PBX: Kamailio at ${pbx.kamailio}, desk phone ${DEMO_EXTENSION} registered (answers by itself, plays a chime); logs in ${pbx.dir.startsWith(`${root}/`) ? relative(root, pbx.dir) : pbx.dir}/`);
  return pbx;
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('SIGHUP', () => void stop(0));

async function main() {
  if (!existsSync(join(root, 'dist/apps/signalling/src/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
  const rHost = redisUrl.hostname;
  const rPort = Number(redisUrl.port || 6379);
  if (await portOpen(rHost, rPort)) {
    log(`using the Redis already listening at ${rHost}:${rPort}`);
  } else {
    log(`starting a private redis-server on ${rHost}:${rPort} (no persistence)`);
    start('redis', 'redis-server', ['--port', String(rPort), '--bind', rHost, '--save', '', '--appendonly', 'no']);
    await waitFor('redis', () => portOpen(rHost, rPort), 5000);
  }
  env.REDIS_URL = redisUrl.toString();
  const config = gatewayConfig();
  drainGraceMs = (config.signalling.drainTimeoutS + 5) * 1000;
  const pbx = await maybeStartDemoPbx(config);
  const apps = [];
  if (!usesMeta) apps.push(['wa-emulator', 'dist/apps/wa-emulator/src/main.js', config.emulator.httpPort]);
  // MEDIA_APPS=N: N media apps (media-1.., health ports from media.httpPort up, the RTP range split), e.g. one per core
  const mediaApps = Number(env.MEDIA_APPS ?? 1);
  if (!Number.isInteger(mediaApps) || mediaApps < 1 || mediaApps > 64) throw new Error(`MEDIA_APPS=${env.MEDIA_APPS}: a whole number from 1 to 64`);
  if (mediaApps === 1) apps.push(['media', 'dist/apps/media/src/main.js', config.media.httpPort]);
  else {
    const names = Array.from({ length: mediaApps }, (_, i) => `media-${i + 1}`);
    const span = Math.floor((config.media.rtpPortMax - config.media.rtpPortMin + 1) / mediaApps);
    for (const [i, name] of names.entries()) {
      const port = config.media.httpPort + i;
      if (port === config.signalling.httpPort || port === config.emulator.httpPort) throw new Error(`MEDIA_APPS=${mediaApps}: media health port ${port} is taken by another app (set MEDIA_HTTP_PORT lower or use fewer)`);
      const first = config.media.rtpPortMin + i * span;
      apps.push([name, 'dist/apps/media/src/main.js', port, { MEDIA_INSTANCE_ID: name, MEDIA_HTTP_PORT: String(port), MEDIA_RTP_PORT_MIN: String(first), MEDIA_RTP_PORT_MAX: String(first + span - 1) }]);
    }
    env.SIGNALLING_MEDIA_INSTANCES = JSON.stringify(names);
  }
  apps.push(['signalling', 'dist/apps/signalling/src/main.js', config.signalling.httpPort]);
  for (const [name, file, port, extraEnv] of apps) {
    // a media app collects garbage on its own thread: V8's background marking would take its core from the
    // packets (README "Several media apps"); the flag is refused in NODE_OPTIONS, so it goes here
    const nodeFlags = file.startsWith('dist/apps/media/') ? ['--enable-source-maps', '--single-threaded-gc'] : ['--enable-source-maps'];
    start(name, process.execPath, [...nodeFlags, file], { extraEnv });
    await waitFor(`${name} health`, () => healthy(`http://127.0.0.1:${port}/health`), 20000);
    log(`${name} healthy: http://127.0.0.1:${port}/health`);
  }
  log('gateway running. Ctrl-C stops everything.');
  if (!usesMeta) log(`emulator control API: http://127.0.0.1:${config.emulator.httpPort}/emulator (see apps/wa-emulator/README.md)`);
  if (pbx) log(`a WhatsApp user call rings desk phone ${DEMO_EXTENSION}; see README "Try it"`);
}

main().catch((err) => {
  process.stderr.write(`[run-stack] ${err.message}\n`);
  void stop(1);
});
