import { ControlError } from './emulator.errors';
import type { CallButtonSpec } from './graph-requests';

/**
 * The call buttons one user received: interactive `voice_call` messages (reference §3.8, CB-2602). A tap
 * places a user-initiated call whose `connect` carries the button's payload as `cta_payload`; a button can
 * be tapped until `ttl_minutes` after it was sent. Pure: every method takes `now` (the emulator clock, epoch
 * ms), so tests expire buttons by advancing a clock.
 */

export interface CallButtonRecord {
  /** The wamid the send returned. */
  messageId: string;
  displayText: string;
  bodyText: string;
  payload?: string;
  ttlMinutes: number;
  sentAt: number;
  expiresAt: number;
}

/** Buttons kept per user; older ones are forgotten (a tap on them is refused as unknown). */
export const CALL_BUTTONS_KEPT = 50;

export class CallButtonBook {
  /** Newest first. */
  #buttons: CallButtonRecord[] = [];

  constructor(
    readonly waId: string,
    private readonly limit = CALL_BUTTONS_KEPT,
  ) {}

  record(messageId: string, spec: CallButtonSpec, now: number): CallButtonRecord {
    const button: CallButtonRecord = { messageId, ...spec, sentAt: now, expiresAt: now + spec.ttlMinutes * 60_000 };
    this.#buttons.unshift(button);
    if (this.#buttons.length > this.limit) this.#buttons.length = this.limit;
    return button;
  }

  /** Newest first. */
  list(): readonly CallButtonRecord[] {
    return this.#buttons;
  }

  isExpired(button: CallButtonRecord, now: number): boolean {
    return now >= button.expiresAt;
  }

  /**
   * The button a tap applies to: the one named, else the newest. Refused when there is none (not_found) or
   * when it has expired (conflict).
   */
  tappable(now: number, messageId?: string): CallButtonRecord {
    const button = messageId === undefined ? this.#buttons[0] : this.#buttons.find((b) => b.messageId === messageId);
    if (!button) {
      throw new ControlError(
        'not_found',
        messageId === undefined
          ? `user ${this.waId} has received no call button`
          : `user ${this.waId} has no call button ${messageId} (unknown, or older than the newest ${this.limit})`,
      );
    }
    if (this.isExpired(button, now)) throw new ControlError('conflict', `call button expired at ${new Date(button.expiresAt).toISOString()} (message ${button.messageId})`);
    return button;
  }
}
