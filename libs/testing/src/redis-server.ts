import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { freeTcpPort } from './free-port';

export interface RedisServerHandle {
  url: string;
  port: number;
  pid: number;
  stop(): Promise<void>;
}

async function waitForPort(port: number, deadlineMs: number): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`redis-server did not listen on ${port} within ${deadlineMs} ms`);
}

/**
 * Starts a private Debian redis-server on a free loopback port, without persistence.
 * Polls the port before returning (letting ioredis retry would add ~1 s of backoff).
 */
export async function startRedisServer(binary = 'redis-server'): Promise<RedisServerHandle> {
  const port = await freeTcpPort();
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before listening: ${stderr}`))),
  );
  child.once('error', () => undefined);
  await Promise.race([waitForPort(port, 5000), exited]);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: child.pid ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
