import { backoffDelayMs, classifyNetworkError, parseRetryAfterMs } from './retry-policy';
import { networkError } from './graph-fetch.fake';

describe('backoffDelayMs', () => {
  it('doubles per retry and jitters between half and all of the step', () => {
    expect(backoffDelayMs(1, 100, 30_000, () => 0)).toBe(50);
    expect(backoffDelayMs(1, 100, 30_000, () => 0.999999)).toBe(100);
    expect(backoffDelayMs(3, 100, 30_000, () => 0.5)).toBe(300);
  });

  it('never exceeds the cap', () => {
    expect(backoffDelayMs(30, 100, 5_000, () => 0.999999)).toBeLessThanOrEqual(5_000);
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delay-seconds and HTTP-dates, and ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfterMs('7', now)).toBe(7000);
    expect(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfterMs('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfterMs('soon', now)).toBeUndefined();
    expect(parseRetryAfterMs(null, now)).toBeUndefined();
  });
});

describe('classifyNetworkError', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'])('treats %s as not sent', (code) => {
    expect(classifyNetworkError(networkError(code), false)).toEqual({ maybeSent: false, reason: expect.stringContaining(code) });
  });

  it.each(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'])('treats %s as possibly sent', (code) => {
    expect(classifyNetworkError(networkError(code), false).maybeSent).toBe(true);
  });

  it('treats our own deadline and errors without a code as possibly sent', () => {
    expect(classifyNetworkError(new DOMException('aborted', 'AbortError'), true)).toEqual({ maybeSent: true, reason: 'request timed out' });
    expect(classifyNetworkError(new Error('weird'), false).maybeSent).toBe(true);
  });

  it('looks inside AggregateError (happy eyeballs: every address refused)', () => {
    const agg = new AggregateError([networkError('ECONNREFUSED').cause, networkError('ECONNREFUSED').cause], 'all failed');
    expect(classifyNetworkError(new TypeError('fetch failed', { cause: agg }), false).maybeSent).toBe(false);
  });
});
