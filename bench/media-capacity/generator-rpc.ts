/**
 * Request/response over a forked child's IPC channel, so the load generators run in their own processes
 * (their CPU is not the media app's) and the driver calls them like async functions.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

interface RpcRequest {
  id: number;
  method: string;
  args: unknown[];
}

interface RpcReply {
  id: number;
  result?: unknown;
  error?: string;
}

const REGISTER = join(__dirname, '..', 'support', 'register.cjs');

/** The longest any generator method takes (creating 400 peers, a step's results) is well under this. */
const RPC_TIMEOUT_MS = 120_000;

export type Handlers = Record<string, (...args: never[]) => unknown>;

/** The driver's handle on a generator process. */
export class GeneratorProcess {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;
  #exited: Error | undefined;

  private constructor(child: ChildProcess, name: string) {
    this.#child = child;
    child.on('message', (m: RpcReply) => {
      const p = this.#pending.get(m.id);
      if (!p) return;
      this.#pending.delete(m.id);
      if (m.error !== undefined) p.reject(new Error(`${name}: ${m.error}`));
      else p.resolve(m.result);
    });
    child.on('exit', (code, signal) => {
      this.#exited = new Error(`${name} exited (${code ?? signal})`);
      for (const p of this.#pending.values()) p.reject(this.#exited);
      this.#pending.clear();
    });
  }

  /** Forks `file` (TypeScript, through the bench register hook). */
  static start(file: string, name: string, execArgv: string[] = []): GeneratorProcess {
    const child = fork(file, [], { execArgv: ['-r', REGISTER, ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new GeneratorProcess(child, name);
  }

  get pid(): number {
    return this.#child.pid ?? 0;
  }

  /** The generator served in this process under `prefix` (see serveRpc). */
  view(prefix: string): Generator {
    return { pid: this.pid, call: <T>(method: string, ...args: unknown[]): Promise<T> => this.call<T>(`${prefix}.${method}`, ...args) };
  }

  /**
   * Calls `method` in the generator; rejects after RPC_TIMEOUT_MS without a reply (a stuck generator fails
   * the run with the method's name instead of holding it up for ever).
   */
  call<T>(method: string, ...args: unknown[]): Promise<T> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${method}: no reply from the generator within ${RPC_TIMEOUT_MS / 1000} s`));
      }, RPC_TIMEOUT_MS);
      const settle = <A>(fn: (a: A) => void) => (a: A): void => {
        clearTimeout(timer);
        fn(a);
      };
      this.#pending.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) });
      this.#child.send({ id, method, args } satisfies RpcRequest);
    });
  }

  async stop(): Promise<void> {
    if (this.#exited || this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.kill('SIGTERM');
    await exited;
  }
}

/** One generator as the driver calls it: its process (shared with the other generator or not) and its methods. */
export interface Generator {
  readonly pid: number;
  call<T>(method: string, ...args: unknown[]): Promise<T>;
}

/**
 * In the child: serves `handlers` on the IPC channel as `<prefix>.<name>`, leaving other prefixes to the other
 * generator when both run in one process (generators.ts); exits when the parent goes away.
 */
export function serveRpc(handlers: Handlers, prefix: string): void {
  process.on('message', (m: RpcRequest) => {
    if (!m.method.startsWith(`${prefix}.`)) return;
    const fn = handlers[m.method.slice(prefix.length + 1)] as ((...args: unknown[]) => unknown) | undefined;
    const reply = (r: Omit<RpcReply, 'id'>): void => void process.send?.({ id: m.id, ...r });
    if (!fn) return reply({ error: `unknown method ${m.method}` });
    Promise.resolve()
      .then(() => fn(...m.args))
      .then(
        (result) => reply({ result }),
        (err: unknown) => reply({ error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
}
