import { silentLogger } from '@wagw/logging';
import type { SipMessage } from 'sip';
import { SessionRefresher, type SessionRefresherPort } from './session-refresher';

function response(status: number, headers: Record<string, string> = {}): { response: SipMessage; local: boolean } {
  return { response: { status, reason: 'x', headers: { ...headers } } as unknown as SipMessage, local: false };
}

/** A call leg as the refresher sees it: the test scripts the far end's answers to our refreshes. */
class FakeLeg implements SessionRefresherPort {
  readonly log = silentLogger();
  readonly policy = { expiresS: 90, minSeS: 90 };
  up = true;
  update = true;
  blocked = false;
  ended = 0;
  readonly sent: { method: string; sessionExpires: unknown }[] = [];
  readonly answers: { response: SipMessage; local: boolean }[] = [];
  alive = (): boolean => this.up;
  peerAllowsUpdate = (): boolean => this.update;
  reinviteBlocked = (): boolean => this.blocked;
  send = (method: 'UPDATE' | 'INVITE', headers: Record<string, unknown>): Promise<{ response: SipMessage; local: boolean }> => {
    this.sent.push({ method, sessionExpires: headers['session-expires'] });
    return Promise.resolve(this.answers.shift() ?? response(200));
  };
  end = (): void => {
    this.ended++;
  };
}

describe('SessionRefresher', () => {
  let leg: FakeLeg;
  let refresher: SessionRefresher;

  beforeEach(() => {
    jest.useFakeTimers();
    leg = new FakeLeg();
    refresher = new SessionRefresher(leg);
  });
  afterEach(() => {
    refresher.stop();
    jest.useRealTimers();
  });

  it('refreshes with UPDATE at half the interval as refresher, and each 2xx pushes the expiry back', async () => {
    refresher.start({ intervalS: 90, refresher: 'local' });
    for (let i = 0; i < 4; i++) await jest.advanceTimersByTimeAsync(45_000);
    expect(leg.sent).toEqual(Array(4).fill({ method: 'UPDATE', sessionExpires: '90;refresher=uac' }));
    expect(leg.ended).toBe(0);
  });

  it('uses a re-INVITE when the far end has no UPDATE, and waits while another offer is under way', async () => {
    leg.update = false;
    leg.blocked = true;
    refresher.start({ intervalS: 90, refresher: 'local' });
    await jest.advanceTimersByTimeAsync(45_000);
    expect(leg.sent).toEqual([]);
    leg.blocked = false;
    await jest.advanceTimersByTimeAsync(3_000); // the retry, 1-3 s later
    expect(leg.sent).toEqual([{ method: 'INVITE', sessionExpires: '90;refresher=uac' }]);
  });

  it('asks again with the Min-SE of a 422, and takes the interval the 2xx grants', async () => {
    leg.answers.push(response(422, { 'min-se': '120' }), response(200, { 'session-expires': '120;refresher=uac' }));
    refresher.start({ intervalS: 90, refresher: 'local' });
    await jest.advanceTimersByTimeAsync(45_000);
    expect(leg.sent.map((s) => s.sessionExpires)).toEqual(['90;refresher=uac', '120;refresher=uac']);
    expect(refresher.terms).toEqual({ intervalS: 120, refresher: 'local' });
  });

  it('ends the call when a refresh gets 481 (the dialog is gone), but not on another refusal', async () => {
    leg.answers.push(response(488));
    refresher.start({ intervalS: 90, refresher: 'local' });
    await jest.advanceTimersByTimeAsync(45_000);
    expect(leg.ended).toBe(0);
    leg.answers.push(response(481));
    refresher.start({ intervalS: 90, refresher: 'local' });
    await jest.advanceTimersByTimeAsync(45_000);
    expect(leg.ended).toBe(1);
  });

  it('as non-refresher never sends, and ends the call when no refresh came before the session expires', async () => {
    refresher.start({ intervalS: 90, refresher: 'remote' });
    await jest.advanceTimersByTimeAsync(59_999);
    expect(leg.ended).toBe(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(leg.ended).toBe(1);
    expect(leg.sent).toEqual([]);
  });

  it('answers a far-end refresh with its terms, and keeps the timer when the request asks for none', () => {
    refresher.start({ intervalS: 90, refresher: 'remote' });
    const hold = { method: 'INVITE', headers: {} } as unknown as SipMessage;
    expect(refresher.answer(hold)).toEqual({ headers: { supported: 'timer' }, terms: { intervalS: 90, refresher: 'remote' } });
  });

  it('does nothing for a leg that is over, and stop clears every timer', async () => {
    leg.up = false;
    refresher.start({ intervalS: 90, refresher: 'local' });
    expect(refresher.terms).toBeUndefined();
    leg.up = true;
    refresher.start({ intervalS: 90, refresher: 'local' });
    refresher.stop();
    expect(jest.getTimerCount()).toBe(0);
  });
});
