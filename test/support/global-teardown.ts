import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisServerHandle } from '../../libs/testing/src/redis-server';

export default async function globalTeardown(): Promise<void> {
  const handle = (globalThis as Record<string, unknown>)['__TEST_REDIS__'] as RedisServerHandle | undefined;
  if (handle) return handle.stop();
  const pidFile = join(__dirname, '..', '..', 'test-output', '.redis-pid');
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM');
    rmSync(pidFile);
  } catch {
    // already gone: nothing to stop
  }
}
