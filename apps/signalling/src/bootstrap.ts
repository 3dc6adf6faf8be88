import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ValidationPipe, type INestApplication } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { json, raw } from 'express';
import { busChannelPrefix, loadConfig, PrefixedRedisServer, busRedisOptions, type AppConfig, type Env } from '@wagw/config';
import { createLogger, PinoNestLogger, type Logger } from '@wagw/logging';
import { SignallingModule } from './signalling.module';
import { WEBHOOK_PATH } from './webhooks/webhook.controller';
import { WebhookIngestService } from './webhooks/webhook-ingest.service';
import { webhookFastAck } from './webhooks/webhook-fast-ack.middleware';
import { installWebhookFastPath } from './webhooks/webhook-fast-path';
import { SignallingMetrics } from './metrics/signalling-metrics';
import { webhookAckMiddleware } from './metrics/webhook-ack.middleware';

/** Largest webhook body taken (Meta's are a few kB; a batch of many changes stays far below). */
const WEBHOOK_BODY_LIMIT_BYTES = 3 * 1024 * 1024;

export interface SignallingHandle {
  app: INestApplication;
  config: Readonly<AppConfig>;
  logger: Logger;
  /** http://host:port of the webhook/CRM/health server. */
  baseUrl: string;
  close(): Promise<void>;
}

export interface BootstrapSignallingOptions {
  config?: Readonly<AppConfig>;
  logger?: Logger;
  /** Listen on this port instead of signalling.httpPort (tests pass 0 for a free one). */
  port?: number;
  /** Clock of permission decisions (default Date.now); tests pass the emulator's clock. */
  now?: () => number;
  /** Environment the configuration is read from, now and on reload (default process.env). */
  env?: Env;
}

/**
 * Boots the signalling app: HTTP (webhooks with a raw-body parser so the signature is checked over the
 * exact bytes, the CRM API with JSON) and a Redis-transport listener for events from the media app.
 */
export async function bootstrapSignalling(options: BootstrapSignallingOptions = {}): Promise<SignallingHandle> {
  // eslint-disable-next-line no-process-env -- the app edge hands the environment to libs/config
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env });
  const logger = options.logger ?? createLogger({ name: 'signalling', level: config.log.level, pretty: config.log.pretty });
  const app = await NestFactory.create(SignallingModule.forRoot(config, logger, { ...(options.now ? { now: options.now } : {}), reloadConfig: () => loadConfig({ env }) }), {
    bodyParser: false,
    logger: new PinoNestLogger(logger),
  });
  const metrics = app.get(SignallingMetrics);
  const ingest = app.get(WebhookIngestService);
  const appSecret = (): string => config.whatsapp.appSecret;
  // signed JSON webhooks of a known length are read, verified and acked at the HTTP server, before Express
  installWebhookFastPath(app.getHttpServer(), {
    path: WEBHOOK_PATH,
    limitBytes: WEBHOOK_BODY_LIMIT_BYTES,
    appSecret,
    ingest,
    acked: (seconds) => {
      metrics.webhookAcked(seconds);
      metrics.webhook('accepted');
    },
  });
  // the rest (chunked or encoded bodies) the same way inside Express; anything else reaches the guard and controller
  app.use(`/${WEBHOOK_PATH}`, webhookAckMiddleware(metrics));
  app.use(`/${WEBHOOK_PATH}`, raw({ type: () => true, limit: WEBHOOK_BODY_LIMIT_BYTES }));
  app.use(`/${WEBHOOK_PATH}`, webhookFastAck({ appSecret, ingest }));
  // a voicemail announcement is the file itself (Meta: Ogg Opus under 60 s; 16 MB is Meta's audio limit)
  app.use('/v1/admin/whatsapp-voicemail-announcement', raw({ type: ['audio/*', 'application/octet-stream'], limit: '16mb' }));
  app.use(json({ limit: '256kb' }));
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  // the media app's events, on this gateway's bus channels (`<redis.keyPrefix>:`)
  app.connectMicroservice<MicroserviceOptions>({ strategy: new PrefixedRedisServer(busRedisOptions(config.redis.url), busChannelPrefix(config.redis.keyPrefix)) });
  // SIGTERM and SIGINT drain and stop the app; SIGHUP is not a stop here: main.ts reloads the configuration on
  // it (Nest's default list includes SIGHUP, which shut the app down beside the reload)
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.startAllMicroservices();
  const port = options.port ?? config.signalling.httpPort;
  await app.listen(port, config.signalling.httpHost);
  const addr = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://${config.signalling.httpHost}:${addr.port}`;
  logger.info({ baseUrl, graph: config.whatsapp.graphBaseUrl, phoneNumberId: config.whatsapp.phoneNumberId }, 'signalling listening');
  return { app, config, logger, baseUrl, close: () => app.close() };
}
