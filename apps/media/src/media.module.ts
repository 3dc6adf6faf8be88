import { Module, type DynamicModule } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { ConfigModule, redisOptionsFromUrl, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { FrameClock } from '@wagw/media-bridge';
import { MEDIA_EVENTS_CLIENT, MEDIA_FRAME_CLOCK, MEDIA_LOGGER, WA_LEG_FACTORY } from './media.tokens';
import { HealthController } from './health/health.controller';
import { MediaBusController } from './bus/media-bus.controller';
import { WaLegEventsPublisher } from './bus/wa-leg-events.publisher';
import { SessionRegistry } from './sessions/session-registry';
import { ConfiguredWaLegFactory } from './sessions/wa-leg.factory';

/** Wires the media app (STYLE §1: Nest for DI, config, health and shutdown only; the legs are plain classes). */
@Module({})
export class MediaModule {
  static forRoot(config: Readonly<AppConfig>, logger: Logger): DynamicModule {
    return {
      module: MediaModule,
      imports: [ConfigModule.forRoot(config)],
      controllers: [HealthController, MediaBusController],
      providers: [
        { provide: MEDIA_LOGGER, useValue: logger },
        { provide: MEDIA_FRAME_CLOCK, useFactory: () => new FrameClock({ logger: logger.child({ component: 'frame-clock' }) }) },
        {
          provide: MEDIA_EVENTS_CLIENT,
          useFactory: () => ClientProxyFactory.create({ transport: Transport.REDIS, options: { ...redisOptionsFromUrl(config.redis.url) } }),
        },
        { provide: WA_LEG_FACTORY, useFactory: (clock: FrameClock) => new ConfiguredWaLegFactory(config.media, clock), inject: [MEDIA_FRAME_CLOCK] },
        WaLegEventsPublisher,
        SessionRegistry,
      ],
    };
  }
}
