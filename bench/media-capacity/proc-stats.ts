/**
 * Per-process figures from /proc (Linux), so only the process under test is counted, never the machine:
 * CPU time (utime + stime of all its threads), resident memory, and the kernel's drop counter of each UDP
 * socket the process owns (a full receive buffer drops datagrams before the process ever sees them).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let clockTicks = 0;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on Linux, asked once). */
export function clockTicksPerSecond(): number {
  if (clockTicks === 0) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100; // getconf missing: Linux's USER_HZ is 100 on every mainstream architecture
    }
  }
  return clockTicks;
}

/** User and system CPU seconds of a process (all threads), or of one of its threads (`/proc/<pid>/task/<tid>`). */
export function cpuSplit(pid: number, tid?: number): { user: number; system: number } {
  const stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / clockTicksPerSecond(), system: Number(fields[12]) / clockTicksPerSecond() };
}

/** CPU seconds (user + system, all threads) the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name (field 2) may contain spaces: fields after it start after the last ')'
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicksPerSecond();
}

/** Resident set size in bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Socket inodes held by the process (its open fds that are sockets). */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1] as string);
    } catch {
      // the fd closed between readdir and readlink
    }
  }
  return inodes;
}

/**
 * Datagrams the kernel dropped on each process's UDP sockets (receive buffer full), summed per process; IPv4 and
 * IPv6. The kernel's tables are read once for all the processes: with ~1,600 sockets open each read costs tens
 * of ms and holds packets up.
 */
export function udpDrops(pids: number[]): number[] {
  const mine = pids.map(socketInodes);
  const drops = pids.map(() => 0);
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // no IPv6 table on this kernel
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local rem st tx:rx tr:tm retrnsmt uid timeout inode ref pointer drops
      if (cols.length < 13) continue;
      const i = mine.findIndex((inodes) => inodes.has(cols[9] as string));
      if (i >= 0) drops[i] = (drops[i] as number) + Number(cols[12]);
    }
  }
  return drops;
}

/** A CPU sample: process seconds and wall seconds, to turn two samples into a percentage of one core. */
export interface CpuSample {
  cpu: number;
  wall: number;
}

export function sampleCpu(pid: number): CpuSample {
  return { cpu: cpuSeconds(pid), wall: performance.now() / 1000 };
}

/** Percent of one core between two samples. */
export function cpuPercent(a: CpuSample, b: CpuSample): number {
  return b.wall > a.wall ? (100 * (b.cpu - a.cpu)) / (b.wall - a.wall) : 0;
}
