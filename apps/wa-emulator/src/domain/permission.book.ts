import { DAY_MS } from './clock';
import { dailyCallCap, noCallPermission, permanentPermissionExists, permissionRequestLimit } from './emulator.errors';

/**
 * Meta's call-permission rules for one business + user pair (reference §4, UCP-2606). Pure: every method
 * takes `now` (the emulator clock, epoch ms), so tests cross the 24 h / 7 day windows by advancing a clock.
 *
 * - Temporary permission lasts 7 days from approval; permanent lasts until revoked.
 * - Permission requests: at most 1 per 24 h and 2 per 7 days; a connected call in either direction resets
 *   the count (138009). A permanent permission blocks requests (138017).
 * - 4 consecutive unanswered or rejected business-initiated calls revoke the permission; a connected call
 *   resets the streak.
 * - Connected business-initiated calls: at most `dailyConnectedCallCap` per rolling 24 h (138012).
 */

export type PermissionStatus = 'no_permission' | 'temporary' | 'permanent';

export type PermissionGrant =
  | { status: 'no_permission' }
  | { status: 'temporary'; expiresAt: number; grantedAt: number }
  | { status: 'permanent'; grantedAt: number };

export type PermissionChoice = 'allow_once' | 'always_allow' | 'never_allow';

export interface PermissionRequestRecord {
  /** The wamid returned for the request message. */
  id: string;
  sentAt: number;
  via: 'interactive' | 'template';
  /** pending: no reply yet; answered: replied (may be changed until it expires); superseded: a newer one was answered. */
  state: 'pending' | 'answered' | 'superseded';
  repliedAt?: number;
  choice?: PermissionChoice;
}

export interface PermissionLimits {
  temporaryPermissionMs: number;
  requestsPer24h: number;
  requestsPer7d: number;
  /** Request lifetime: 7 days after delivery, or after the user's last reply (UCP-2606). */
  requestLifetimeMs: number;
  revokeAfterUnanswered: number;
  dailyConnectedCallCap: number;
}

export const META_PERMISSION_LIMITS: Omit<PermissionLimits, 'dailyConnectedCallCap'> = {
  temporaryPermissionMs: 7 * DAY_MS,
  requestsPer24h: 1,
  requestsPer7d: 2,
  requestLifetimeMs: 7 * DAY_MS,
  revokeAfterUnanswered: 4,
};

export interface WindowUsage {
  periodMs: number;
  maxAllowed: number;
  currentUsage: number;
  /** When the window frees a slot; set only while the limit is reached. */
  limitExpiresAt?: number;
}

function usage(times: readonly number[], now: number, periodMs: number, maxAllowed: number): WindowUsage {
  const inWindow = times.filter((t) => t > now - periodMs && t <= now).sort((a, b) => a - b);
  const out: WindowUsage = { periodMs, maxAllowed, currentUsage: inWindow.length };
  if (inWindow.length >= maxAllowed) {
    // The slot frees when the oldest counted entry that keeps the window full leaves it.
    const pivot = inWindow[inWindow.length - maxAllowed] as number;
    out.limitExpiresAt = pivot + periodMs;
  }
  return out;
}

export class PermissionBook {
  #grant: PermissionGrant = { status: 'no_permission' };
  #requestTimes: number[] = [];
  readonly #requests: PermissionRequestRecord[] = [];
  #unansweredStreak = 0;
  readonly #connectedBicTimes: number[] = [];

  constructor(
    readonly waId: string,
    private readonly limits: PermissionLimits,
  ) {}

  /** The permission as of `now`; a temporary one past its expiry is gone (Meta sends no webhook for that). */
  current(now: number): PermissionGrant {
    if (this.#grant.status === 'temporary' && now >= this.#grant.expiresAt) this.#grant = { status: 'no_permission' };
    return this.#grant;
  }

  get unansweredStreak(): number {
    return this.#unansweredStreak;
  }

  grantTemporary(now: number): number {
    const expiresAt = now + this.limits.temporaryPermissionMs;
    this.#grant = { status: 'temporary', expiresAt, grantedAt: now };
    return expiresAt;
  }

  grantPermanent(now: number): void {
    this.#grant = { status: 'permanent', grantedAt: now };
  }

  revoke(): void {
    this.#grant = { status: 'no_permission' };
  }

  /** 138006 unless a temporary (unexpired) or permanent permission exists. */
  assertCanBeCalled(now: number): void {
    if (this.current(now).status === 'no_permission') throw noCallPermission(this.waId);
  }

  requestUsage(now: number): { day: WindowUsage; week: WindowUsage } {
    return {
      day: usage(this.#requestTimes, now, DAY_MS, this.limits.requestsPer24h),
      week: usage(this.#requestTimes, now, 7 * DAY_MS, this.limits.requestsPer7d),
    };
  }

  canRequest(now: number): boolean {
    if (this.current(now).status === 'permanent') return false;
    const { day, week } = this.requestUsage(now);
    return day.currentUsage < day.maxAllowed && week.currentUsage < week.maxAllowed;
  }

  /** 138017 when permanent; 138009 when the 24 h or 7 day window is full. */
  assertCanRequest(now: number): void {
    if (this.current(now).status === 'permanent') throw permanentPermissionExists(this.waId);
    const { day, week } = this.requestUsage(now);
    for (const [w, label] of [
      [day, '24 hours'],
      [week, '7 days'],
    ] as const) {
      if (w.currentUsage >= w.maxAllowed) {
        const next = new Date(w.limitExpiresAt as number).toISOString();
        throw permissionRequestLimit(`Reached the limit of ${w.maxAllowed} call permission requests per ${label} for user ${this.waId}; next request allowed at ${next}`);
      }
    }
  }

  recordRequest(id: string, now: number, via: PermissionRequestRecord['via']): PermissionRequestRecord {
    this.#requestTimes.push(now);
    const record: PermissionRequestRecord = { id, sentAt: now, via, state: 'pending' };
    this.#requests.push(record);
    return record;
  }

  requests(): readonly PermissionRequestRecord[] {
    return this.#requests;
  }

  /** A request the user can still answer: not superseded and within 7 days of delivery or of the last reply. */
  isOpen(record: PermissionRequestRecord, now: number): boolean {
    if (record.state === 'superseded') return false;
    return now < (record.repliedAt ?? record.sentAt) + this.limits.requestLifetimeMs;
  }

  openRequests(now: number): PermissionRequestRecord[] {
    return this.#requests.filter((r) => this.isOpen(r, now));
  }

  /** The request a reply applies to: the one named, else the newest open one. */
  findOpenRequest(now: number, id?: string): PermissionRequestRecord | undefined {
    const open = this.openRequests(now);
    return id === undefined ? open[open.length - 1] : open.find((r) => r.id === id);
  }

  /**
   * The user's answer to `record` (UCP-2606 scenario table): allow_once grants 7 days, always_allow grants
   * permanent, never_allow withdraws any permission. Interacting with a request expires the older ones.
   * Returns the expiry of a temporary grant.
   */
  applyReply(record: PermissionRequestRecord, choice: PermissionChoice, now: number): number | undefined {
    for (const r of this.#requests) if (r !== record && r.sentAt <= record.sentAt && r.state !== 'superseded') r.state = 'superseded';
    record.state = 'answered';
    record.repliedAt = now;
    record.choice = choice;
    if (choice === 'allow_once') return this.grantTemporary(now);
    if (choice === 'always_allow') this.grantPermanent(now);
    else this.revoke();
    return undefined;
  }

  /** 138012 when the rolling 24 h cap of connected business-initiated calls is reached. */
  assertUnderCallCap(now: number): void {
    const u = this.callCapUsage(now);
    if (u.limitExpiresAt !== undefined) throw dailyCallCap(this.limits.dailyConnectedCallCap, u.limitExpiresAt);
  }

  callCapUsage(now: number): WindowUsage {
    return usage(this.#connectedBicTimes, now, DAY_MS, this.limits.dailyConnectedCallCap);
  }

  /** A call was connected (either direction): resets the unanswered streak and the request quota (UCP-2606). */
  recordConnectedCall(now: number, direction: 'USER_INITIATED' | 'BUSINESS_INITIATED'): void {
    this.#unansweredStreak = 0;
    this.#requestTimes = [];
    if (direction === 'BUSINESS_INITIATED') this.#connectedBicTimes.push(now);
  }

  /**
   * A business-initiated call ended unanswered or rejected. Returns true when this made the streak reach the
   * threshold and a permission was revoked (the caller sends the reject/automatic webhook).
   */
  recordUnansweredBusinessCall(now: number): boolean {
    this.#unansweredStreak += 1;
    if (this.#unansweredStreak < this.limits.revokeAfterUnanswered) return false;
    this.#unansweredStreak = 0;
    const had = this.current(now).status !== 'no_permission';
    this.revoke();
    return had;
  }
}
