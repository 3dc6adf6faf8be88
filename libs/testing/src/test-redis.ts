import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';

export interface TestRedis {
  /** A client on the test run's private Redis (TEST_REDIS_URL), open for the whole spec file. */
  readonly redis: Redis;
  /** A key prefix of the running test's own: its keys are deleted after it. */
  readonly prefix: string;
}

/**
 * For integration specs that use Redis directly: registers the hooks that open a client on the run's private
 * Redis, give each test a fresh key prefix (`stem` and 8 hex digits), delete that prefix's keys after each
 * test and close the client at the end. Call it once at the top of the spec file.
 */
export function useTestRedis(stem: string): TestRedis {
  let redis: Redis | undefined;
  let prefix = '';
  beforeAll(() => {
    const url = process.env['TEST_REDIS_URL'];
    if (!url) throw new Error('TEST_REDIS_URL is not set: run with --selectProjects integration');
    redis = new Redis(url);
  });
  beforeEach(() => {
    prefix = `${stem}${randomUUID().slice(0, 8)}`;
  });
  afterEach(async () => {
    const keys = (await redis?.keys(`${prefix}:*`)) ?? [];
    if (keys.length > 0) await redis?.del(...keys);
  });
  afterAll(async () => {
    await redis?.quit();
  });
  return {
    get redis(): Redis {
      if (!redis) throw new Error('useTestRedis: the client opens in beforeAll');
      return redis;
    },
    get prefix(): string {
      return prefix;
    },
  };
}
