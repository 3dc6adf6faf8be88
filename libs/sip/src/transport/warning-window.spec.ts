import { WarningWindow } from './warning-window';

describe('WarningWindow: one warning per key per window', () => {
  afterEach(() => jest.useRealTimers());

  it('lets the first warning of a key go, holds the rest back for the window, then says how many it held', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const w = new WarningWindow(10_000);
    expect(w.due('udp:10.0.0.1')).toEqual({ heldBack: 0 });
    expect(w.due('udp:10.0.0.1')).toBeUndefined();
    expect(w.due('udp:10.0.0.1')).toBeUndefined();
    expect(w.due('udp:10.0.0.2')).toEqual({ heldBack: 0 }); // another key has its own window
    jest.setSystemTime(1_009_999);
    expect(w.due('udp:10.0.0.1')).toBeUndefined();
    jest.setSystemTime(1_010_000);
    expect(w.due('udp:10.0.0.1')).toEqual({ heldBack: 3 });
    expect(w.due('udp:10.0.0.1')).toBeUndefined();
  });

  it('forgets every key past its bound (a flood of sources cannot grow it without end)', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const w = new WarningWindow(10_000, 3);
    for (const k of ['a', 'b', 'c']) expect(w.due(k)).toEqual({ heldBack: 0 });
    expect(w.due('a')).toBeUndefined();
    expect(w.due('d')).toEqual({ heldBack: 0 }); // the fourth key clears the map
    expect(w.due('a')).toEqual({ heldBack: 0 });
  });
});
