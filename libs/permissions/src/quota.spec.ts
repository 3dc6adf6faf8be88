import { DAY_MS, HOUR_MS } from './permission.rules';
import { capOf, pruneConnectedCalls, pruneRequests, quotaOf, type QuotaFacts } from './quota';

const T0 = Date.UTC(2026, 5, 1, 9, 0, 0);

function facts(requestTimes: number[], extra: Partial<QuotaFacts> = {}): QuotaFacts {
  return { requests: requestTimes.map((at, i) => ({ id: `wamid.${i}`, at })), connectedCalls: [], ...extra };
}

describe('permission request quota (1 per 24 h, 2 per 7 days, reset by a connected call)', () => {
  it('a pair with no record has the whole quota', () => {
    expect(quotaOf(null, T0)).toEqual({ canRequest: true, left24h: 1, left7d: 2 });
  });

  it('one request blocks the next until 24 h have passed', () => {
    const f = facts([T0]);
    expect(quotaOf(f, T0 + HOUR_MS)).toEqual({ canRequest: false, left24h: 0, left7d: 1, nextRequestAt: T0 + DAY_MS });
    expect(quotaOf(f, T0 + DAY_MS - 1).canRequest).toBe(false);
    expect(quotaOf(f, T0 + DAY_MS)).toEqual({ canRequest: true, left24h: 1, left7d: 1 });
  });

  it('two requests in 7 days block until the older one leaves the 7-day window', () => {
    const f = facts([T0, T0 + 2 * DAY_MS]);
    expect(quotaOf(f, T0 + 3 * DAY_MS)).toEqual({ canRequest: false, left24h: 1, left7d: 0, nextRequestAt: T0 + 7 * DAY_MS });
    expect(quotaOf(f, T0 + 7 * DAY_MS - 1).canRequest).toBe(false);
    expect(quotaOf(f, T0 + 7 * DAY_MS)).toEqual({ canRequest: true, left24h: 1, left7d: 1 });
  });

  it('when both windows are full the later release wins', () => {
    const f = facts([T0, T0 + 6 * DAY_MS + 23 * HOUR_MS]);
    expect(quotaOf(f, T0 + 6 * DAY_MS + 23 * HOUR_MS + 1).nextRequestAt).toBe(T0 + 7 * DAY_MS + 23 * HOUR_MS);
  });

  it('a connected call (either direction) resets the count; requests after it count again', () => {
    const f = facts([T0, T0 + 2 * DAY_MS], { lastConnectedAt: T0 + 2 * DAY_MS + HOUR_MS });
    expect(quotaOf(f, T0 + 2 * DAY_MS + 2 * HOUR_MS)).toEqual({ canRequest: true, left24h: 1, left7d: 2 });
    const after = facts([T0, T0 + 2 * DAY_MS, T0 + 2 * DAY_MS + 3 * HOUR_MS], { lastConnectedAt: T0 + 2 * DAY_MS + HOUR_MS });
    expect(quotaOf(after, T0 + 2 * DAY_MS + 4 * HOUR_MS)).toMatchObject({ canRequest: false, left24h: 0, left7d: 1 });
  });

  it('a block reported by Meta counts until it passes', () => {
    const f = facts([], { requestBlockedUntil: T0 + 5 * HOUR_MS });
    expect(quotaOf(f, T0)).toEqual({ canRequest: false, left24h: 1, left7d: 2, blockedByMetaUntil: T0 + 5 * HOUR_MS, nextRequestAt: T0 + 5 * HOUR_MS });
    expect(quotaOf(f, T0 + 5 * HOUR_MS).canRequest).toBe(true);
  });

  it('other limits (a sandbox number) are data', () => {
    const f = facts([T0, T0 + HOUR_MS]);
    expect(quotaOf(f, T0 + 2 * HOUR_MS, { requestsPer24h: 25, requestsPer7d: 100 })).toEqual({ canRequest: true, left24h: 23, left7d: 98 });
  });
});

describe('daily cap of connected business-initiated calls', () => {
  const calls = (n: number, start: number, stepMs: number) => Array.from({ length: n }, (_, i) => start + i * stepMs);

  it('counts calls in the rolling 24 h and refuses at the cap until the oldest leaves the window', () => {
    const f = facts([], { connectedCalls: calls(100, T0, 60_000) });
    expect(capOf(f, T0 + 2 * HOUR_MS)).toEqual({ canCall: false, used: 100, nextCallAt: T0 + DAY_MS });
    expect(capOf(f, T0 + DAY_MS)).toEqual({ canCall: true, used: 99 });
    expect(capOf(facts([], { connectedCalls: calls(99, T0, 60_000) }), T0 + 2 * HOUR_MS)).toEqual({ canCall: true, used: 99 });
  });

  it('takes the cap as a parameter and honours a block reported by Meta', () => {
    const f = facts([], { connectedCalls: calls(3, T0, HOUR_MS) });
    expect(capOf(f, T0 + 3 * HOUR_MS, 3)).toEqual({ canCall: false, used: 3, nextCallAt: T0 + DAY_MS });
    expect(capOf(facts([], { callBlockedUntil: T0 + HOUR_MS }), T0)).toEqual({ canCall: false, used: 0, blockedByMetaUntil: T0 + HOUR_MS, nextCallAt: T0 + HOUR_MS });
    expect(capOf(null, T0)).toEqual({ canCall: true, used: 0 });
    expect(() => capOf(null, T0, 0)).toThrow(TypeError);
  });
});

describe('pruning', () => {
  it('keeps requests of the last 7 days and connected calls of the last 24 h, oldest first', () => {
    const now = T0 + 10 * DAY_MS;
    expect(pruneRequests([{ id: 'b', at: now - HOUR_MS }, { id: 'old', at: now - 7 * DAY_MS }, { id: 'a', at: now - 2 * DAY_MS }], now).map((r) => r.id)).toEqual(['a', 'b']);
    expect(pruneConnectedCalls([now - HOUR_MS, now - DAY_MS, now - 2 * HOUR_MS], now)).toEqual([now - 2 * HOUR_MS, now - HOUR_MS]);
  });
});
