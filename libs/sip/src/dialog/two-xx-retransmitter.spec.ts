import { TwoXxRetransmitter } from './two-xx-retransmitter';

const timers = { t1Ms: 500, t2Ms: 4000, transactionTimeoutMs: 32_000 };

describe('TwoXxRetransmitter (RFC 3261 §13.3.1.4)', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('sends at once, then after T1, doubling up to T2, until stopped', () => {
    const sends: number[] = [];
    const r = new TwoXxRetransmitter(() => sends.push(Date.now()), timers, () => undefined);
    const start = Date.now();
    r.start();
    jest.advanceTimersByTime(500 + 1000 + 2000 + 4000 + 4000);
    expect(sends.map((t) => t - start)).toEqual([0, 500, 1500, 3500, 7500, 11500]);
    expect(r.retransmissions).toBe(5);
    r.stop();
    jest.advanceTimersByTime(60_000);
    expect(sends).toHaveLength(6);
    expect(r.active).toBe(false);
  });

  it('gives up after 64*T1 without an ACK, once', () => {
    const onGiveUp = jest.fn();
    const send = jest.fn();
    const r = new TwoXxRetransmitter(send, timers, onGiveUp);
    r.start();
    jest.advanceTimersByTime(31_999);
    expect(onGiveUp).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(onGiveUp).toHaveBeenCalledTimes(1);
    const sent = send.mock.calls.length;
    jest.advanceTimersByTime(60_000);
    expect(send).toHaveBeenCalledTimes(sent);
    expect(onGiveUp).toHaveBeenCalledTimes(1);
  });
});
