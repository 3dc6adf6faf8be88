import { DynamicModule, Inject, Module, type OnApplicationShutdown, type Provider, type Type } from '@nestjs/common';
import { ClientsModule, type ClientProxy } from '@nestjs/microservices';
import { APP_FILTER } from '@nestjs/core';
import Redis from 'ioredis';
import { busChannelPrefix, ConfigModule, busRedisOptions, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { createNodeHttpFetch, RedisDedupStore, WhatsAppGraphClient } from '@wagw/whatsapp';
import { DEAD_LETTERS, DEDUP_STORE, GRAPH_CLIENT, SIGNALLING_LOGGER, SIGNALLING_REDIS, EARLY_TERMINATES, CLOCK, PERMISSIONS, CONTACTS, SIGNALLING_INSTANCE_ID, SIGNALLING_INSTANCES } from './signalling.tokens';
import { HealthController } from './health/health.controller';
import { WebhookController } from './webhooks/webhook.controller';
import { WebhookSignatureGuard } from './webhooks/webhook-signature.guard';
import { WebhookIngestService } from './webhooks/webhook-ingest.service';
import { WebhookEventRouter } from './webhooks/webhook-event.router';
import { VoicemailUseCase } from './calls/voicemail.use-case';
import { VoicemailAudio } from './calls/voicemail-audio';
import { MissedCallFollowUp } from './calls/missed-call-follow-up';
import { AccountNotices } from './webhooks/account-notices';
import { DeadLetterRepository } from './webhooks/dead-letter.repository';
import { EarlyTerminateStore } from './webhooks/early-terminate.store';
import { DeadLetterController } from './webhooks/dead-letter.controller';
import { MEDIA_BUS, MEDIA_ROUTER, MediaBusClient } from './media/media-bus.client';
import { MediaRouter } from './media/media-router';
import { MediaInstanceWatchdog } from './media/media-instance.watchdog';
import { OrphanLegSweeper } from './media/orphan-leg.sweeper';
import { MediaInstanceRegistry, SignallingInstanceRegistry, redisKeys } from '@wagw/call-state';
import { MediaBusRedisClient } from './media/media-bus-redis.client';
import { MediaEventsController } from './media/media-events.controller';
import { CallOwnerForwarder } from './calls/call-owner';
import { CallOwnerController } from './calls/call-owner.controller';
import { CrmEventRelay, CrmEventRelayController } from './events/crm-event-relay';
import { CallsController } from './calls/calls.controller';
import { CdrsController } from './calls/cdrs.controller';
import { ApiTokenGuard } from './api/api-token.guard';
import { AppErrorFilter } from './api/app-error.filter';
import { CallRuntime } from './calls/call-runtime';
import { AnswerUserCallUseCase } from './calls/answer-user-call.use-case';
import { EndCallUseCase } from './calls/end-call.use-case';
import { GatewayDrain } from './calls/gateway-drain';
import { SignallingInstanceWatchdog, newSignallingInstanceId } from './calls/signalling-instance.watchdog';
import { BridgeToPbxUseCase } from './calls/bridge-to-pbx.use-case';
import { SipStackService } from './sip/sip-stack.service';
import { TrunkDirectory } from './sip/trunk-directory';
import { PermissionRepository } from '@wagw/permissions';
import { CrmEventBus } from './events/crm-event-bus';
import { CrmEventStreamService } from './events/crm-event-stream.service';
import { CrmWebhookService } from './events/crm-webhook.service';
import { EventsTokenGuard } from './events/events-token.guard';
import { CrmEventsController } from './events/crm-events.controller';
import { OpenApiController } from './openapi/openapi.controller';
import { ConsoleController } from './console/console.controller';
import { PermissionService } from './permissions/permission.service';
import { PermissionsController } from './permissions/permissions.controller';
import { ContactsRepository } from './contacts/contacts.repository';
import { ContactsController } from './contacts/contacts.controller';
import { PbxDialer } from './sip/pbx-dialer';
import { AgentDirectory } from './sip/agent-directory';
import { StartAgentCallUseCase } from './calls/start-agent-call.use-case';
import { DialAgentUseCase } from './calls/dial-agent.use-case';
import { BusinessCallEventsHandler } from './calls/business-call-events.handler';
import { OPERATIONS_CONTROLLERS, operationsProviders } from './admin/operations.providers';
import { PbxOriginatedCallUseCase } from './calls/pbx-originated-call.use-case';
import { DtmfRelay } from './calls/dtmf-relay';
import { PbxSdpUpdates } from './calls/pbx-sdp-updates';
import { TransferService } from './calls/transfer.service';
import { SipInboundRegistrar } from './sip/sip-inbound.registrar';
import { signallingMetricsProviders } from './metrics/metrics.providers';
import { SignallingMetrics } from './metrics/signalling-metrics';
import { meteredGraphFetch } from './metrics/graph-requests.fetch';

export interface SignallingModuleOptions {
  /** Clock for permission decisions (epoch ms); tests pass the emulator's so days can pass. */
  now?: () => number;
  /** Re-reads the configuration for POST /v1/admin/reload and SIGHUP (bootstrap passes loadConfig over its env). */
  reloadConfig?: () => Readonly<AppConfig>;
}

/** Wires the signalling app from plain classes (STYLE §1): config, Redis, Graph client, bus, use cases. */
/** A call's media instance record outlives a call that never ends cleanly by as long as its call record does. */
const LIVE_CALL_TTL_MS = 6 * 3_600_000;

@Module({})
export class SignallingModule implements OnApplicationShutdown {
  constructor(@Inject(SIGNALLING_REDIS) private readonly redis: Redis) {}

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  static forRoot(config: Readonly<AppConfig>, logger: Logger, options: SignallingModuleOptions = {}): DynamicModule {
    const providers: Provider[] = [
      { provide: SIGNALLING_LOGGER, useValue: logger },
      {
        provide: SIGNALLING_REDIS,
        // auto-pipelining: commands of concurrent calls issued in one tick leave in one write (fewer syscalls under load)
        useFactory: () => new Redis(config.redis.url, { maxRetriesPerRequest: 2, lazyConnect: false, enableAutoPipelining: true }),
      },
      {
        // several media apps (signalling.mediaInstances): each call's requests go to the instance of its legs
        provide: MEDIA_ROUTER,
        useFactory: (redis: Redis) =>
          config.signalling.mediaInstances.length === 0
            ? null
            : new MediaRouter({
                instances: config.signalling.mediaInstances,
                directory: new MediaInstanceRegistry(redis, redisKeys(config.redis.keyPrefix)),
                logger: logger.child({ component: 'media-router' }),
                assignmentTtlMs: LIVE_CALL_TTL_MS,
              }),
        inject: [SIGNALLING_REDIS],
      },
      { provide: SIGNALLING_INSTANCE_ID, useValue: newSignallingInstanceId() },
      {
        provide: SIGNALLING_INSTANCES,
        useFactory: (redis: Redis) => new SignallingInstanceRegistry(redis, redisKeys(config.redis.keyPrefix)),
        inject: [SIGNALLING_REDIS],
      },
      { provide: DEDUP_STORE, useFactory: (redis: Redis) => new RedisDedupStore(redis, config.redis.keyPrefix), inject: [SIGNALLING_REDIS] },
      {
        provide: DEAD_LETTERS,
        useFactory: (redis: Redis) => new DeadLetterRepository(redis, config.redis.keyPrefix, config.signalling.deadLetterMax),
        inject: [SIGNALLING_REDIS],
      },
      {
        provide: EARLY_TERMINATES,
        useFactory: (redis: Redis) => new EarlyTerminateStore(redis, config.redis.keyPrefix, config.whatsapp.webhookDedupTtlS),
        inject: [SIGNALLING_REDIS],
      },
      ...signallingMetricsProviders(config),
      {
        provide: GRAPH_CLIENT,
        inject: [SignallingMetrics],
        useFactory: (metrics: SignallingMetrics) =>
          new WhatsAppGraphClient({
            // keep-alive node:http instead of global fetch (undici): a fifth of the CPU per Graph request; the
            // metering wrapper passes the exchange through and reads only its status
            fetch: meteredGraphFetch(metrics, createNodeHttpFetch() as unknown as typeof fetch),
            baseUrl: config.whatsapp.graphBaseUrl,
            apiVersion: config.whatsapp.graphApiVersion,
            accessToken: config.whatsapp.accessToken,
            phoneNumberId: config.whatsapp.phoneNumberId,
            requestTimeoutMs: config.whatsapp.requestTimeoutMs,
            maxRetries: config.whatsapp.maxRetries,
            retryBaseDelayMs: config.whatsapp.retryBaseDelayMs,
            logger: logger.child({ component: 'graph' }),
          }),
      },
      { provide: APP_FILTER, useClass: AppErrorFilter },
      WebhookSignatureGuard,
      WebhookIngestService,
      WebhookEventRouter,
      VoicemailUseCase,
      VoicemailAudio,
      AccountNotices,
      MissedCallFollowUp,
      MediaBusClient,
      ApiTokenGuard,
      CallRuntime,
      AnswerUserCallUseCase,
      EndCallUseCase,
      GatewayDrain,
      BridgeToPbxUseCase,
      SipStackService,
      { provide: TrunkDirectory, useValue: new TrunkDirectory(config.pbx) },
      { provide: CLOCK, useValue: options.now ?? Date.now },
      {
        provide: PERMISSIONS,
        useFactory: (redis: Redis) => new PermissionRepository(redis, { keyPrefix: config.redis.keyPrefix, logger: logger.child({ component: 'permissions' }), now: options.now ?? Date.now }),
        inject: [SIGNALLING_REDIS],
      },
      { provide: CONTACTS, useFactory: (redis: Redis) => new ContactsRepository(redis, config.redis.keyPrefix), inject: [SIGNALLING_REDIS] },
      CrmEventBus,
      CrmEventStreamService,
      CrmWebhookService,
      EventsTokenGuard,
      PermissionService,
      PbxDialer,
      AgentDirectory,
      StartAgentCallUseCase,
      CallOwnerForwarder,
      CrmEventRelay,
      DialAgentUseCase,
      BusinessCallEventsHandler,
      ...operationsProviders(options.reloadConfig),
      PbxOriginatedCallUseCase,
      DtmfRelay,
      PbxSdpUpdates,
      TransferService,
      MediaInstanceWatchdog,
      OrphanLegSweeper,
      SignallingInstanceWatchdog,
      SipInboundRegistrar,
    ];
    return {
      module: SignallingModule,
      imports: [
        ConfigModule.forRoot(config),
        ClientsModule.register([{ name: MEDIA_BUS, customClass: MediaBusRedisClient as unknown as Type<ClientProxy>, options: { ...busRedisOptions(config.redis.url), channelPrefix: busChannelPrefix(config.redis.keyPrefix) } }]),
      ],
      controllers: [HealthController, WebhookController, DeadLetterController, CallsController, CdrsController, MediaEventsController, CallOwnerController, CrmEventRelayController, PermissionsController, ContactsController, CrmEventsController, OpenApiController, ConsoleController, ...OPERATIONS_CONTROLLERS],
      providers,
    };
  }
}
