import type { ChildProcess } from 'node:child_process';

const children = new Set<ChildProcess>();
const pids = new Set<number>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  // a bench stopped with Ctrl-C or kill exits through 'exit' too, so what it started goes with it
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  process.once('exit', () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

/** The same for a process started elsewhere (a Redis from @wagw/testing), by pid; `forget` when it was stopped. */
export function killPidOnExit(pid: number): { forget(): void } {
  pids.add(pid);
  hook();
  return { forget: () => void pids.delete(pid) };
}

/**
 * Kills `child` (SIGKILL) if this process exits while it still runs: a bench that fails half-way must not
 * leave a media app, Redis or rtpengine behind on a shared machine.
 */
export function killOnExit(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
  hook();
}
