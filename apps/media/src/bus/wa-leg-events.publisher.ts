import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { CONTRACT_VERSION, MEDIA_EVENTS, parseMessage, waLegStateChangedEvent } from '@wagw/contracts';
import type { Logger } from '@wagw/logging';
import type { WaLegState } from '@wagw/media-bridge';
import { MEDIA_EVENTS_CLIENT, MEDIA_LOGGER } from '../media.tokens';

/** Emits WhatsApp-leg events to signalling over the Redis transport (fire-and-forget, validated first). */
@Injectable()
export class WaLegEventsPublisher implements OnApplicationShutdown {
  constructor(
    @Inject(MEDIA_EVENTS_CLIENT) private readonly client: ClientProxy,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
  ) {}

  stateChanged(callId: string, legId: string, state: WaLegState, reason?: string): void {
    const pattern = MEDIA_EVENTS.waLegStateChanged;
    const event = parseMessage(pattern, waLegStateChangedEvent, {
      v: CONTRACT_VERSION,
      callId,
      legId,
      state,
      ...(reason ? { reason } : {}),
      at: Date.now(),
    });
    this.client.emit(pattern, event).subscribe({
      error: (err: unknown) => this.logger.warn({ err, callId, legId, state }, 'could not publish WhatsApp leg state'),
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
