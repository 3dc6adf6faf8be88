import type { Provider } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '@wagw/config';
import { MediaInstanceRegistry, redisKeys } from '@wagw/call-state';
import { CALL_REPOSITORY, SIGNALLING_REDIS } from '../signalling.tokens';
import { MeteredCallRepository } from './metered-call.repository';
import { SignallingMetrics } from './signalling-metrics';

/**
 * The app's metrics (its own registry, a PING on the app's Redis at scrape time) and the call repository
 * that feeds them: it replaces the plain CallRepository provider under CALL_REPOSITORY.
 */
export function signallingMetricsProviders(config: Readonly<AppConfig>): Provider[] {
  return [
    {
      provide: SignallingMetrics,
      useFactory: (redis: Redis) => {
        const instances = config.signalling.mediaInstances;
        const registry = new MediaInstanceRegistry(redis, redisKeys(config.redis.keyPrefix));
        const mediaInstancesUp = async (): Promise<Record<string, boolean>> => {
          const live = await registry.live(instances);
          return Object.fromEntries(instances.map((id) => [id, live.includes(id)]));
        };
        return new SignallingMetrics({ redisPing: () => redis.ping(), ...(instances.length > 0 ? { mediaInstancesUp } : {}) });
      },
      inject: [SIGNALLING_REDIS],
    },
    {
      provide: CALL_REPOSITORY,
      useFactory: (redis: Redis, metrics: SignallingMetrics) => {
        const calls = new MeteredCallRepository(redis, { keyPrefix: config.redis.keyPrefix }, metrics);
        metrics.listActive = () => calls.listActive(10_000);
        return calls;
      },
      inject: [SIGNALLING_REDIS, SignallingMetrics],
    },
  ];
}
