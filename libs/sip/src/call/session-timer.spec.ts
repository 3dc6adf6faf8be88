import type { SipMessage } from 'sip';
import { sipMessage } from '@wagw/testing';
import {
  answerSessionTimer,
  expiryDelayMs,
  parseMinSe,
  parseSessionExpires,
  SessionTimer,
  sessionIntervalTooSmall,
  sessionTimerFromResponse,
  sessionTimerRequestHeaders,
} from './session-timer';

function invite(headers: string): SipMessage {
  const text = `INVITE sip:1001@gw SIP/2.0\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\nFrom: <sip:pbx@10.0.0.1>;tag=a\nTo: <sip:1001@gw>\nCall-ID: c1\nCSeq: 1 INVITE\n${headers}Content-Length: 0\n\n`;
  return sipMessage(text);
}

function ok(headers: string): SipMessage {
  const text = `SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\nFrom: <sip:gw@10.0.0.1>;tag=a\nTo: <sip:1001@pbx>;tag=b\nCall-ID: c1\nCSeq: 1 INVITE\n${headers}Content-Length: 0\n\n`;
  return sipMessage(text);
}

const POLICY = { expiresS: 1800, minSeS: 90 };

describe('Session-Expires and Min-SE parsing', () => {
  it('reads the interval and the refresher, in full or compact form, whatever the case and spacing', () => {
    expect(parseSessionExpires(invite('Session-Expires: 1800;refresher=uac\n'))).toEqual({ deltaS: 1800, refresher: 'uac' });
    expect(parseSessionExpires(invite('x: 600 ; Refresher = UAS\n'))).toEqual({ deltaS: 600, refresher: 'uas' });
    expect(parseSessionExpires(invite('Session-Expires: 900\n'))).toEqual({ deltaS: 900 });
    expect(parseSessionExpires(invite('Session-Expires: 900;refresher=both\n'))).toEqual({ deltaS: 900 });
  });

  it('treats an absent, empty, zero or non-numeric value as no Session-Expires', () => {
    expect(parseSessionExpires(invite(''))).toBeUndefined();
    expect(parseSessionExpires(invite('Session-Expires: soon\n'))).toBeUndefined();
    expect(parseSessionExpires(invite('Session-Expires: 0\n'))).toBeUndefined();
    expect(parseSessionExpires(invite('Session-Expires: -5\n'))).toBeUndefined();
  });

  it('reads Min-SE, ignoring parameters', () => {
    expect(parseMinSe(ok('Min-SE: 120\n'))).toBe(120);
    expect(parseMinSe(ok('Min-SE: 120;foo=bar\n'))).toBe(120);
    expect(parseMinSe(ok('Min-SE: lots\n'))).toBeUndefined();
    expect(parseMinSe(ok(''))).toBeUndefined();
  });
});

describe('answerSessionTimer (we are the UAS of the INVITE or UPDATE)', () => {
  it('keeps the interval and refresher the UAC asked for; refresher=uac makes the 2xx require timer', () => {
    const a = answerSessionTimer(invite('Supported: timer\nSession-Expires: 1800;refresher=uac\n'), POLICY);
    expect(a.terms).toEqual({ intervalS: 1800, refresher: 'remote' });
    expect(a.headers).toEqual({ supported: 'timer', 'session-expires': '1800;refresher=uac', require: 'timer' });
    const b = answerSessionTimer(invite('Supported: timer\nSession-Expires: 600;refresher=uas\n'), POLICY);
    expect(b.terms).toEqual({ intervalS: 600, refresher: 'local' });
    expect(b.headers).toEqual({ supported: 'timer', 'session-expires': '600;refresher=uas' });
  });

  it('leaves the refreshes to a UAC that supports timers and named no refresher', () => {
    const a = answerSessionTimer(invite('Supported: replaces, timer\nSession-Expires: 900\n'), POLICY);
    expect(a.terms).toEqual({ intervalS: 900, refresher: 'remote' });
    expect(a.headers['require']).toBe('timer');
  });

  it('refreshes itself for a UAC without timer support whose request a proxy gave a Session-Expires', () => {
    const a = answerSessionTimer(invite('Session-Expires: 1200;refresher=uac\n'), POLICY);
    expect(a.terms).toEqual({ intervalS: 1200, refresher: 'local' });
    expect(a.headers).toEqual({ supported: 'timer', 'session-expires': '1200;refresher=uas' });
  });

  it('raises a short interval to our Min-SE for a UAC that could not understand a 422', () => {
    expect(sessionIntervalTooSmall(invite('Session-Expires: 30\n'), POLICY)).toBe(false);
    expect(answerSessionTimer(invite('Session-Expires: 30\n'), POLICY).terms).toEqual({ intervalS: 90, refresher: 'local' });
  });

  it('gives our interval to a UAC that supports timers but asked for none; none at all when it supports none', () => {
    expect(answerSessionTimer(invite('Supported: timer\n'), POLICY).terms).toEqual({ intervalS: 1800, refresher: 'remote' });
    const none = answerSessionTimer(invite('Supported: replaces\n'), POLICY);
    expect(none.terms).toBeUndefined();
    expect(none.headers).toEqual({ supported: 'timer' });
  });

  it('finds an interval below our Min-SE too small only when the UAC supports timers (k is Supported)', () => {
    expect(sessionIntervalTooSmall(invite('k: timer\nSession-Expires: 60\n'), POLICY)).toBe(true);
    expect(sessionIntervalTooSmall(invite('Require: timer\nSession-Expires: 89\n'), POLICY)).toBe(true);
    expect(sessionIntervalTooSmall(invite('Supported: timer\nSession-Expires: 90\n'), POLICY)).toBe(false);
  });
});

describe('the UAC side', () => {
  it('takes the 2xx terms: refresher=uac is us, uas the far end, none given is us; no Session-Expires, no timer', () => {
    expect(sessionTimerFromResponse(ok('Session-Expires: 1800;refresher=uac\nRequire: timer\n'))).toEqual({ intervalS: 1800, refresher: 'local' });
    expect(sessionTimerFromResponse(ok('Session-Expires: 900;refresher=uas\n'))).toEqual({ intervalS: 900, refresher: 'remote' });
    expect(sessionTimerFromResponse(ok('Session-Expires: 900\n'))).toEqual({ intervalS: 900, refresher: 'local' });
    expect(sessionTimerFromResponse(ok('Supported: timer\n'))).toBeUndefined();
  });

  it('asks without naming a refresher, and refreshes as the uac', () => {
    expect(sessionTimerRequestHeaders(1800, 90, false)).toEqual({ supported: 'timer', 'session-expires': '1800', 'Min-SE': '90' });
    expect(sessionTimerRequestHeaders(600, 90, true)).toEqual({ supported: 'timer', 'session-expires': '600;refresher=uac', 'Min-SE': '90' });
  });
});

describe('SessionTimer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('gives up at the interval minus a third of it, or minus 32 s for long intervals (RFC 4028 §10)', () => {
    expect(expiryDelayMs(90)).toBe(60_000);
    expect(expiryDelayMs(1800)).toBe(1_768_000);
    expect(expiryDelayMs(3)).toBe(2_000);
  });

  it('as refresher: refreshes at half the interval; expires only when no restart came', () => {
    const hooks = { refresh: jest.fn(), expire: jest.fn() };
    const timer = new SessionTimer(hooks);
    timer.start({ intervalS: 90, refresher: 'local' });
    jest.advanceTimersByTime(44_999);
    expect(hooks.refresh).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(hooks.refresh).toHaveBeenCalledTimes(1);
    timer.start({ intervalS: 90, refresher: 'local' }); // the refresh succeeded
    jest.advanceTimersByTime(59_999);
    expect(hooks.expire).not.toHaveBeenCalled();
    expect(hooks.refresh).toHaveBeenCalledTimes(2);
    jest.advanceTimersByTime(1); // that second refresh failed: nobody restarted the timer
    expect(hooks.expire).toHaveBeenCalledTimes(1);
  });

  it('as non-refresher: never refreshes; each refresh from the far end pushes the expiry back', () => {
    const hooks = { refresh: jest.fn(), expire: jest.fn() };
    const timer = new SessionTimer(hooks);
    timer.start({ intervalS: 90, refresher: 'remote' });
    jest.advanceTimersByTime(50_000);
    timer.start({ intervalS: 90, refresher: 'remote' });
    jest.advanceTimersByTime(59_000);
    expect(hooks.expire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1_000);
    expect(hooks.expire).toHaveBeenCalledTimes(1);
    expect(hooks.refresh).not.toHaveBeenCalled();
    expect(timer.terms).toEqual({ intervalS: 90, refresher: 'remote' });
  });

  it('stop clears both timers and the terms', () => {
    const hooks = { refresh: jest.fn(), expire: jest.fn() };
    const timer = new SessionTimer(hooks);
    timer.start({ intervalS: 90, refresher: 'local' });
    timer.stop();
    jest.advanceTimersByTime(100_000);
    expect(hooks.refresh).not.toHaveBeenCalled();
    expect(hooks.expire).not.toHaveBeenCalled();
    expect(timer.terms).toBeUndefined();
    expect(jest.getTimerCount()).toBe(0);
  });

  // found by session-timer.fuzz.spec.ts: a delay above 2^31-1 ms made Node fire the timers after 1 ms
  it('does not refresh or expire at once when a PBX grants a session interval longer than setTimeout can wait', () => {
    const hooks = { refresh: jest.fn(), expire: jest.fn() };
    const timer = new SessionTimer(hooks);
    timer.start(sessionTimerFromResponse(ok('Session-Expires: 4294967;refresher=uas\n')) ?? { intervalS: 0, refresher: 'local' });
    jest.advanceTimersByTime(2 ** 31 - 2);
    expect(hooks.expire).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(hooks.expire).toHaveBeenCalledTimes(1);
    timer.start(sessionTimerFromResponse(ok('Session-Expires: 999999999\n')) ?? { intervalS: 0, refresher: 'remote' });
    jest.advanceTimersByTime(2 ** 31 - 2);
    expect(hooks.refresh).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(hooks.refresh).toHaveBeenCalledTimes(1);
    timer.stop();
  });
});
