import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isPortBound, ManagedProcess, makeTempDir, removeTempDir, waitUntil, type ProcessExit } from '@wagw/testing';

/**
 * Runs Debian's SIPp (3.6) on one scenario from `test/sipp/` for one call, as a peer of our stack.
 * Every run gets a fresh Call-ID (`-cid_str` with a random token, drachtio `test/sipp.js`); SIPp's own
 * retransmissions are off (`-nr`), so a retransmission from our side is matched by the scenario's next
 * identical `recv` instead of being swallowed. SIPp's exit code is the assertion: 0 = the call succeeded.
 */

export const SCENARIO_DIR = resolve(__dirname, '..', '..', '..', 'test', 'sipp');

export interface SippOptions {
  /** File name in test/sipp, e.g. `uas-answer-expect-200.xml`. */
  scenario: string;
  transport: 'udp' | 'tcp';
  /** SIPp's own port (-p). */
  port: number;
  /** host:port SIPp sends its first request to (UAC scenarios). */
  remote?: string;
  /** Request-URI user part (-s). */
  service?: string;
  /** `-key name value` pairs, used as [name] in the scenario. */
  keys?: Record<string, string>;
  /** Extra arguments (e.g. `-au`, `-ap`). */
  args?: string[];
  /** SIPp is killed after this long (the run then fails). Default 20 s. */
  deadlineMs?: number;
  /** Keep SIPp's directory (logs, -trace_msg) for debugging. */
  keepDir?: boolean;
  traceMessages?: boolean;
}

export interface SippResult extends ProcessExit {
  /** Why the run failed, from SIPp's error log and stdout, for assertion messages. */
  details: string;
}

export class SippRun {
  /** The token every Call-ID of this run contains. */
  readonly callIdToken: string;
  readonly #process: ManagedProcess;
  readonly #dir: string;
  readonly #options: SippOptions;
  readonly #deadline: NodeJS.Timeout;

  constructor(options: SippOptions) {
    this.#options = options;
    this.callIdToken = randomBytes(6).toString('hex');
    this.#dir = makeTempDir('sipp');
    const args = [
      '-sf', join(SCENARIO_DIR, options.scenario),
      '-i', '127.0.0.1',
      '-p', String(options.port),
      '-t', options.transport === 'udp' ? 'u1' : 't1',
      '-m', '1',
      '-nr',
      '-nostdin',
      '-cid_str', `%u-%p-${this.callIdToken}@%s`,
      '-trace_err',
      ...(options.traceMessages ? ['-trace_msg'] : []),
      ...(options.service ? ['-s', options.service] : []),
      ...Object.entries(options.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
      ...(options.args ?? []),
      ...(options.remote ? [options.remote] : []),
    ];
    this.#process = new ManagedProcess({ name: 'sipp', command: 'sipp', args, cwd: this.#dir, logPath: join(this.#dir, 'sipp.log') });
    this.#deadline = setTimeout(() => void this.#process.stop('SIGKILL', 0), options.deadlineMs ?? 20_000);
  }

  /** Resolves once SIPp listens on its port (for UAS scenarios, before we send to it). */
  async listening(): Promise<void> {
    // Over TCP the socket must be in LISTEN: SIPp binds it before it listens, and a connection in between is refused.
    await waitUntil(
      () => isPortBound(this.#options.port, this.#options.transport),
      { timeoutMs: 5000, intervalMs: 10, what: `sipp listening on ${this.#options.transport} ${this.#options.port}`, process: this.#process },
    );
  }

  /** Waits for SIPp to exit and cleans its directory (unless kept). */
  async result(): Promise<SippResult> {
    const exit = await this.#process.exited;
    clearTimeout(this.#deadline);
    const details = `sipp ${this.#options.scenario} over ${this.#options.transport}: exit ${exit.code} signal ${exit.signal}\n${this.#errors()}\n${this.#process.logTail(15)}`;
    if (exit.code === 0) removeTempDir(this.#dir, this.#options.keepDir);
    return { ...exit, details };
  }

  /** SIPp's `-trace_msg` log so far (every message it sent and received); '' without `traceMessages`. */
  messages(): string {
    if (!existsSync(this.#dir)) return '';
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('_messages.log'))
      .map((f) => readFileSync(join(this.#dir, f), 'utf8'))
      .join('\n');
  }

  /** Waits until SIPp's message log matches `pattern` (needs `traceMessages`). */
  async sawMessage(pattern: RegExp, what: string, timeoutMs = 10_000): Promise<void> {
    await waitUntil(() => pattern.test(this.messages()), { timeoutMs, what, process: this.#process });
  }

  async stop(): Promise<void> {
    clearTimeout(this.#deadline);
    await this.#process.stop('SIGTERM', 1000);
    removeTempDir(this.#dir, this.#options.keepDir);
  }

  #errors(): string {
    if (!existsSync(this.#dir)) return '';
    return readdirSync(this.#dir)
      .filter((f) => f.endsWith('_errors.log'))
      .map((f) => readFileSync(join(this.#dir, f), 'utf8').slice(-3000))
      .join('\n');
  }
}

/** Waits for SIPp to exit and expects exit code 0 (the scenario ran as written); the failure shows why. */
export async function expectSippPassed(run: SippRun): Promise<void> {
  const result = await run.result();
  expect({ code: result.code, details: result.details }).toMatchObject({ code: 0 });
}
