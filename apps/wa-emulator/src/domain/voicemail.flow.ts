import type { Logger } from '@wagw/logging';
import { toneAsOggOpus } from '@wagw/media-bridge';
import type { CallLifecycle } from './call-lifecycle';
import type { EmulatedCall, EndReason } from './call.record';
import type { Clock } from './clock';
import { ControlError } from './emulator.errors';
import type { MediaStore } from './media.store';
import type { SettingsStore, VoicemailTrigger } from './settings.store';
import type { UserRegistry } from './users.registry';
import { VOICEMAIL_MIME_TYPE } from './webhook-payloads';
import type { WebhookEmitter } from './webhook.emitter';

export interface VoicemailFlowDeps {
  clock: Clock;
  users: UserRegistry;
  lifecycle: CallLifecycle;
  settings: SettingsStore;
  emitter: WebhookEmitter;
  /** Where the recording is kept and served from (GET /<MEDIA_ID>). */
  media: MediaStore;
  logger: Logger;
}

export interface LeaveVoicemailInput {
  /** The call to leave it on; omitted: the user's most recent user-initiated call. */
  waCallId?: string;
  /** Length of the recording, 1-600 s. */
  durationS?: number;
  /** The tone the user "says", 100-4000 Hz, so a test can find it again in the downloaded audio. */
  toneHz?: number;
}

export interface VoicemailLeft {
  waCallId: string;
  mediaId: string;
  /** Hex SHA-256 of the recording, as in the webhook's `audio.sha256`. */
  sha256: string;
  /** Bytes of the recording, as GET /<MEDIA_ID> gives `file_size`. */
  fileSize: number;
}

export const DEFAULT_VOICEMAIL_DURATION_S = 12;
export const DEFAULT_VOICEMAIL_TONE_HZ = 440;

export const VOICEMAIL_NOT_ENABLED = 'voicemail is not enabled in the calling settings (POST /<PHONE_NUMBER_ID>/settings calling.voicemail.status)';

/**
 * The trigger an unanswered user call needs (CS-2606): the business refused it (reject, or terminate before
 * accepting), or nobody answered it (the accept window ran out, or the user hung up while it rang, which
 * stands for Meta answering after timeout_seconds and the user hanging up after the recording).
 */
function triggerOf(reason: EndReason | undefined): VoicemailTrigger | undefined {
  switch (reason) {
    case 'business_reject':
    case 'business_terminate':
      return 'REJECT';
    case 'not_answered':
    case 'user_hangup':
      return 'TIMEOUT';
    default:
      return undefined;
  }
}

const conflict = (message: string): ControlError => new ControlError('conflict', message);

/**
 * Voicemail (reference §2.9, §5.1; CS-2606): a user whose call was not answered leaves a recording, which
 * WhatsApp delivers on `messages` as an inbound voice `audio` message whose id is the call's WACID. The
 * emulator does not answer the call or play the announcement itself; the control API says when the user
 * has recorded. The recording is a real Ogg Opus file of `durationS` seconds of a `toneHz` tone, kept in the
 * MediaStore under a new media id and served by GET /<MEDIA_ID> and its download URL; the webhook's sha256 is
 * of those bytes.
 */
export class VoicemailFlow {
  constructor(private readonly deps: VoicemailFlowDeps) {}

  /** 404 unknown user or call; 409 a call that is live, was answered or is business-initiated, or no voicemail applies. */
  leave(waId: string, input: LeaveVoicemailInput = {}): VoicemailLeft {
    const user = this.deps.users.get(waId);
    const call = this.#callOf(waId, input.waCallId);
    this.#assertUnanswered(call);
    if (call.voicemail) throw conflict(`user ${waId} already left a voicemail on call ${call.id} (media ${call.voicemail.mediaId})`);
    const trigger = this.#triggerFor(call);
    const durationS = input.durationS ?? DEFAULT_VOICEMAIL_DURATION_S;
    const toneHz = input.toneHz ?? DEFAULT_VOICEMAIL_TONE_HZ;
    // about 50 us of encoding per 20 ms frame: 1.5 s for the longest (600 s) recording
    const recording = toneAsOggOpus({ frequencyHz: toneHz, durationS, comments: [`TITLE=voicemail ${call.id}`] });
    const { id: mediaId, sha256, fileSize } = this.deps.media.put(recording, VOICEMAIL_MIME_TYPE);
    const now = this.deps.clock.now();
    call.voicemail = { mediaId, leftAt: now, durationS, toneHz };
    call.note(now, 'voicemail_left', { mediaId, durationS, trigger });
    this.deps.emitter.voicemail(user, { callId: call.id, mediaId, sha256 });
    this.deps.logger.info({ waCallId: call.id, waId, mediaId, durationS, toneHz, fileSize, trigger }, 'user left a voicemail');
    return { waCallId: call.id, mediaId, sha256, fileSize };
  }

  #callOf(waId: string, waCallId: string | undefined): EmulatedCall {
    if (waCallId !== undefined) {
      const call = this.deps.lifecycle.find(waCallId);
      if (!call || call.waId !== waId) throw new ControlError('not_found', `user ${waId} has no call ${waCallId}`);
      return call;
    }
    const call = this.deps.lifecycle
      .list()
      .filter((c) => c.waId === waId && c.direction === 'USER_INITIATED')
      .at(-1);
    if (!call) throw new ControlError('not_found', `user ${waId} has placed no call`);
    return call;
  }

  #assertUnanswered(call: EmulatedCall): void {
    if (call.direction !== 'USER_INITIATED') throw conflict(`call ${call.id} is business-initiated: a voicemail is only left on a call the user placed`);
    if (!call.ended) throw conflict(`call ${call.id} is still live (${call.state}): a voicemail is left once the call has ended unanswered`);
    if (call.connectedAt !== undefined) {
      throw conflict(`call ${call.id} was connected (answered at ${new Date(call.connectedAt).toISOString()}): a voicemail is only left on a call that was not answered`);
    }
  }

  /** The voicemail block in effect must have the trigger this call's ending needs. */
  #triggerFor(call: EmulatedCall): VoicemailTrigger {
    const voicemail = this.deps.settings.voicemail();
    if (!voicemail) throw conflict(VOICEMAIL_NOT_ENABLED);
    if (!this.deps.settings.callingEnabled()) throw conflict('calling is DISABLED in the calling settings (calling.status): voicemail needs calling');
    const reason = call.endReason ?? 'unknown';
    const trigger = triggerOf(call.endReason);
    if (!trigger) throw conflict(`call ${call.id} ended with ${reason}: no voicemail trigger applies`);
    if (voicemail.triggers.includes(trigger)) return trigger;
    const how = trigger === 'REJECT' ? 'was refused by the business' : 'was not answered';
    if (trigger === 'TIMEOUT' && voicemail.timeoutIgnored) {
      throw conflict(`call ${call.id} ${how} (${reason}), but calling.voicemail has TIMEOUT without audio.default.timeout_seconds, which counts as disabled`);
    }
    throw conflict(`call ${call.id} ${how} (${reason}), but calling.voicemail.triggers does not include ${trigger}`);
  }
}
