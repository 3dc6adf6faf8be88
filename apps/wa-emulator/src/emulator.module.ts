import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import type { EmulatorCore } from './domain/emulator.core';
import { EMULATOR_CORE, EMULATOR_LOGGER } from './emulator.tokens';
import { ControlEmulatorController } from './http/control-emulator.controller';
import { ControlUsersController } from './http/control-users.controller';
import { GraphMediaController, MediaDownloadController } from './http/graph-media.controller';
import { GraphController } from './http/graph.controller';
import { HealthController } from './http/health.controller';
import { BrowserMediaController } from './phone/browser-media.controller';
import { PhonePageController } from './phone/phone-page.controller';
import { PHONE_SERVICES, type PhoneServices } from './phone/phone.tokens';
import { EmulatorMetrics } from './metrics/emulator-metrics';
import { EmulatorMetricsController } from './metrics/emulator-metrics.controller';

/** Closes the core (timers, deliveries, user media) before the HTTP server stops. */
@Injectable()
class EmulatorShutdown implements BeforeApplicationShutdown {
  constructor(
    @Inject(EMULATOR_CORE) private readonly core: EmulatorCore,
    @Inject(PHONE_SERVICES) private readonly phone: PhoneServices,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    this.phone.hub.close(); // ends the phone pages' job streams, which would keep the HTTP server open
    await this.core.close();
  }
}

/**
 * The emulator's thin Nest layer: controllers over an EmulatorCore built outside Nest. Control routes are
 * registered before the Graph routes so /emulator/* never reaches the `:version/:phoneNumberId` patterns. The
 * media controllers come last: `:version/:mediaId` matches every two-segment path (the phone page, the control
 * lists, `/whatsapp_business/attachments/`), so it must follow every route it could shadow.
 */
@Module({})
export class EmulatorModule {
  static forRoot(core: EmulatorCore, logger: Logger, phone: PhoneServices): DynamicModule {
    return {
      module: EmulatorModule,
      controllers: [HealthController, EmulatorMetricsController, ControlUsersController, ControlEmulatorController, BrowserMediaController, PhonePageController, GraphController, MediaDownloadController, GraphMediaController],
      providers: [
        { provide: EMULATOR_CORE, useValue: core },
        { provide: EMULATOR_LOGGER, useValue: logger },
        { provide: PHONE_SERVICES, useValue: phone },
        { provide: EmulatorMetrics, useFactory: () => new EmulatorMetrics(core) },
        EmulatorShutdown,
      ],
    };
  }
}
