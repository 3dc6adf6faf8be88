import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startRedisServer } from '../../libs/testing/src/redis-server';

/**
 * Starts the private Redis for the integration project. Workers inherit TEST_REDIS_URL; the pid is kept in a
 * file so global-teardown can stop it even though it runs in a fresh module scope.
 */
export default async function globalSetup(): Promise<void> {
  const redis = await startRedisServer();
  process.env['TEST_REDIS_URL'] = redis.url;
  const dir = join(__dirname, '..', '..', 'test-output');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.redis-pid'), String(redis.pid));
  (globalThis as Record<string, unknown>)['__TEST_REDIS__'] = redis;
}
