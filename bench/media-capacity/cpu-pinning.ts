/**
 * CPU pinning (Linux `taskset`) so the measurement is one core for the system under test and the other for
 * the load generators: on a 2-core machine the scheduler would otherwise move them onto the same core at
 * times, and the target's latency would show the generators' work. The pinning applies to every thread of
 * the process (libuv, V8 and rtpengine's workers included), so "per core" means exactly one core.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export interface Pinning {
  /** CPU list for the target (e.g. "0"), or null when not pinned. */
  target: string | null;
  generators: string | null;
}

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Target on CPU 0, generators on the others; no pinning on a 1-CPU machine or without taskset. */
export function choosePinning(enabled: boolean): Pinning {
  const n = cpus().length;
  if (!enabled || n < 2 || !hasTaskset()) return { target: null, generators: null };
  return { target: '0', generators: n === 2 ? '1' : `1-${n - 1}` };
}

/** The command prefix that starts a process on `cpuList` (empty when null). */
export function pinnedCommand(cpuList: string | null, command: string, args: string[]): [string, string[]] {
  return cpuList === null ? [command, args] : ['taskset', ['-c', cpuList, command, ...args]];
}

/** Moves a running process, all its threads, onto `cpuList`. */
export function pinProcess(pid: number, cpuList: string | null): void {
  if (cpuList === null || pid <= 0) return;
  execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
}
