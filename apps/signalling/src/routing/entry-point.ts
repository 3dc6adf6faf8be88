import type { ResolvedRoute } from '../sip/trunk-directory';

/** Where a user-initiated call was placed from, when WhatsApp says: a call button (reference §3.8) or a deep link. */
export type EntryPointKind = 'call_button' | 'deep_link';

export interface EntryPoint {
  kind: EntryPointKind;
  /** The button's `payload` (`cta_payload`) or the link's `biz_payload` (`deeplink_payload`), as WhatsApp gave it. */
  payload: string;
}

/** The entry point of a `connect` webhook: the call button's payload first, else the deep link's; none when both are absent or empty. */
export function entryPointOf(event: { ctaPayload?: string | undefined; deeplinkPayload?: string | undefined }): EntryPoint | undefined {
  if (event.ctaPayload) return { kind: 'call_button', payload: event.ctaPayload };
  if (event.deeplinkPayload) return { kind: 'deep_link', payload: event.deeplinkPayload };
  return undefined;
}

/**
 * The route a call from `entry` takes: the route with the destinations of its entry point of the same payload
 * (`pbx.routes[].entryPoints`), its onFailure and business hours unchanged; the route itself when no entry
 * point matches. `matched` says which.
 */
export function routeForEntry(route: ResolvedRoute, entry: EntryPoint | undefined): { route: ResolvedRoute; matched: boolean } {
  const destinations = entry ? route.entryPoints.get(entry.payload) : undefined;
  return destinations ? { route: { ...route, destinations }, matched: true } : { route, matched: false };
}
