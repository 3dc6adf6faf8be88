import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { MicroserviceOptions } from '@nestjs/microservices';
import { busChannelPrefix, loadConfig, PrefixedRedisServer, busRedisOptions, type AppConfig } from '@wagw/config';
import { mediaRequestChannel } from '@wagw/contracts';
import { createLogger, PinoNestLogger, type Logger } from '@wagw/logging';
import { gcMode } from './gc-mode';
import { MediaModule } from './media.module';

export interface MediaHandle {
  app: INestApplication;
  config: Readonly<AppConfig>;
  logger: Logger;
  /** http://host:port of the health server. */
  httpUrl: string;
  /** Drains (stops every bridge, closes every WhatsApp and PBX leg), then stops the bus listener and the HTTP server. */
  close(): Promise<void>;
}

export interface BootstrapMediaOptions {
  config?: Readonly<AppConfig>;
  logger?: Logger;
}

function isAppConfig(arg: Readonly<AppConfig> | BootstrapMediaOptions): arg is Readonly<AppConfig> {
  return 'media' in arg && 'redis' in arg;
}

/**
 * Boots the media app: the health HTTP server (media.httpHost/httpPort) and a Redis-transport listener for
 * the signalling app's requests (libs/contracts MEDIA_PATTERNS). Takes the config itself or
 * `{ config?, logger? }`; without a config it is loaded from config/default.yaml and the environment.
 */
export async function bootstrapMedia(
  configOrOptions: Readonly<AppConfig> | BootstrapMediaOptions = {},
  options: { logger?: Logger } = {},
): Promise<MediaHandle> {
  const opts: BootstrapMediaOptions = isAppConfig(configOrOptions) ? { config: configOrOptions, ...options } : { ...configOrOptions, ...options };
  // eslint-disable-next-line no-process-env -- the app edge hands the environment to libs/config
  const cfg = opts.config ?? loadConfig({ env: process.env });
  const logger = opts.logger ?? createLogger({ name: 'media', level: cfg.log.level, pretty: cfg.log.pretty });
  const app = await NestFactory.create(MediaModule.forRoot(cfg, logger), { logger: new PinoNestLogger(logger) });
  // requests on this gateway's bus (`<keyPrefix>:`), and on this instance's own channels when it has a name
  const channels = busChannelPrefix(cfg.redis.keyPrefix) + mediaRequestChannel(cfg.media.instanceId, '');
  app.connectMicroservice<MicroserviceOptions>({ strategy: new PrefixedRedisServer(busRedisOptions(cfg.redis.url), channels) });
  app.enableShutdownHooks();
  await app.startAllMicroservices();
  await app.listen(cfg.media.httpPort, cfg.media.httpHost);
  const addr = app.getHttpServer().address() as { port: number };
  const httpUrl = `http://${cfg.media.httpHost}:${addr.port}`;
  const gc = gcMode(process.execArgv);
  logger.info({ httpUrl, instanceId: cfg.media.instanceId || '(single)', iceAddress: cfg.media.iceInterfaceAddress || '(all)', publicAddress: cfg.media.publicAddress || '(none)', gc }, 'media listening');
  if (gc !== 'single-threaded') logger.info('V8 collects with background threads: start the media app as `node --single-threaded-gc` when it has one core to itself (README "Several media apps")');
  return { app, config: cfg, logger, httpUrl, close: () => app.close() };
}
