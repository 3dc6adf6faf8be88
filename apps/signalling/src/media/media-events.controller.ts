import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { MEDIA_EVENTS, parseMessage, waLegStateChangedEvent } from '@wagw/contracts';
import type { CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { CALL_REPOSITORY, SIGNALLING_LOGGER } from '../signalling.tokens';
import { EndCallUseCase } from '../calls/end-call.use-case';

/** Events from the media app: a WhatsApp leg that fails (ICE/DTLS timeout) ends its call. */
@Controller()
export class MediaEventsController {
  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly endCall: EndCallUseCase,
  ) {}

  @EventPattern(MEDIA_EVENTS.waLegStateChanged)
  async onWaLegState(@Payload() payload: unknown): Promise<void> {
    let event;
    try {
      event = parseMessage(MEDIA_EVENTS.waLegStateChanged, waLegStateChangedEvent, payload);
    } catch (err) {
      this.logger.warn({ err }, 'media event refused');
      return;
    }
    this.logger.debug({ callId: event.callId, legId: event.legId, state: event.state }, 'WhatsApp media leg state');
    if (event.state !== 'failed') return;
    const record = await this.calls.get(event.callId);
    if (!record || record.waLegId !== event.legId) return;
    await this.endCall.execute(event.callId, { by: 'system', cause: `WhatsApp media failed: ${event.reason ?? 'ICE/DTLS did not connect'}` });
  }
}
