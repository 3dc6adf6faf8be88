import type { ResolvedDestination, ResolvedRoute, TrunkConfig } from '../sip/trunk-directory';
import { entryPointOf, routeForEntry } from './entry-point';

const trunk = { name: 'pbx' } as TrunkConfig;
const front: ResolvedDestination = { uri: 'sip:1001@pbx', ringTimeoutMs: 20000, trunk };
const billing: ResolvedDestination = { uri: 'sip:2001@pbx', ringTimeoutMs: 20000, trunk };
const hours = { timezone: 'Europe/Berlin', weekly: [], holidays: [], afterHours: { action: 'reject' as const } };
const route: ResolvedRoute = { businessNumber: '15550001111', destinations: [front], onFailure: 'next', hours, afterHoursDestinations: [], entryPoints: new Map([['queue=billing', [billing]]]) };

describe('entryPointOf', () => {
  it('takes the call button payload first, else the deep link payload, else none', () => {
    expect(entryPointOf({ ctaPayload: 'queue=billing' })).toEqual({ kind: 'call_button', payload: 'queue=billing' });
    expect(entryPointOf({ deeplinkPayload: 'campaign=7' })).toEqual({ kind: 'deep_link', payload: 'campaign=7' });
    expect(entryPointOf({ ctaPayload: 'a', deeplinkPayload: 'b' })).toEqual({ kind: 'call_button', payload: 'a' });
    expect(entryPointOf({ ctaPayload: '', deeplinkPayload: undefined })).toBeUndefined();
    expect(entryPointOf({})).toBeUndefined();
  });
});

describe('routeForEntry', () => {
  it("rings the entry point's destinations for its payload, keeping the route's onFailure and hours", () => {
    const { route: r, matched } = routeForEntry(route, { kind: 'call_button', payload: 'queue=billing' });
    expect(matched).toBe(true);
    expect(r.destinations).toEqual([billing]);
    expect(r).toMatchObject({ onFailure: 'next', hours, businessNumber: '15550001111' });
    expect(routeForEntry(route, { kind: 'deep_link', payload: 'queue=billing' }).route.destinations).toEqual([billing]);
  });

  it('keeps the route for another payload (matched exactly), or for no entry point', () => {
    for (const entry of [{ kind: 'call_button' as const, payload: 'queue=Billing' }, { kind: 'deep_link' as const, payload: 'queue=billing ' }, undefined]) {
      expect(routeForEntry(route, entry)).toEqual({ route, matched: false });
    }
  });
});
