import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freeTcpUdpPort } from './free-port';
import { isPortBound, makeTempDir, ManagedProcess, PeerHarnessError, removeTempDir, waitUntil } from './process';

/**
 * Debian's dnsmasq as the DNS server of a test: A and SRV records of one local zone (names outside it are
 * refused, names inside it without a record are NXDOMAIN), on a free loopback port, nothing else (no
 * upstream, no /etc/hosts, no DHCP).
 */

export interface SrvRecord {
  /** e.g. `_sip._udp.pbx.wagw.test`. */
  name: string;
  target: string;
  port: number;
  priority: number;
  weight: number;
}

export interface DnsmasqOptions {
  /** The zone answered locally, e.g. `wagw.test`. */
  zone: string;
  /** name -> IPv4 address. */
  a: Readonly<Record<string, string>>;
  srv: readonly SrvRecord[];
}

export interface DnsmasqHandle {
  /** `127.0.0.1:<port>`: what a resolver's setServers takes. */
  readonly server: string;
  readonly port: number;
  /** Queries it answered (dnsmasq's log-queries lines), for a test to see what was asked. */
  queries(): string[];
  stop(): Promise<void>;
}

const BINARY_PATHS = ['/usr/sbin/dnsmasq', '/usr/bin/dnsmasq'];

export async function startDnsmasq(options: DnsmasqOptions): Promise<DnsmasqHandle> {
  const binary = BINARY_PATHS.find((p) => existsSync(p));
  if (!binary) throw new PeerHarnessError('dnsmasq not found: run scripts/install-deps.sh test (Debian package dnsmasq-base)');
  const port = await freeTcpUdpPort();
  const dir = makeTempDir('dnsmasq');
  const args = [
    '--keep-in-foreground',
    '--no-daemon',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    '--no-poll',
    '--conf-file=/dev/null',
    '--pid-file=',
    '--user=root',
    '--log-queries',
    '--log-facility=-',
    `--local=/${options.zone}/`,
    ...Object.entries(options.a).map(([name, ip]) => `--host-record=${name},${ip}`),
    ...options.srv.map((r) => `--srv-host=${r.name},${r.target},${r.port},${r.priority},${r.weight}`),
  ];
  const proc = new ManagedProcess({ name: 'dnsmasq', command: binary, args, cwd: dir, logPath: join(dir, 'dnsmasq.log') });
  try {
    await waitUntil(() => isPortBound(port, 'udp'), { timeoutMs: 5000, what: 'dnsmasq listening', process: proc });
  } catch (err) {
    await proc.stop();
    removeTempDir(dir);
    throw err;
  }
  return {
    server: `127.0.0.1:${port}`,
    port,
    queries: () =>
      proc
        .log()
        .split('\n')
        .filter((l) => /\bquery\[/.test(l)),
    stop: async () => {
      await proc.stop();
      removeTempDir(dir);
    },
  };
}
