import { Module, type DynamicModule } from '@nestjs/common';
import { busChannelPrefix, ConfigModule, PrefixedRedisClient, busRedisOptions, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { FrameClock, RtpPortAllocator } from '@wagw/media-bridge';
import { MEDIA_EVENTS_CLIENT, MEDIA_FRAME_CLOCK, MEDIA_LOGGER, RTP_ADDRESSES, RTP_PORT_ALLOCATOR, WA_LEG_FACTORY } from './media.tokens';
import { HealthController } from './health/health.controller';
import { BridgeEventsPublisher } from './bus/bridge-events.publisher';
import { CallAdmission } from './sessions/call-admission';
import { MediaBusController } from './bus/media-bus.controller';
import { PbxMediaBusController } from './bus/pbx-media-bus.controller';
import { WaLegEventsPublisher } from './bus/wa-leg-events.publisher';
import { InstanceHeartbeatService } from './bus/instance-heartbeat.service';
import { SessionRegistry } from './sessions/session-registry';
import { BridgeRegistry } from './sessions/bridge-registry';
import { PbxLegRegistry } from './sessions/pbx-leg-registry';
import { rtpAddresses, type RtpAddresses } from './sessions/rtp-address';
import { ConfiguredWaLegFactory, recordSecondsFor } from './sessions/wa-leg.factory';
import { MediaMetricsController } from './metrics/media-metrics.controller';
import { mediaMetricsProvider } from './metrics/media-metrics.provider';

/** Wires the media app (STYLE §1: Nest for DI, config, health and shutdown only; the legs are plain classes). */
@Module({})
export class MediaModule {
  static forRoot(config: Readonly<AppConfig>, logger: Logger): DynamicModule {
    return {
      module: MediaModule,
      imports: [ConfigModule.forRoot(config)],
      controllers: [HealthController, MediaMetricsController, MediaBusController, PbxMediaBusController],
      providers: [
        { provide: MEDIA_LOGGER, useValue: logger },
        { provide: MEDIA_FRAME_CLOCK, useFactory: () => new FrameClock({ logger: logger.child({ component: 'frame-clock' }) }) },
        {
          provide: MEDIA_EVENTS_CLIENT,
          useFactory: () => new PrefixedRedisClient({ ...busRedisOptions(config.redis.url), channelPrefix: busChannelPrefix(config.redis.keyPrefix) }),
        },
        {
          provide: WA_LEG_FACTORY,
          useFactory: (clock: FrameClock) => new ConfiguredWaLegFactory(config.media, clock, recordSecondsFor(config)),
          inject: [MEDIA_FRAME_CLOCK],
        },
        { provide: RTP_ADDRESSES, useFactory: () => rtpAddresses(config.media) },
        {
          provide: RTP_PORT_ALLOCATOR,
          useFactory: (addresses: RtpAddresses) => new RtpPortAllocator({ portMin: config.media.rtpPortMin, portMax: config.media.rtpPortMax, host: addresses.bindHost }),
          inject: [RTP_ADDRESSES],
        },
        WaLegEventsPublisher,
        BridgeEventsPublisher,
        InstanceHeartbeatService,
        { provide: CallAdmission, useFactory: () => new CallAdmission(config.media.maxCalls) },
        SessionRegistry,
        BridgeRegistry,
        PbxLegRegistry,
        mediaMetricsProvider,
      ],
    };
  }
}
