import type { UserMediaSession } from '@wagw/media-bridge';
import { CallButtonBook } from './call-button.book';
import { ControlError } from './emulator.errors';
import { newBsuid } from './ids';
import { PermissionBook, type PermissionChoice, type PermissionLimits } from './permission.book';

/** How a simulated user reacts to the business (PUT /emulator/users/:waId/behaviour). */
export interface UserBehaviour {
  /** A business-initiated call: answer, decline, or let it ring until the ring timeout. */
  incomingCall: 'accept' | 'reject' | 'ignore';
  /** Delay before answering or declining. */
  answerAfterMs: number;
  /** A permission request: no automatic reply, or the choice the user makes. */
  permissionRequest: 'none' | PermissionChoice;
  replyAfterMs: number;
  /** Whether interactive `voice_call` messages reach the user; false: sending one fails with 131009 (§3.8). */
  callButtons: boolean;
}

export const DEFAULT_BEHAVIOUR: Readonly<UserBehaviour> = {
  incomingCall: 'accept',
  answerAfterMs: 1000,
  permissionRequest: 'none',
  replyAfterMs: 1000,
  callButtons: true,
};

/** E.164 digits without the plus, as Meta writes wa_id. */
export const WA_ID_PATTERN = /^\d{6,15}$/;

/** One WhatsApp user on the emulator's side: profile, behaviour, permission state, call buttons, current call. */
export class SimulatedUser {
  readonly bsuid = newBsuid();
  behaviour: UserBehaviour = { ...DEFAULT_BEHAVIOUR };
  currentCallId: string | undefined;
  /** Media of the current (or, after it ended, the last) call, kept for /media/analysis. */
  lastSession: { callId: string; session: UserMediaSession } | undefined;
  readonly permissions: PermissionBook;
  readonly callButtons: CallButtonBook;

  constructor(
    readonly waId: string,
    public name: string,
    limits: PermissionLimits,
  ) {
    this.permissions = new PermissionBook(waId, limits);
    this.callButtons = new CallButtonBook(waId);
  }
}

export class UserRegistry {
  readonly #users = new Map<string, SimulatedUser>();

  constructor(private readonly limits: PermissionLimits) {}

  /** Users exist implicitly: the first mention creates one with a default name. */
  ensure(waId: string, name?: string): SimulatedUser {
    if (!WA_ID_PATTERN.test(waId)) throw new ControlError('invalid', `waId must be 6-15 digits (E.164 without +), got ${JSON.stringify(waId)}`);
    let user = this.#users.get(waId);
    if (!user) {
      user = new SimulatedUser(waId, name ?? `User ${waId}`, this.limits);
      this.#users.set(waId, user);
    } else if (name !== undefined) {
      user.name = name;
    }
    return user;
  }

  find(waId: string): SimulatedUser | undefined {
    return this.#users.get(waId);
  }

  findByBsuid(bsuid: string): SimulatedUser | undefined {
    return [...this.#users.values()].find((u) => u.bsuid === bsuid);
  }

  get(waId: string): SimulatedUser {
    const user = this.#users.get(waId);
    if (!user) throw new ControlError('not_found', `no user ${waId}`);
    return user;
  }

  list(): SimulatedUser[] {
    return [...this.#users.values()];
  }

  clear(): void {
    this.#users.clear();
  }
}
