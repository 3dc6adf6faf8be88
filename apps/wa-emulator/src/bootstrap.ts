import 'reflect-metadata';
import { type INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, loadConfig } from '@wagw/config';
import { type Logger, createLogger } from '@wagw/logging';
import type { UserMediaFactory } from '@wagw/media-bridge';
import { EmulatorCore } from './domain/emulator.core';
import type { WebhookTransport } from './domain/webhook.sender';
import { EmulatorModule } from './emulator.module';
import { useJsonBodies } from './http/body-parsing';
import { PinoNestLogger } from './http/pino-nest-logger';
import { createDefaultUserMediaFactory } from './media/default-user-media';

export interface EmulatorOverrides {
  /** Media of the simulated users; default: createDefaultUserMediaFactory (werift). */
  userMediaFactory?: UserMediaFactory;
  logger?: Logger;
  /** Listen on this port instead of emulator.httpPort (0: a free one). */
  port?: number;
  /** How webhooks leave the process; default HTTP POST to emulator.webhookUrl. */
  webhookTransport?: WebhookTransport;
}

export interface EmulatorHandle {
  app: INestApplication;
  core: EmulatorCore;
  config: Readonly<AppConfig>;
  /** http://host:port of the Graph endpoints and the control API. */
  baseUrl: string;
  /** Cancels every timer, closes every user session, stops deliveries, then stops the HTTP server. */
  close(): Promise<void>;
}

/** Boots the WhatsApp Cloud API emulator (in-process for tests; main.ts for the demo). */
export async function bootstrapEmulator(config?: Readonly<AppConfig>, overrides: EmulatorOverrides = {}): Promise<EmulatorHandle> {
  // eslint-disable-next-line no-process-env -- the app edge hands the environment to libs/config
  const cfg = config ?? loadConfig({ env: process.env });
  const logger = overrides.logger ?? createLogger({ name: 'wa-emulator', level: cfg.log.level, pretty: cfg.log.pretty });
  const core = new EmulatorCore({
    config: cfg,
    logger,
    userMediaFactory: overrides.userMediaFactory ?? createDefaultUserMediaFactory(cfg, logger.child({ component: 'user-media' })),
    ...(overrides.webhookTransport ? { webhookTransport: overrides.webhookTransport } : {}),
  });
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(EmulatorModule.forRoot(core, logger), { bodyParser: false, logger: new PinoNestLogger(logger) });
    useJsonBodies(app);
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
    await app.listen(overrides.port ?? cfg.emulator.httpPort, cfg.emulator.httpHost);
  } catch (err) {
    await core.close();
    await app?.close();
    throw err;
  }
  const addr = app.getHttpServer().address() as { port: number };
  const baseUrl = `http://${cfg.emulator.httpHost}:${addr.port}`;
  logger.info({ baseUrl, webhookUrl: cfg.emulator.webhookUrl, phoneNumberId: cfg.whatsapp.phoneNumberId }, 'WhatsApp emulator listening');
  const started = app;
  let closing: Promise<void> | undefined;
  return {
    app: started,
    core,
    config: cfg,
    baseUrl,
    close: () => {
      closing ??= (async () => {
        await core.close();
        await started.close();
      })();
      return closing;
    },
  };
}
