import { Inject, Injectable } from '@nestjs/common';
import type { CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import type { VoicemailEvent } from '@wagw/whatsapp';
import { CrmEventBus } from '../events/crm-event-bus';
import { CALL_REPOSITORY, SIGNALLING_LOGGER } from '../signalling.tokens';

/**
 * A user left a voicemail (reference §2.9: Meta answered a call nobody took, recorded the caller, and sends
 * the audio as a message whose id is the call's WACID). The CRM hears `call.voicemail` with Meta's media id,
 * and the call's CDR keeps it as `voicemailMediaId` while the gateway still has it, which is what
 * `GET /v1/calls/{id}/voicemail` (VoicemailAudio) downloads. Best-effort on Meta's side
 * and here: a voicemail for a call the gateway no longer knows is still announced.
 */
@Injectable()
export class VoicemailUseCase {
  constructor(
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly events: CrmEventBus,
  ) {}

  async execute(event: VoicemailEvent): Promise<void> {
    // the call's record, live or its CDR (the wacall alias lives as long as the record)
    const record = await this.calls.getByWaCallId(event.waCallId);
    const waId = record?.userWaId ?? event.from ?? event.contactWaId;
    const log = this.logger.child({ ...(record ? { callId: record.callId } : {}), waCallId: event.waCallId });
    if (record) {
      await this.calls.amend(record.callId, { voicemailMediaId: event.audio.mediaId }).catch((err: unknown) => log.warn({ err }, 'voicemail not noted on the call record'));
    }
    log.info({ waId, mediaId: event.audio.mediaId, mimeType: event.audio.mimeType, callKnown: record !== null }, 'voicemail left by the user');
    this.events.publish('call.voicemail', {
      waCallId: event.waCallId,
      ...(record ? { callId: record.callId } : {}),
      ...(waId ? { waId } : {}),
      ...((record?.userName ?? event.contactName) ? { userName: record?.userName ?? event.contactName } : {}),
      mediaId: event.audio.mediaId,
      ...(event.audio.mimeType ? { mimeType: event.audio.mimeType } : {}),
      ...(record ? { audioPath: `/v1/calls/${encodeURIComponent(record.callId)}/voicemail` } : {}),
    });
  }
}
