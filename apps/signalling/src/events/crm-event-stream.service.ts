import { type BeforeApplicationShutdown, Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_LOGGER } from '../signalling.tokens';
import { CrmEventBus } from './crm-event-bus';
import { CrmEventStream } from './crm-event-stream';

/**
 * Nest wiring of the SSE fan-out: one `CrmEventStream` fed by the CRM event bus from construction on (so
 * the replay buffer fills even while no client is connected). Before the HTTP server closes, every SSE
 * response is ended: an open event stream would otherwise keep the server from closing.
 */
@Injectable()
export class CrmEventStreamService implements BeforeApplicationShutdown {
  readonly stream: CrmEventStream;
  readonly #unsubscribe: () => void;

  constructor(@Inject(APP_CONFIG) config: AppConfig, @Inject(SIGNALLING_LOGGER) logger: Logger, bus: CrmEventBus) {
    this.stream = new CrmEventStream({ bufferSize: config.crm.eventBufferSize, logger: logger.child({ component: 'crm-sse' }) });
    // every signalling process's events: a CRM connected to this one sees the calls the others carry
    this.#unsubscribe = bus.subscribe((event) => this.stream.publish(event), { shared: true });
  }

  beforeApplicationShutdown(): void {
    this.#unsubscribe();
    this.stream.close();
  }
}
