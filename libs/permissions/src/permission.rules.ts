/**
 * Meta's call-permission limits per business phone number + user pair (reference §4, UCP-2606, FAQ-2511).
 * Injected everywhere as data so a sandbox number (25 requests/day, revoke after 10 misses, OV-2603) or a
 * future change of Meta's numbers is configuration, not code.
 */
export interface PermissionRules {
  /** Lifetime of a temporary ("allow once") grant from approval, used when Meta gives no expiry. 7 days. */
  temporaryPermissionMs: number;
  /** Consecutive unanswered or rejected business-initiated calls that revoke a grant. 4. */
  revokeAfterMisses: number;
  /** Permission requests per rolling 24 h. 1. */
  requestsPer24h: number;
  /** Permission requests per rolling 7 days. 2. */
  requestsPer7d: number;
  /** Connected business-initiated calls per rolling 24 h (Meta's cap, 138012). 100 since Dec 19 2025. */
  callsPer24h: number;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
export const WEEK_MS = 7 * DAY_MS;

export const META_PERMISSION_RULES: Readonly<PermissionRules> = Object.freeze({
  temporaryPermissionMs: WEEK_MS,
  revokeAfterMisses: 4,
  requestsPer24h: 1,
  requestsPer7d: 2,
  callsPer24h: 100,
});

/** Validates a rules object (positive integers); throws TypeError naming the bad field. */
export function checkRules(rules: PermissionRules): Readonly<PermissionRules> {
  for (const [name, value] of Object.entries(rules)) {
    if (!Number.isSafeInteger(value) || (value as number) <= 0) throw new TypeError(`permission rule ${name} must be a positive integer, got ${String(value)}`);
  }
  return Object.freeze({ ...rules });
}
