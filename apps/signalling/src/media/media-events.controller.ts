import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { MEDIA_EVENTS, PBX_MEDIA_EVENTS, dtmfEvent, parseMessage, waLegStateChangedEvent } from '@wagw/contracts';
import type { CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { CALL_REPOSITORY, SIGNALLING_LOGGER } from '../signalling.tokens';
import { EndCallUseCase } from '../calls/end-call.use-case';
import { DtmfRelay } from '../calls/dtmf-relay';

/**
 * Events from the media app: a WhatsApp leg that fails (ICE/DTLS timeout), or that the media app closes by
 * itself (it is shutting down), ends its call; DTMF is relayed.
 */
@Controller()
export class MediaEventsController {
  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly endCall: EndCallUseCase,
    private readonly dtmf: DtmfRelay,
  ) {}

  @EventPattern(PBX_MEDIA_EVENTS.dtmf)
  async onDtmf(@Payload() payload: unknown): Promise<void> {
    let event;
    try {
      event = parseMessage(PBX_MEDIA_EVENTS.dtmf, dtmfEvent, payload);
    } catch (err) {
      this.logger.warn({ err }, 'media DTMF event refused');
      return;
    }
    await this.dtmf.fromMedia(event);
  }

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
    if (event.state !== 'failed' && event.state !== 'closed') return;
    const record = await this.calls.get(event.callId);
    // a leg the call no longer uses, or one closed by the call's own ending
    if (!record || record.waLegId !== event.legId || record.state === 'ending' || record.state === 'ended') return;
    const cause =
      event.state === 'failed'
        ? `WhatsApp media failed: ${event.reason ?? 'ICE/DTLS did not connect'}`
        : `WhatsApp media leg closed by the media app: ${event.reason ?? 'no reason given'}`;
    await this.endCall.execute(event.callId, { by: 'system', cause });
  }
}
