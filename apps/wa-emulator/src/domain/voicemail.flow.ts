import { createHash } from 'node:crypto';
import type { Logger } from '@wagw/logging';
import type { CallLifecycle } from './call-lifecycle';
import type { EmulatedCall, EndReason } from './call.record';
import type { Clock } from './clock';
import { ControlError } from './emulator.errors';
import { newMediaId } from './ids';
import type { SettingsStore, VoicemailTrigger } from './settings.store';
import type { UserRegistry } from './users.registry';
import type { WebhookEmitter } from './webhook.emitter';

export interface VoicemailFlowDeps {
  clock: Clock;
  users: UserRegistry;
  lifecycle: CallLifecycle;
  settings: SettingsStore;
  emitter: WebhookEmitter;
  logger: Logger;
}

export interface LeaveVoicemailInput {
  /** The call to leave it on; omitted: the user's most recent user-initiated call. */
  waCallId?: string;
  /** Length of the recording, 1-600 s. */
  durationS?: number;
}

export interface VoicemailLeft {
  waCallId: string;
  mediaId: string;
}

export const DEFAULT_VOICEMAIL_DURATION_S = 12;

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
 * has recorded. It keeps no audio: the media id is new and not served, the sha256 is of a stand-in.
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
    const mediaId = newMediaId();
    const now = this.deps.clock.now();
    call.voicemail = { mediaId, leftAt: now, durationS };
    call.note(now, 'voicemail_left', { mediaId, durationS, trigger });
    const sha256 = createHash('sha256').update(`voicemail ${call.id} ${mediaId} ${durationS}s`).digest('hex');
    this.deps.emitter.voicemail(user, { callId: call.id, mediaId, sha256 });
    this.deps.logger.info({ waCallId: call.id, waId, mediaId, durationS, trigger }, 'user left a voicemail');
    return { waCallId: call.id, mediaId };
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
