import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from '@wagw/logging';
import type { ResolvedRoute } from '../sip/trunk-directory';
import { CLOCK, type Clock } from '../signalling.tokens';
import { decideRoute, type RouteDecision } from './route-decision';

/** The routing decision on the gateway's clock (CLOCK: Date.now, or the emulator's in tests). */
@Injectable()
export class RoutingPolicy {
  constructor(@Inject(CLOCK) private readonly now: Clock) {}

  decide(route: ResolvedRoute, log: Logger): RouteDecision {
    const at = this.now();
    const decision = decideRoute(route, at);
    if (route.hours) {
      const outcome = decision.kind === 'reject' ? 'reject' : decision.afterHours ? 'after-hours destinations' : 'open';
      log.info({ businessNumber: route.businessNumber, at: new Date(at).toISOString(), timezone: route.hours.timezone, outcome }, 'business hours checked');
    }
    return decision;
  }
}
