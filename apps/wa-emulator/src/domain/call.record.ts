import type { UserMediaSession } from '@wagw/media-bridge';
import type { TimerHandle } from './timers';

/** Meta's spelling of the two call directions (webhook `direction`, reference §2.3-§2.6). */
export type CallDirection = 'USER_INITIATED' | 'BUSINESS_INITIATED';

/**
 * States of one emulated call.
 *
 * ```
 * user-initiated:     ringing --pre_accept--> pre_accepted --accept--> accepted --> ended
 *                        \-------------------accept------------------/
 * business-initiated: ringing --user answers--> accepted --> ended
 * any state --(reject, terminate, hang-up, timeouts)--> ended
 * ```
 * `ringing`: the connect webhook is out (UIC: WhatsApp waits for the business; BIC: the user's phone rings).
 */
export const EMULATED_CALL_STATES = ['ringing', 'pre_accepted', 'accepted', 'ended'] as const;
export type EmulatedCallState = (typeof EMULATED_CALL_STATES)[number];

/** Why a call ended; decides the terminate webhook (status, errors) and the permission consequences. */
export const END_REASONS = [
  'user_hangup',
  'user_reject',
  'business_terminate',
  'business_reject',
  'not_answered',
  'ring_timeout',
  'media_timeout',
] as const;
export type EndReason = (typeof END_REASONS)[number];

export interface CallTimelineEntry {
  /** Emulator clock, epoch ms. */
  at: number;
  event: string;
  detail?: Record<string, unknown>;
}

/** Named timers of a call, each guarding one rule. */
export type CallTimerName = 'acceptWindow' | 'ringTimeout' | 'mediaWatchdog' | 'userBehaviour';

/** A voicemail the user left after the call ended unanswered (reference §2.9). */
export interface CallVoicemail {
  mediaId: string;
  /** Emulator clock, epoch ms. */
  leftAt: number;
  durationS: number;
  /** The tone of the recording, Hz. */
  toneHz: number;
}

export interface EmulatedCallInit {
  id: string;
  direction: CallDirection;
  waId: string;
  createdAt: number;
  session: UserMediaSession;
}

export class EmulatedCall {
  readonly id: string;
  readonly direction: CallDirection;
  readonly waId: string;
  readonly createdAt: number;
  readonly session: UserMediaSession;
  state: EmulatedCallState = 'ringing';
  /** UIC: WhatsApp's offer. BIC: the business's offer. */
  offerSdp: string | undefined;
  /** BIC: WhatsApp's answer. */
  answerSdp: string | undefined;
  preAcceptSdp: string | undefined;
  acceptSdp: string | undefined;
  bizOpaqueCallbackData: string | undefined;
  ctaPayload: string | undefined;
  deeplinkPayload: string | undefined;
  connectedAt: number | undefined;
  endedAt: number | undefined;
  endReason: EndReason | undefined;
  terminateStatus: 'COMPLETED' | 'FAILED' | undefined;
  voicemail: CallVoicemail | undefined;
  readonly timeline: CallTimelineEntry[] = [];
  readonly #timers = new Map<CallTimerName, TimerHandle>();

  constructor(init: EmulatedCallInit) {
    this.id = init.id;
    this.direction = init.direction;
    this.waId = init.waId;
    this.createdAt = init.createdAt;
    this.session = init.session;
  }

  get ended(): boolean {
    return this.state === 'ended';
  }

  note(at: number, event: string, detail?: Record<string, unknown>): void {
    this.timeline.push(detail ? { at, event, detail } : { at, event });
  }

  /** Arms a named timer, replacing (and cancelling) one of the same name. */
  setTimer(name: CallTimerName, handle: TimerHandle): void {
    this.#timers.get(name)?.cancel();
    this.#timers.set(name, handle);
  }

  cancelTimer(name: CallTimerName): void {
    this.#timers.get(name)?.cancel();
    this.#timers.delete(name);
  }

  cancelTimers(): void {
    for (const t of this.#timers.values()) t.cancel();
    this.#timers.clear();
  }

  /** Seconds between answer and end, when the call was answered. */
  durationSeconds(): number | undefined {
    if (this.connectedAt === undefined || this.endedAt === undefined) return undefined;
    return Math.max(0, Math.round((this.endedAt - this.connectedAt) / 1000));
  }
}
