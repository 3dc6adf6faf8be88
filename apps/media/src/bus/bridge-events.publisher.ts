import { Inject, Injectable } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { CONTRACT_VERSION, dtmfEvent, mediaTimeoutEvent, parseMessage, PBX_MEDIA_EVENTS } from '@wagw/contracts';
import type { Logger } from '@wagw/logging';
import type { DtmfDirection, MediaSilence } from '@wagw/media-bridge';
import { MEDIA_EVENTS_CLIENT, MEDIA_LOGGER } from '../media.tokens';

/**
 * Emits the bridges' events to signalling, fire-and-forget, validated first: DTMF digits
 * (PBX_MEDIA_EVENTS.dtmf) and media timeouts (PBX_MEDIA_EVENTS.mediaTimeout). The Redis client is shared
 * with (and closed by) WaLegEventsPublisher.
 */
@Injectable()
export class BridgeEventsPublisher {
  constructor(
    @Inject(MEDIA_EVENTS_CLIENT) private readonly client: ClientProxy,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
  ) {}

  digit(callId: string, direction: DtmfDirection, digit: string, durationMs: number): void {
    const pattern = PBX_MEDIA_EVENTS.dtmf;
    const event = parseMessage(pattern, dtmfEvent, { v: CONTRACT_VERSION, callId, direction, digit, durationMs: Math.round(durationMs), at: Date.now() });
    this.client.emit(pattern, event).subscribe({
      error: (err: unknown) => this.logger.warn({ err, callId, direction, digit }, 'could not publish a DTMF digit'),
    });
  }

  mediaTimeout(callId: string, legs: { waLegId: string; pbxLegId: string }, silence: MediaSilence): void {
    const pattern = PBX_MEDIA_EVENTS.mediaTimeout;
    const event = parseMessage(pattern, mediaTimeoutEvent, {
      v: CONTRACT_VERSION,
      callId,
      ...legs,
      side: silence.side,
      silentMs: Math.round(silence.silentMs),
      limitMs: Math.round(silence.limitMs),
      onHold: silence.onHold,
      at: Date.now(),
    });
    this.client.emit(pattern, event).subscribe({
      error: (err: unknown) => this.logger.warn({ err, callId, side: silence.side }, 'could not publish a media timeout'),
    });
  }
}
