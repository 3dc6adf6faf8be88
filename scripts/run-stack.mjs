#!/usr/bin/env node
// `npm start`: runs the whole gateway on this machine from the built dist/ (run `npm run build` first):
// a private Redis (unless one already answers at REDIS_URL), the WhatsApp Cloud API emulator (unless
// WHATSAPP_GRAPH_BASE_URL points at Meta), the media app and the signalling app. Waits for every health
// endpoint, prints where things are, and stops everything on Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const env = { ...process.env };
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
    if (await check()) return;
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

function start(name, cmd, args) {
  const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push({ name, child });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log(`${name} exited (${code ?? signal}); stopping the stack`);
      void stop(1);
    }
  });
  return child;
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const { child } of [...children].reverse()) child.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 1500));
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

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
  const apps = [];
  if (!usesMeta) apps.push(['wa-emulator', 'dist/apps/wa-emulator/src/main.js', env.EMULATOR_HTTP_PORT ?? '8090']);
  apps.push(['media', 'dist/apps/media/src/main.js', env.MEDIA_HTTP_PORT ?? '8081']);
  apps.push(['signalling', 'dist/apps/signalling/src/main.js', env.SIGNALLING_HTTP_PORT ?? '8080']);
  for (const [name, file, port] of apps) {
    start(name, process.execPath, ['--enable-source-maps', file]);
    await waitFor(`${name} health`, () => healthy(`http://127.0.0.1:${port}/health`), 20000);
    log(`${name} healthy: http://127.0.0.1:${port}/health`);
  }
  log('gateway running. Ctrl-C stops everything.');
  if (!usesMeta) log('emulator control API: http://127.0.0.1:8090/emulator (see apps/wa-emulator/README.md)');
}

main().catch((err) => {
  process.stderr.write(`[run-stack] ${err.message}\n`);
  void stop(1);
});
