import type { ResolvedDestination, ResolvedRoute } from '../sip/trunk-directory';
import type { TrunkConfig } from '../sip/trunk-directory';
import { decideRoute } from './route-decision';

const trunk = { name: 'pbx' } as TrunkConfig;
const day: ResolvedDestination = { uri: 'sip:1001@pbx', ringTimeoutMs: 20000, trunk };
const night: ResolvedDestination = { uri: 'sip:2001@pbx', ringTimeoutMs: 20000, trunk };
const hours = { timezone: 'Europe/Berlin', weekly: [{ day: 'MON' as const, open: '09:00', close: '17:00' }], holidays: [] };
const mondayNoon = Date.parse('2024-01-15T11:00:00Z');
const mondayNight = Date.parse('2024-01-15T20:00:00Z');

function route(over: Partial<ResolvedRoute>): ResolvedRoute {
  return { businessNumber: '15550001111', destinations: [day], onFailure: 'reject', afterHoursDestinations: [], entryPoints: new Map(), ...over };
}

describe('decideRoute', () => {
  it('rings the route destinations when the route has no hours', () => {
    expect(decideRoute(route({}), mondayNight)).toEqual({ kind: 'ring', destinations: [day], afterHours: false });
  });

  it('rings the route destinations while open', () => {
    const r = route({ hours: { ...hours, afterHours: { action: 'reject' } } });
    expect(decideRoute(r, mondayNoon)).toEqual({ kind: 'ring', destinations: [day], afterHours: false });
  });

  it('rejects after hours with a cause naming the number and zone', () => {
    const r = route({ hours: { ...hours, afterHours: { action: 'reject' } } });
    expect(decideRoute(r, mondayNight)).toEqual({ kind: 'reject', cause: 'after hours: 15550001111 is closed (business hours, Europe/Berlin)' });
  });

  it('rings the after-hours destinations after hours when the action is route', () => {
    const r = route({ hours: { ...hours, afterHours: { action: 'route' } }, afterHoursDestinations: [night] });
    expect(decideRoute(r, mondayNight)).toEqual({ kind: 'ring', destinations: [night], afterHours: true });
    expect(decideRoute(r, mondayNoon)).toEqual({ kind: 'ring', destinations: [day], afterHours: false });
  });
});
