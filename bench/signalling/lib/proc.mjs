// Child processes of the signalling benches (apps, Redis, SIPp, generators) and what /proc says about them:
// CPU seconds, resident memory, UDP sockets held. Only processes started here are ever stopped, by pid.
import { spawn, execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { createSocket } from 'node:dgram';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const REGISTER = join(ROOT, 'bench', 'support', 'register.cjs');
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100; // Linux's USER_HZ everywhere that matters
  }
})();

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A TCP port that was free a moment ago (and its UDP twin, for SIP). */
export async function freePort() {
  for (let i = 0; i < 50; i++) {
    const port = await new Promise((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise((resolve) => {
      const u = createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
  throw new Error('no free TCP+UDP port');
}

/** CPU seconds (user + system, all threads) of a live process. */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

export function rssMiB(pid) {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}

/** UDP sockets (IPv4 and IPv6) the process holds open. */
export function udpSockets(pid) {
  const mine = new Set();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) mine.add(m[1]);
    } catch {
      // the fd closed between readdir and readlink
    }
  }
  let n = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 9 && mine.has(cols[9])) n++;
    }
  }
  return n;
}

export function loadAverage() {
  const [one, five, fifteen] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
  return { one, five, fifteen };
}

/**
 * A child process with its output in `logFile`. `exited` settles on exit; stop() sends SIGTERM, then
 * SIGKILL after `graceMs`. Only this child is signalled (its pid), never a name.
 */
export function startProcess({ name, command, args, env, logFile, cwd = ROOT }) {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exitInfo;
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once('error', (err) => {
      exitInfo = { code: null, signal: null, error: err.message };
      resolve(exitInfo);
    });
  });
  return {
    name,
    pid: child.pid,
    logFile,
    exited,
    get alive() {
      return exitInfo === undefined;
    },
    cpu: () => (exitInfo === undefined ? cpuSeconds(child.pid) : NaN),
    rss: () => (exitInfo === undefined ? rssMiB(child.pid) : NaN),
    signal: (sig) => {
      if (exitInfo === undefined) child.kill(sig);
    },
    async stop(graceMs = 3000, sig = 'SIGTERM') {
      if (exitInfo !== undefined) return exitInfo;
      child.kill(sig);
      const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
  };
}

/** One of the gateway's apps (or any TypeScript entry) run from source through bench/support/register.cjs (swc, no source maps). */
export function startTsApp({ name, entry, env, logFile, nodeArgs = [] }) {
  return startProcess({ name, command: process.execPath, args: [...nodeArgs, '-r', REGISTER, join(ROOT, entry)], env, logFile });
}

export async function waitFor(what, check, { timeoutMs = 30_000, everyMs = 100, proc } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    if (proc && !proc.alive) throw new Error(`${what}: ${proc.name} exited (see ${proc.logFile})`);
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (${last.message})` : ''}`);
}

export async function httpOk(url, headers = {}) {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(2000) });
  await res.arrayBuffer();
  return res.ok;
}

/** A private redis-server on a free port, no persistence. */
export async function startRedis(logDir) {
  const port = await freePort();
  const proc = startProcess({
    name: 'redis',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
    logFile: join(logDir, 'redis.log'),
  });
  await waitFor('redis', () => new Promise((resolve) => {
    const s = createConnection(port, '127.0.0.1');
    s.once('connect', () => {
      s.end();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  }), { proc });
  return { proc, port, url: `redis://127.0.0.1:${port}` };
}

/** Tiny RESP client for one-off commands (KEYS, SCAN, HGET, DBSIZE) without loading ioredis here. */
export async function redisCommand(port, ...args) {
  const { default: Redis } = await import('ioredis');
  const r = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    return await r.call(...args);
  } finally {
    r.disconnect();
  }
}
