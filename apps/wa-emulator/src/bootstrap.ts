import 'reflect-metadata';
import { type INestApplication, ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, loadConfig } from '@wagw/config';
import { type Logger, PinoNestLogger, createLogger } from '@wagw/logging';
import type { UserMediaFactory } from '@wagw/media-bridge';
import { EmulatorCore } from './domain/emulator.core';
import type { WebhookTransport } from './domain/webhook.sender';
import { EmulatorModule } from './emulator.module';
import { useRequestBodies } from './http/body-parsing';
import { BrowserMediaHub } from './media/browser-media.hub';
import { createDefaultUserMediaFactory } from './media/default-user-media';
import { SwitchingUserMediaFactory } from './media/media-mode.factory';
import { SdpOnlyUserMediaFactory } from './media/sdp-only-user-media';
import type { PhoneServices } from './phone/phone.tokens';

export interface EmulatorOverrides {
  /** Media of the simulated users in `simulated` mode; default: createDefaultUserMediaFactory (werift). */
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
  /** http://host:port of the Graph endpoints, the control API and the phone pages (/phone/:waId). */
  baseUrl: string;
  /** The browser media relay and the per-user media mode switch (PUT /emulator/users/:waId/media-mode). */
  phone: PhoneServices;
  /** Media of users in mode `sdp-only` (load runs): `sinkPackets` counts the ICE checks that reached its sink. */
  sdpOnlyMedia: SdpOnlyUserMediaFactory;
  /** Cancels every timer, closes every user session, stops deliveries, then stops the HTTP server. */
  close(): Promise<void>;
}

/** How long a `?media=browser` phone page has for an SDP job (getUserMedia and ICE gathering included). */
const BROWSER_JOB_TIMEOUT_MS = 15_000;

/** Boots the WhatsApp Cloud API emulator (in-process for tests; main.ts for the demo). */
export async function bootstrapEmulator(config?: Readonly<AppConfig>, overrides: EmulatorOverrides = {}): Promise<EmulatorHandle> {
  // eslint-disable-next-line no-process-env -- the app edge hands the environment to libs/config
  const cfg = config ?? loadConfig({ env: process.env });
  const logger = overrides.logger ?? createLogger({ name: 'wa-emulator', level: cfg.log.level, pretty: cfg.log.pretty });
  const mediaLogger = logger.child({ component: 'user-media' });
  const hub = new BrowserMediaHub({ logger: mediaLogger, jobTimeoutMs: BROWSER_JOB_TIMEOUT_MS });
  const simulated = overrides.userMediaFactory ?? createDefaultUserMediaFactory(cfg, mediaLogger);
  const sdpOnly = new SdpOnlyUserMediaFactory({ iceAddress: cfg.emulator.userIceAddress, logger: mediaLogger });
  const phone: PhoneServices = { hub, media: new SwitchingUserMediaFactory({ simulated, hub, sdpOnly, logger: mediaLogger }) };
  const core = new EmulatorCore({
    config: cfg,
    logger,
    userMediaFactory: phone.media,
    ...(overrides.webhookTransport ? { webhookTransport: overrides.webhookTransport } : {}),
  });
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(EmulatorModule.forRoot(core, logger, phone), { bodyParser: false, logger: new PinoNestLogger(logger) });
    useRequestBodies(app);
    app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
    await app.listen(overrides.port ?? cfg.emulator.httpPort, cfg.emulator.httpHost);
  } catch (err) {
    hub.close();
    await core.close();
    await sdpOnly.close();
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
    phone,
    sdpOnlyMedia: sdpOnly,
    close: () => {
      closing ??= (async () => {
        hub.close();
        await core.close();
        await sdpOnly.close();
        // a browser's keep-alive or polling connections would hold server.close() open: give requests in
        // flight a moment, then cut what is left (the emulator is a test and demo tool)
        const server = started.getHttpServer() as import('node:http').Server;
        server.closeIdleConnections();
        const cut = setTimeout(() => server.closeAllConnections(), 2000);
        try {
          await started.close();
        } finally {
          clearTimeout(cut);
        }
      })();
      return closing;
    },
  };
}
