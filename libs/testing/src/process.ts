import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Child processes for real test peers (Kamailio, baresip, SIPp): each runs in its own process group with
 * stdout and stderr appended to a log file, is stopped with SIGTERM then SIGKILL of the whole group, and
 * is killed when the test process exits, so a crashed test leaves no peer behind.
 */

/** A test peer failed to start, died, or did not reach a state in time. Messages carry the log tail. */
export class PeerHarnessError extends Error {
  override readonly name = 'PeerHarnessError';
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartProcessOptions {
  /** Short label for error messages, e.g. `kamailio`. */
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  /** File that receives stdout and stderr (appended). */
  logPath: string;
  /** If set, stderr goes here instead of `logPath`. */
  stderrPath?: string;
  env?: NodeJS.ProcessEnv;
  /** `'ignore'` (default) reads /dev/null; `'pipe'` keeps a writable stdin. */
  stdin?: 'ignore' | 'pipe';
}

const liveGroups = new Set<number>();
let exitHookInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone, which is what we want
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  });
}

/** A running child process whose output goes to a log file. */
export class ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves (never rejects) when the process has exited. */
  readonly exited: Promise<ProcessExit>;
  #exit: ProcessExit | undefined;
  #stopping: Promise<ProcessExit> | undefined;

  constructor(options: StartProcessOptions) {
    this.name = options.name;
    this.logPath = options.logPath;
    const fd = openSync(options.logPath, 'a');
    const errFd = options.stderrPath ? openSync(options.stderrPath, 'a') : fd;
    try {
      const child = spawn(options.command, [...options.args], {
        cwd: options.cwd,
        env: options.env ?? process.env,
        stdio: [options.stdin ?? 'ignore', fd, errFd],
        detached: true,
      });
      this.exited = new Promise<ProcessExit>((resolve) => {
        child.once('error', (err) => {
          this.#exit = { code: -1, signal: null };
          this.#appendNote(`spawn failed: ${err.message}`);
          resolve(this.#exit);
        });
        child.once('exit', (code, signal) => {
          this.#exit = { code, signal };
          resolve(this.#exit);
        });
      });
      this.pid = child.pid ?? -1;
      if (child.pid) {
        liveGroups.add(child.pid);
        installExitHook();
      }
      // a forgotten peer must not keep the test runner alive; the exit hook kills it instead
      child.unref();
    } finally {
      closeSync(fd);
      if (errFd !== fd) closeSync(errFd);
    }
  }

  get running(): boolean {
    return this.#exit === undefined && this.pid > 0;
  }

  get exitInfo(): ProcessExit | undefined {
    return this.#exit;
  }

  /** Sends `signal` to the main pid if it still runs. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // exited between the check and the kill
    }
  }

  /** Resolves true once exited, or false after `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const result = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return result;
  }

  /** The whole log so far. */
  log(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** The last `lines` lines of the log (carriage-return status lines split too). */
  logTail(lines = 30): string {
    return tailText(this.log(), lines);
  }

  /**
   * Stops the process: `signal` to the main pid, then SIGKILL to its group after `graceMs`; afterwards any
   * leftover of the group is killed. Idempotent: later calls return the same promise.
   */
  stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 3000): Promise<ProcessExit> {
    this.#stopping ??= this.#doStop(signal, graceMs);
    return this.#stopping;
  }

  async #doStop(signal: NodeJS.Signals, graceMs: number): Promise<ProcessExit> {
    if (this.running) {
      this.signal(signal);
      const timer = setTimeout(() => killGroup(this.pid, 'SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    const exit = await this.exited;
    if (this.pid > 0) {
      // children that outlived their parent (a crashed kamailio main process leaves its workers)
      killGroup(this.pid, 'SIGKILL');
      liveGroups.delete(this.pid);
    }
    return exit;
  }

  /** A one-line description with exit status and log tail, for error messages. */
  describe(lines = 30): string {
    const status = this.#exit ? `exited (code ${this.#exit.code}, signal ${this.#exit.signal})` : `running (pid ${this.pid})`;
    return `${this.name} ${status}; log ${this.logPath}; last lines:\n${this.logTail(lines)}`;
  }

  #appendNote(text: string): void {
    try {
      appendFileSync(this.logPath, `\n[harness] ${text}\n`);
    } catch {
      // the log file is best effort
    }
  }
}

export function tailText(text: string, lines: number): string {
  const all = text.replace(/\r/g, '\n').split('\n').filter((l) => l.trim() !== '');
  return all.slice(-lines).join('\n');
}

export interface WaitOptions {
  timeoutMs: number;
  /** Poll period; keep short, the probe decides readiness. */
  intervalMs?: number;
  /** What is awaited, for the error message ("kamailio to answer OPTIONS"). */
  what: string;
  /** If given, the wait fails as soon as this process exits, with its log tail. */
  process?: ManagedProcess;
}

/** Polls `probe` until it returns a value other than undefined/false; bounded by `timeoutMs`. */
export async function waitUntil<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, options: WaitOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 25;
  let lastError: unknown;
  for (;;) {
    if (options.process && !options.process.running) {
      throw new PeerHarnessError(`waiting for ${options.what}: ${options.process.describe()}`);
    }
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) break;
    await delay(Math.min(interval, Math.max(1, deadline - Date.now())));
  }
  const cause = lastError instanceof Error ? ` (last probe error: ${lastError.message})` : '';
  const tail = options.process ? `; ${options.process.describe()}` : '';
  throw new PeerHarnessError(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${cause}${tail}`);
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A fresh private directory under the OS temp dir. */
export function makeTempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `wagw-${prefix}-`));
}

/**
 * Removes a harness temp dir unless the environment asks to keep them (`WAGW_KEEP_PEER_DIRS=1`) or `keep`.
 * Returns whether it was removed.
 */
export function removeTempDir(dir: string, keep = false): boolean {
  if (keep || process.env['WAGW_KEEP_PEER_DIRS'] === '1') return false;
  rmSync(dir, { recursive: true, force: true });
  return true;
}

/** True when some socket of `proto` is bound to local `port` (reads /proc/net; Linux only). */
export async function isPortBound(port: number, proto: 'udp' | 'tcp'): Promise<boolean> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  for (const file of [`/proc/net/${proto}`, `/proc/net/${proto}6`]) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      const local = cols[1];
      const state = cols[3];
      if (!local || !local.endsWith(`:${hex}`)) continue;
      if (proto === 'udp' || state === '0A') return true;
    }
  }
  return false;
}

/** Size of a file in bytes, or -1 when it does not exist. */
export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return -1;
  }
}
