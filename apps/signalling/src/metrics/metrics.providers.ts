import type { Provider } from '@nestjs/common';
import type Redis from 'ioredis';
import type { AppConfig } from '@wagw/config';
import { MEDIA_ROUTER } from '../media/media-bus.client';
import type { MediaRouter } from '../media/media-router';
import { CALL_REPOSITORY, SIGNALLING_INSTANCE_ID, SIGNALLING_REDIS } from '../signalling.tokens';
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
      useFactory: (redis: Redis, router: MediaRouter | null) => {
        // several media apps: which are up, from the router's own heartbeat reading
        const mediaInstancesUp = async (r: MediaRouter): Promise<Record<string, boolean>> => {
          const lost = await r.lostInstances();
          return Object.fromEntries(r.instances.map((id) => [id, !lost.includes(id)]));
        };
        return new SignallingMetrics({ redisPing: () => redis.ping(), ...(router ? { mediaInstancesUp: () => mediaInstancesUp(router) } : {}) });
      },
      inject: [SIGNALLING_REDIS, MEDIA_ROUTER],
    },
    {
      provide: CALL_REPOSITORY,
      useFactory: (redis: Redis, metrics: SignallingMetrics, instanceId: string) => {
        const calls = new MeteredCallRepository(
          redis,
          { keyPrefix: config.redis.keyPrefix, instanceId, endedTtlMs: config.signalling.cdrRetentionHours * 3_600_000, endedIndexMax: config.signalling.cdrMax },
          metrics,
        );
        metrics.listActive = () => calls.listActive(10_000);
        return calls;
      },
      inject: [SIGNALLING_REDIS, SignallingMetrics, SIGNALLING_INSTANCE_ID],
    },
  ];
}
