import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freeTcpPort, freeTcpUdpPort } from './free-port';
import { buildKamailioConfig, buildKamailioTlsConfig, parseUlLookup, type KamailioAuthUser } from './kamailio-config';
import { ManagedProcess, PeerHarnessError, makeTempDir, removeTempDir, waitUntil } from './process';
import { sipOptionsPing } from './sip-probe';

/**
 * A private Kamailio (registrar + record-routing proxy, no DB) on free loopback ports, for integration and
 * e2e tests. Runs `kamailio -DD -E` (`-D` alone serves only the first UDP socket) in a temp dir with a
 * generated config; readiness = it answers an OPTIONS ping on every transport.
 */

const execFileAsync = promisify(execFile);
const DEFAULT_MODULES_DIR = '/usr/lib/x86_64-linux-gnu/kamailio/modules';

export interface KamailioOptions {
  host?: string;
  udp?: boolean;
  tcp?: boolean;
  /** PEM paths; a TLS listener on its own port (`tlsPort`). Needs `kamailio-tls-modules`. */
  tls?: { cert: string; key: string };
  /** INVITEs whose From user is listed must carry proxy digest credentials (407 challenge). */
  authUsers?: readonly KamailioAuthUser[];
  aliases?: readonly string[];
  /** Users that are not registered, routed statically: `{ '15550001': 'sip:127.0.0.2:5070' }`. */
  routes?: Readonly<Record<string, string>>;
  /** REGISTERs of these users must answer a digest challenge (401). */
  registerAuthUsers?: readonly KamailioAuthUser[];
  /** Numbers delivered to a registered user's Contact (kamailio-config.ts `registeredRoutes`). */
  registeredRoutes?: Readonly<Record<string, { aor: string; keepNumber: boolean }>>;
  /** Kamailio `debug` (2 default: one INFO line per request and relay). */
  debugLevel?: number;
  startTimeoutMs?: number;
  /** Keep the temp dir (config, log) after stop(); also kept when WAGW_KEEP_PEER_DIRS=1. */
  keepDir?: boolean;
  binary?: string;
  kamcmdBinary?: string;
  modulesDir?: string;
}

export interface KamailioHandle {
  readonly host: string;
  /** The UDP and TCP port. */
  readonly port: number;
  readonly tlsPort: number | undefined;
  readonly dir: string;
  readonly logPath: string;
  readonly pid: number;
  /** `sip:user@host:port` (with `;transport=` unless udp). */
  uri(user: string, transport?: 'udp' | 'tcp' | 'tls'): string;
  log(): string;
  /** Contact URIs registered for `user` (empty when none), via `kamcmd ul.lookup`. */
  contacts(user: string): Promise<string[]>;
  registered(user: string): Promise<boolean>;
  /** Resolves with the contacts once `user` is registered. */
  waitRegistered(user: string, timeoutMs?: number): Promise<string[]>;
  /** Idempotent. */
  stop(): Promise<void>;
}

export function kamailioTlsAvailable(modulesDir = DEFAULT_MODULES_DIR): boolean {
  return existsSync(join(modulesDir, 'tls.so'));
}

interface Prepared {
  dir: string;
  port: number;
  tlsPort: number | undefined;
  ctlSocketPath: string;
}

async function prepare(o: Required<Omit<KamailioOptions, 'tls'>> & Pick<KamailioOptions, 'tls'>): Promise<Prepared> {
  const dir = makeTempDir('kamailio');
  const port = await freeTcpUdpPort(o.host);
  const tlsPort = o.tls ? await freeTcpPort(o.host) : undefined;
  const ctlSocketPath = join(dir, 'ctl.sock');
  const tlsConfigPath = join(dir, 'tls.cfg');
  if (o.tls) writeFileSync(tlsConfigPath, buildKamailioTlsConfig(o.tls.cert, o.tls.key));
  const config = buildKamailioConfig({
    host: o.host,
    port,
    udp: o.udp,
    tcp: o.tcp,
    ...(tlsPort !== undefined ? { tls: { port: tlsPort, tlsConfigPath } } : {}),
    authUsers: o.authUsers,
    registerAuthUsers: o.registerAuthUsers,
    registeredRoutes: o.registeredRoutes,
    aliases: o.aliases,
    routes: o.routes,
    ctlSocketPath,
    modulesDir: o.modulesDir,
    debugLevel: o.debugLevel,
  });
  writeFileSync(join(dir, 'kamailio.cfg'), config);
  return { dir, port, tlsPort, ctlSocketPath };
}

async function ready(o: { host: string; udp: boolean; tcp: boolean }, p: Prepared): Promise<boolean> {
  const transports: ('udp' | 'tcp' | 'tls')[] = [];
  if (o.udp) transports.push('udp');
  if (o.tcp) transports.push('tcp');
  for (const transport of transports) {
    if ((await sipOptionsPing({ host: o.host, port: p.port, transport, timeoutMs: 150 })) !== 200) return false;
  }
  if (p.tlsPort !== undefined) {
    return (await sipOptionsPing({ host: o.host, port: p.tlsPort, transport: 'tls', timeoutMs: 500 })) === 200;
  }
  return true;
}

function isBindClash(log: string): boolean {
  return /address already in use|bind\(.*\) on .* failed/i.test(log);
}

export async function startKamailio(options: KamailioOptions = {}): Promise<KamailioHandle> {
  const o = {
    host: '127.0.0.1',
    udp: true,
    tcp: true,
    authUsers: [],
    registerAuthUsers: [],
    registeredRoutes: {},
    aliases: [],
    routes: {},
    debugLevel: 2,
    startTimeoutMs: 10_000,
    keepDir: false,
    binary: 'kamailio',
    kamcmdBinary: 'kamcmd',
    modulesDir: DEFAULT_MODULES_DIR,
    ...options,
  };
  if (o.tls && !kamailioTlsAvailable(o.modulesDir)) {
    throw new PeerHarnessError(`Kamailio TLS requested but ${o.modulesDir}/tls.so is missing (install kamailio-tls-modules)`);
  }
  // a free port can be taken between the check and kamailio's bind: retry with new ports
  for (let attempt = 1; ; attempt++) {
    const p = await prepare(o);
    const proc = new ManagedProcess({
      name: 'kamailio',
      command: o.binary,
      args: ['-DD', '-E', '-f', join(p.dir, 'kamailio.cfg'), '-Y', p.dir, '-m', '32', '-M', '4'],
      cwd: p.dir,
      logPath: join(p.dir, 'kamailio.log'),
    });
    try {
      await waitUntil(() => ready(o, p), { timeoutMs: o.startTimeoutMs, what: 'kamailio to answer OPTIONS', process: proc });
      return makeHandle(o, p, proc);
    } catch (err) {
      await proc.stop('SIGKILL');
      if (attempt < 3 && isBindClash(proc.log())) {
        removeTempDir(p.dir, o.keepDir);
        continue;
      }
      throw err;
    }
  }
}

function makeHandle(
  o: { host: string; keepDir: boolean; kamcmdBinary: string },
  p: Prepared,
  proc: ManagedProcess,
): KamailioHandle {
  const contacts = async (user: string): Promise<string[]> => {
    // `s:` keeps kamcmd from sending a numeric user as an integer
    const { stdout, stderr } = await execFileAsync(
      o.kamcmdBinary,
      ['-s', `unix:${p.ctlSocketPath}`, 'ul.lookup', 'location', `s:${user}`],
      { timeout: 3000 },
    );
    return parseUlLookup(stdout + stderr);
  };
  return {
    host: o.host,
    port: p.port,
    tlsPort: p.tlsPort,
    dir: p.dir,
    logPath: proc.logPath,
    pid: proc.pid,
    uri: (user, transport = 'udp') => {
      const port = transport === 'tls' ? p.tlsPort : p.port;
      return `sip:${user}@${o.host}:${port}${transport === 'udp' ? '' : `;transport=${transport}`}`;
    },
    log: () => proc.log(),
    contacts,
    registered: async (user) => (await contacts(user)).length > 0,
    waitRegistered: (user, timeoutMs = 5000) =>
      waitUntil(async () => {
        const c = await contacts(user);
        return c.length > 0 ? c : undefined;
      }, { timeoutMs, intervalMs: 50, what: `${user} to be registered at kamailio`, process: proc }),
    stop: async () => {
      await proc.stop('SIGTERM', 3000);
      removeTempDir(p.dir, o.keepDir);
    },
  };
}
