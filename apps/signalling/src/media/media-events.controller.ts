import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { MEDIA_EVENTS, PBX_MEDIA_EVENTS, dtmfEvent, mediaTimeoutEvent, parseMessage, waLegStateChangedEvent, type MediaTimeoutEvent } from '@wagw/contracts';
import type { CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { CALL_REPOSITORY, SIGNALLING_LOGGER } from '../signalling.tokens';
import { EndCallUseCase } from '../calls/end-call.use-case';
import { DtmfRelay } from '../calls/dtmf-relay';

/**
 * Events from the media app: a WhatsApp leg that fails (ICE/DTLS timeout), or that the media app closes by
 * itself (it is shutting down), ends its call, and so does a media timeout (a bridged side silent for
 * media.rtpTimeoutS); DTMF is relayed.
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

  @EventPattern(PBX_MEDIA_EVENTS.mediaTimeout)
  async onMediaTimeout(@Payload() payload: unknown): Promise<void> {
    let event: MediaTimeoutEvent;
    try {
      event = parseMessage(PBX_MEDIA_EVENTS.mediaTimeout, mediaTimeoutEvent, payload);
    } catch (err) {
      this.logger.warn({ err }, 'media timeout event refused');
      return;
    }
    const record = await this.calls.get(event.callId);
    if (!record || record.state === 'ending' || record.state === 'ended') return;
    if (record.waLegId !== event.waLegId || record.pbxLegId !== event.pbxLegId) {
      // a bridge the call has moved away from (a transfer under way): the media app reports again if it lasts
      this.logger.info({ callId: event.callId, side: event.side, waLegId: event.waLegId, pbxLegId: event.pbxLegId }, 'media timeout of legs the call no longer uses: ignored');
      return;
    }
    await this.endCall.execute(event.callId, { by: 'system', cause: mediaTimeoutCause(event) });
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

/** The CDR's cause of a call ended by a media timeout: which side went silent, for how long. */
export function mediaTimeoutCause(e: Pick<MediaTimeoutEvent, 'side' | 'silentMs' | 'onHold'>): string {
  const from = e.side === 'pbx' ? 'the PBX' : 'WhatsApp';
  return `media timeout: no RTP or RTCP from ${from} for ${Math.round(e.silentMs / 1000)} s${e.onHold ? ' (call on hold)' : ''}`;
}
