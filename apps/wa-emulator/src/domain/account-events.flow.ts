import type { Logger } from '@wagw/logging';
import type { Clock } from './clock';
import type { WebhookChange } from './webhook-payloads';
import type { WebhookEmitter } from './webhook.emitter';

/**
 * Calling restriction types: the two of GET settings (§5.2, CS-2606), the older combined one, and the one for
 * a low pickup rate (§2.9, CS-2606).
 */
export const CALLING_RESTRICTION_TYPES = [
  'RESTRICTED_USER_INITIATED_CALLING',
  'RESTRICTED_BUSINESS_INITIATED_CALLING',
  'RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING',
  'RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN',
] as const;
export type CallingRestrictionType = (typeof CALLING_RESTRICTION_TYPES)[number];

export const ACCOUNT_EVENTS = ['ACCOUNT_RESTRICTION', 'ACCOUNT_VIOLATION'] as const;

export interface RestrictionInput {
  type: CallingRestrictionType;
  /** Seconds from now (emulator clock); omitted: until lifted. */
  expiresInS?: number;
}

export type AccountEventInput = { event: 'ACCOUNT_RESTRICTION'; restrictions: RestrictionInput[] } | { event: 'ACCOUNT_VIOLATION'; violationType: string };

/** `reason` of a `restrictions_list` entry; Meta's wording is not documented (§5.2 shows "..."). */
const REASONS: Readonly<Record<CallingRestrictionType, string>> = {
  RESTRICTED_USER_INITIATED_CALLING: 'User-initiated calling is restricted for this phone number',
  RESTRICTED_BUSINESS_INITIATED_CALLING: 'Business-initiated calling is restricted for this phone number',
  RESTRICTED_BIZ_INITIATED_AND_USER_INITIATED_CALLING: 'Business-initiated and user-initiated calling are restricted for this phone number',
  RESTRICTED_USER_INITIATED_CALLING_CALL_BUTTON_HIDDEN: 'Low pickup rate of user-initiated calls: the call button is hidden',
};

interface ActiveRestriction {
  type: CallingRestrictionType;
  /** Emulator clock, epoch ms; undefined: until lifted. */
  expiresAtMs: number | undefined;
}

export interface AccountEventsFlowDeps {
  clock: Clock;
  emitter: WebhookEmitter;
  logger: Logger;
}

/**
 * Account-level calling events of the business number (reference §2.9 `account_update`, §5.2 `restrictions`).
 * An `ACCOUNT_RESTRICTION` event replaces the number's restrictions (an empty list lifts them); they show in
 * GET settings until they expire on the emulator clock. The emulator does not enforce them on calls.
 */
export class AccountEventsFlow {
  #restrictions: ActiveRestriction[] = [];

  constructor(private readonly deps: AccountEventsFlowDeps) {}

  /** Applies the event and sends `account_update`; returns the change sent. */
  send(input: AccountEventInput): WebhookChange {
    if (input.event === 'ACCOUNT_VIOLATION') {
      this.deps.logger.info({ violationType: input.violationType }, 'account violation sent');
      return this.deps.emitter.accountUpdate({ event: 'ACCOUNT_VIOLATION', violationType: input.violationType });
    }
    const now = this.deps.clock.now();
    this.#restrictions = input.restrictions.map((r) => ({ type: r.type, expiresAtMs: r.expiresInS === undefined ? undefined : now + r.expiresInS * 1000 }));
    this.deps.logger.info({ restrictions: this.#restrictions }, this.#restrictions.length > 0 ? 'calling restricted' : 'calling restrictions lifted');
    return this.deps.emitter.accountUpdate({ event: 'ACCOUNT_RESTRICTION', restrictions: this.#restrictions.map((r) => ({ type: r.type, expiresAtMs: r.expiresAtMs })) });
  }

  /** GET settings' `restrictions.restrictions_list` (§5.2): those not expired at `now`, `expiration` in Unix seconds. */
  restrictionsList(now: number): Record<string, unknown>[] {
    return this.#restrictions
      .filter((r) => r.expiresAtMs === undefined || r.expiresAtMs > now)
      .map((r) => {
        const entry: Record<string, unknown> = { type: r.type, reason: REASONS[r.type] };
        if (r.expiresAtMs !== undefined) entry['expiration'] = Math.floor(r.expiresAtMs / 1000);
        return entry;
      });
  }

  reset(): void {
    this.#restrictions = [];
  }
}
