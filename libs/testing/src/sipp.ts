import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freeTcpUdpPort } from './free-port';
import { freeUdpPortRange } from './port-range';
import { ManagedProcess, PeerHarnessError, isPortBound, makeTempDir, removeTempDir, waitUntil } from './process';

/**
 * SIPp (Debian `sip-tester` 3.6) runs for tests. Each run gets its own temp dir as cwd (pcap files named in
 * a scenario resolve there), free SIP and media ports, and a hard SIGKILL at `timeoutMs`. SIPp's exit code
 * is the assertion: 0 all calls succeeded, 1 some failed, 97 exit by internal command, 99 no call processed,
 * 255/254 fatal error. Every run is a new process, so SIPp's default Call-ID (which includes the pid) is
 * fresh per run. Debian's build has no TLS (`-t l1`). `play_pcap_audio` sends with a raw socket (root or
 * CAP_NET_RAW).
 */

export type SippTransport = 'u1' | 't1';

export interface SippCommonOptions {
  /** Scenario XML path (absolute or relative to the process cwd). */
  scenario: string;
  transport?: SippTransport;
  /** Local SIP address (`-i`) and media address (`-mi`); 127.0.0.1 by default. */
  localHost?: string;
  localPort?: number;
  /** Number of calls before SIPp exits (`-m`); 1 by default. */
  calls?: number;
  /** Request-URI user (`-s`). */
  service?: string;
  /** Scenario variables (`-set name value`), read as `[$name]`. */
  vars?: Readonly<Record<string, string>>;
  /** Digest credentials for `[authentication]` (`-au`, `-ap`). */
  auth?: { user: string; password: string };
  extraArgs?: readonly string[];
  /** Hard kill after this long; 30 s by default. */
  timeoutMs?: number;
  /** Working directory (where `play_pcap_audio` files are looked up); a fresh temp dir by default. */
  dir?: string;
  /** Keep the temp dir (stats, error log); also kept when WAGW_KEEP_PEER_DIRS=1. */
  keepDir?: boolean;
}

export interface SippRunOptions extends SippCommonOptions {
  /** `host:port` of the remote side. */
  target: string;
  /** Calls per second (`-r`). */
  rate?: number;
}

export interface SippStats {
  created: number;
  successful: number;
  failed: number;
  /** The last row of SIPp's `-trace_stat` CSV, by column name. */
  raw: Record<string, string>;
}

export interface SippResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  stats: SippStats | undefined;
  /** Unexpected messages SIPp saw (`-trace_err`), if any. */
  errors: string;
  dir: string;
}

export interface SippUasOptions extends SippCommonOptions {
  /** Listening port; free by default. */
  port?: number;
}

export interface SippUasHandle {
  readonly host: string;
  readonly port: number;
  /** `sip:user@host:port` (`;transport=tcp` for t1). */
  uri(user: string): string;
  /** Settles when SIPp exits (after `calls` calls, at the timeout, or after stop()). */
  readonly result: Promise<SippResult>;
  /** Asks SIPp to quit (SIGUSR1), SIGKILL after 1 s. Idempotent. */
  stop(): Promise<SippResult>;
}

/** Parses SIPp's `-trace_stat` CSV (`;`-separated); undefined when it has no data row. */
export function parseSippStats(csv: string): SippStats | undefined {
  const rows = csv.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const header = rows[0]?.split(';');
  const last = rows.length > 1 ? rows[rows.length - 1]?.split(';') : undefined;
  if (!header || !last) return undefined;
  const raw: Record<string, string> = {};
  header.forEach((name, i) => {
    if (name !== '') raw[name] = last[i] ?? '';
  });
  const num = (k: string) => Number(raw[k] ?? 'NaN');
  return { created: num('TotalCallCreated'), successful: num('SuccessfulCall(C)'), failed: num('FailedCall(C)'), raw };
}

interface Launch {
  proc: ManagedProcess;
  dir: string;
  ownDir: boolean;
  result: Promise<SippResult>;
  port: number;
}

async function launch(o: SippCommonOptions, positional: string[], extra: string[]): Promise<Launch> {
  const host = o.localHost ?? '127.0.0.1';
  const ownDir = o.dir === undefined;
  const dir = o.dir ?? makeTempDir('sipp');
  const port = o.localPort ?? (await freeTcpUdpPort(host));
  const args = [
    ...positional,
    '-sf', resolve(o.scenario),
    '-t', o.transport ?? 'u1',
    '-i', host, '-p', String(port),
    '-mi', host, '-mp', String(await freeUdpPortRange(4, host)),
    '-m', String(o.calls ?? 1),
    '-nostdin',
    '-trace_stat', '-stf', join(dir, 'stats.csv'), '-fd', '1',
    '-trace_err', '-error_file', join(dir, 'errors.log'),
    ...extra,
  ];
  if (o.service) args.push('-s', o.service);
  if (o.auth) args.push('-au', o.auth.user, '-ap', o.auth.password);
  for (const [k, v] of Object.entries(o.vars ?? {})) args.push('-set', k, v);
  args.push(...(o.extraArgs ?? []));
  const proc = new ManagedProcess({
    name: 'sipp',
    command: 'sipp',
    args,
    cwd: dir,
    logPath: join(dir, 'stdout.log'),
    stderrPath: join(dir, 'stderr.log'),
  });
  const timeoutMs = o.timeoutMs ?? 30_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    void proc.stop('SIGKILL', 0);
  }, timeoutMs);
  const result = proc.exited.then((exit) => {
    clearTimeout(timer);
    const read = (name: string) => {
      try {
        return readFileSync(join(dir, name), 'utf8');
      } catch {
        return '';
      }
    };
    const res: SippResult = {
      exitCode: exit.code,
      signal: exit.signal,
      timedOut,
      stdout: read('stdout.log'),
      stderr: read('stderr.log'),
      stats: parseSippStats(read('stats.csv')),
      errors: read('errors.log'),
      dir,
    };
    if (ownDir) removeTempDir(dir, o.keepDir === true || exit.code !== 0);
    return res;
  });
  return { proc, dir, ownDir, result, port };
}

/** Runs a SIPp scenario against `target` to completion (or the hard timeout). Never rejects on exit codes. */
export async function runSipp(options: SippRunOptions): Promise<SippResult> {
  const extra = options.rate !== undefined ? ['-r', String(options.rate)] : [];
  const { result } = await launch(options, [options.target], extra);
  return result;
}

/** Starts a SIPp UAS in the background; resolves once its SIP port is bound. */
export async function startSippUas(options: SippUasOptions): Promise<SippUasHandle> {
  const host = options.localHost ?? '127.0.0.1';
  const transport = options.transport ?? 'u1';
  const l = await launch({ ...options, ...(options.port !== undefined ? { localPort: options.port } : {}) }, [], []);
  await waitUntil(() => isPortBound(l.port, transport === 'u1' ? 'udp' : 'tcp'), {
    timeoutMs: 5000,
    what: `SIPp UAS to bind ${host}:${l.port}`,
    process: l.proc,
  }).catch(async (err: Error) => {
    await l.proc.stop('SIGKILL', 0);
    const r = await l.result;
    throw new PeerHarnessError(`${err.message}\nsipp stderr: ${r.stderr.slice(-2000)}`);
  });
  let stopping: Promise<SippResult> | undefined;
  return {
    host,
    port: l.port,
    uri: (user) => `sip:${user}@${host}:${l.port}${transport === 't1' ? ';transport=tcp' : ''}`,
    result: l.result,
    stop: () => {
      stopping ??= l.proc.stop('SIGUSR1', 1000).then(() => l.result);
      return stopping;
    },
  };
}
