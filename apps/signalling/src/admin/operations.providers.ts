import type { Provider } from '@nestjs/common';
import type Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER, SIGNALLING_REDIS } from '../signalling.tokens';
import { TrunkChannels } from '../trunks/trunk-channels';
import { TrunkDirectory } from '../sip/trunk-directory';
import { SignallingMetrics } from '../metrics/signalling-metrics';
import { SipStackService } from '../sip/sip-stack.service';
import { FailoverInviter } from '../trunks/failover-inviter';
import { TrunkHealthService } from '../trunks/trunk-health.service';
import { RoutingPolicy } from '../routing/routing-policy';
import { AdminController } from './admin.controller';
import { CONFIG_SOURCE, ConfigReloadService, type ConfigSource } from './config-reload.service';
import { MetricsController } from './metrics.controller';
import { TrunksController } from './trunks.controller';
import { WhatsAppSettingsService } from './whatsapp-settings.service';

/**
 * Trunk operations (issue: keep-alives and failover, business hours, config reload): the providers and
 * controllers the signalling module registers. `source` re-reads the configuration on reload.
 */
export function operationsProviders(source: ConfigSource | undefined): Provider[] {
  return [
    TrunkHealthService,
    {
      provide: TrunkChannels,
      useFactory: (redis: Redis, config: AppConfig, logger: Logger, trunks: TrunkDirectory, metrics: SignallingMetrics) => {
        const channels = new TrunkChannels({ redis, keyPrefix: config.redis.keyPrefix, logger: logger.child({ component: 'trunk-channels' }) });
        metrics.trunkChannels = () => channels.snapshot(trunks.trunks());
        return channels;
      },
      inject: [SIGNALLING_REDIS, APP_CONFIG, SIGNALLING_LOGGER, TrunkDirectory, SignallingMetrics],
    },
    {
      provide: FailoverInviter,
      useFactory: (sip: SipStackService, health: TrunkHealthService, channels: TrunkChannels, logger: Logger) =>
        new FailoverInviter({ sender: () => sip.stack, ranking: health.ranking, channels, logger: logger.child({ component: 'trunk-inviter' }) }),
      inject: [SipStackService, TrunkHealthService, TrunkChannels, SIGNALLING_LOGGER],
    },
    RoutingPolicy,
    {
      provide: CONFIG_SOURCE,
      useValue:
        source ??
        ((): never => {
          throw new Error('configuration reload is not available: the app was built without a config source');
        }),
    },
    ConfigReloadService,
    WhatsAppSettingsService,
  ];
}

export const OPERATIONS_CONTROLLERS = [TrunksController, AdminController, MetricsController];
