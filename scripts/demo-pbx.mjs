// The demo PBX `npm start` runs when no trunk is configured: Kamailio (registrar + proxy, digest auth for
// the gateway's trunk user) and a baresip desk phone, extension 1001, that answers by itself and plays a
// short generated recording. Configs, logs and the phone's recordings go to .run/demo-pbx/ (git-ignored).
// The config text comes from the generators in libs/testing (kamailio-config.ts, baresip-config.ts), the
// same ones the e2e tests use; tsconfig.build.json compiles those two pure files into dist/.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const HOST = '127.0.0.1';
export const DEMO_EXTENSION = '1001';
/** What the demo PBX writes in its directory (removed at each start, nothing else). */
const OWN_FILES = ['baresip', 'baresip.log', 'chime.wav', 'kamailio.cfg', 'kamailio.log', 'kamailio.ctl'];
const KAMAILIO_MODULE_DIRS = ['/usr/lib/x86_64-linux-gnu/kamailio/modules', '/usr/lib/aarch64-linux-gnu/kamailio/modules', '/usr/lib/kamailio/modules'];
const BARESIP_MODULES_DIR = '/usr/lib/baresip/modules';

/** The path of `cmd` on PATH, else in /usr/sbin (Kamailio's tools live there, off a regular user's PATH). */
function which(cmd) {
  return new Promise((resolve) =>
    execFile('sh', ['-c', `command -v ${cmd}`], (err, stdout) => resolve(!err && stdout.trim() ? stdout.trim() : existsSync(`/usr/sbin/${cmd}`) ? `/usr/sbin/${cmd}` : undefined)),
  );
}

const bin = {};

/** Missing programs of the demo PBX (empty when it can run). */
export async function demoPbxMissing() {
  const missing = [];
  for (const cmd of ['kamailio', 'kamcmd', 'baresip']) {
    bin[cmd] = await which(cmd);
    if (!bin[cmd]) missing.push(cmd);
  }
  if (!KAMAILIO_MODULE_DIRS.some((d) => existsSync(d))) missing.push('kamailio modules');
  if (!existsSync(join(BARESIP_MODULES_DIR, 'g711.so'))) missing.push('baresip modules');
  return missing;
}

function udpFree(port) {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind(port, HOST, () => s.close(() => resolve(true)));
  });
}

function tcpFree(port) {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/** `preferred` when free for TCP and UDP, else the first free port after it. */
async function freePort(preferred, taken) {
  for (let p = preferred; p < preferred + 500; p++) {
    if (!taken.has(p) && (await tcpFree(p)) && (await udpFree(p))) {
      taken.add(p);
      return p;
    }
  }
  throw new Error(`no free port in ${preferred}-${preferred + 499}`);
}

/** A block of `n` consecutive free UDP ports at or above `from`. */
async function freeUdpBlock(from, n, taken) {
  for (let base = from; base < from + 2000; base += n) {
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = !taken.has(p) && (await udpFree(p));
    if (ok) {
      for (let p = base; p < base + n; p++) taken.add(p);
      return base;
    }
  }
  throw new Error(`no ${n} free UDP ports from ${from}`);
}

/**
 * The phone's "short recording": a door-chime motif (C5 E5 G5 C6) played four times with pauses, 8 kHz
 * mono 16-bit PCM as baresip's aufile wants for G.711. About 8 s.
 */
export const CHIME_HZ = [523.25, 659.25, 783.99, 1046.5];
export function writeChimeWav(path) {
  const rate = 8000;
  const notes = [];
  for (let rep = 0; rep < 4; rep++) {
    for (const [i, f] of CHIME_HZ.entries()) notes.push([f, i === CHIME_HZ.length - 1 ? 0.6 : 0.3]);
    notes.push([0, 0.5]);
  }
  const total = Math.round(notes.reduce((s, [, d]) => s + d, 0) * rate);
  const pcm = Buffer.alloc(total * 2);
  let i = 0;
  for (const [f, d] of notes) {
    const n = Math.round(d * rate);
    for (let k = 0; k < n; k++, i++) {
      const envelope = Math.min(1, k / 80, (n - k) / 80); // 10 ms fade in/out: no clicks
      pcm.writeInt16LE(f ? Math.round(12000 * envelope * Math.sin((2 * Math.PI * f * k) / rate)) : 0, i * 2);
    }
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(pcm.length, 40);
  writeFileSync(path, Buffer.concat([header, pcm]));
  return path;
}

function kamcmdLookup(ctlSocket, user) {
  return new Promise((resolve) => {
    execFile(bin.kamcmd ?? 'kamcmd', ['-s', `unix:${ctlSocket}`, 'ul.lookup', 'location', `s:${user}`], { timeout: 2000 }, (err, stdout, stderr) => resolve(`${stdout}${stderr}${err && !stdout ? err.message : ''}`));
  });
}

/**
 * Writes the configs and starts Kamailio, then the phone, through `start(name, cmd, args, { logFile })`
 * (the caller owns the processes and stops them). Resolves once the phone is registered, with the
 * environment that points the gateway's trunk and route at this PBX.
 */
export async function startDemoPbx({ root, dir = join(root, '.run', 'demo-pbx'), businessNumber, gatewaySipPort, start, waitFor }) {
  // only what an earlier start left here goes (the directory may be one the operator named: DEMO_PBX_DIR)
  for (const own of OWN_FILES) rmSync(join(dir, own), { recursive: true, force: true });
  mkdirSync(join(dir, 'baresip', 'rec'), { recursive: true });
  const { buildKamailioConfig, parseUlLookup } = require(join(root, 'dist/libs/testing/src/kamailio-config.js'));
  const { buildBaresipConfig, buildBaresipAccount } = require(join(root, 'dist/libs/testing/src/baresip-config.js'));

  const taken = new Set([gatewaySipPort]);
  const kamailioPort = await freePort(5060, taken);
  const password = randomBytes(9).toString('hex');
  const ctlSocket = join(dir, 'kamailio.ctl');
  writeFileSync(
    join(dir, 'kamailio.cfg'),
    buildKamailioConfig({
      host: HOST,
      port: kamailioPort,
      udp: true,
      tcp: true,
      authUsers: [{ user: 'gw', password }],
      aliases: [],
      routes: {},
      ctlSocketPath: ctlSocket,
      modulesDir: KAMAILIO_MODULE_DIRS.find((d) => existsSync(d)),
      debugLevel: 2,
    }),
  );
  start('kamailio', bin.kamailio ?? 'kamailio', ['-DD', '-E', '-f', join(dir, 'kamailio.cfg'), '-Y', dir, '-m', '32', '-M', '4'], { logFile: join(dir, 'kamailio.log') });
  await waitFor('kamailio', async () => /AOR not found|Address:/i.test(await kamcmdLookup(ctlSocket, DEMO_EXTENSION)), 10000);

  const wav = writeChimeWav(join(dir, 'chime.wav'));
  const rtpBase = await freeUdpBlock(10000, 16, taken);
  writeFileSync(
    join(dir, 'baresip', 'config'),
    buildBaresipConfig({
      host: HOST,
      sipPort: await freePort(5062, taken),
      transport: 'udp',
      wavPath: wav,
      recordDir: join(dir, 'baresip', 'rec'),
      ctrlPort: await freePort(4444, taken),
      consPort: await freePort(5555, taken),
      rtpPortMin: rtpBase,
      rtpPortMax: rtpBase + 15,
      modulesDir: BARESIP_MODULES_DIR,
    }),
  );
  writeFileSync(
    join(dir, 'baresip', 'accounts'),
    buildBaresipAccount({
      user: DEMO_EXTENSION,
      registrar: { host: HOST, port: kamailioPort },
      transport: 'udp',
      answerMode: 'auto',
      codecs: ['PCMU', 'PCMA'],
      registerIntervalS: 300,
    }),
  );
  start('desk phone', bin.baresip ?? 'baresip', ['-f', join(dir, 'baresip')], { logFile: join(dir, 'baresip.log') });
  await waitFor('desk phone registration', async () => parseUlLookup(await kamcmdLookup(ctlSocket, DEMO_EXTENSION)).length > 0, 10000);

  const trunk = {
    name: 'demo',
    hosts: [`${HOST}:${kamailioPort}`],
    transport: 'udp',
    username: 'gw',
    password,
    fromUser: 'gw',
    fromDomain: HOST,
    codecs: ['PCMU', 'PCMA'],
    allowFrom: [],
  };
  const route = { businessNumber, destinations: [{ uri: `sip:${DEMO_EXTENSION}@${HOST}`, trunk: 'demo', ringTimeoutMs: 25000 }], onFailure: 'reject' };
  return {
    dir,
    kamailio: `${HOST}:${kamailioPort}`,
    env: { PBX_TRUNKS: JSON.stringify([trunk]), PBX_ROUTES: JSON.stringify([route]) },
  };
}
