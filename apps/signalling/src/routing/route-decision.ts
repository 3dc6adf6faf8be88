import type { ResolvedDestination, ResolvedRoute } from '../sip/trunk-directory';
import { isOpen } from './business-hours';

/**
 * Where a call to a route goes at an instant (before anything rings): the route's destinations while it
 * is open (or when it has no hours), else the after-hours destinations, else a rejection.
 */
export type RouteDecision =
  | { kind: 'ring'; destinations: readonly ResolvedDestination[]; afterHours: boolean }
  | { kind: 'reject'; cause: string };

export function decideRoute(route: ResolvedRoute, atEpochMs: number): RouteDecision {
  const hours = route.hours;
  if (!hours || isOpen(hours, atEpochMs)) return { kind: 'ring', destinations: route.destinations, afterHours: false };
  if (hours.afterHours.action === 'route' && route.afterHoursDestinations.length > 0) {
    return { kind: 'ring', destinations: route.afterHoursDestinations, afterHours: true };
  }
  return { kind: 'reject', cause: `after hours: ${route.businessNumber} is closed (business hours, ${hours.timezone})` };
}
