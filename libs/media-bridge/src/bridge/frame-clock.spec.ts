import { silentLogger } from '@wagw/logging';
import { FrameClock } from './frame-clock';

describe('FrameClock', () => {
  let now = 0;
  beforeEach(() => {
    jest.useFakeTimers();
    now = 1000;
  });
  afterEach(() => jest.useRealTimers());

  const clock = (): FrameClock => new FrameClock({ logger: silentLogger(), now: () => now });
  const advance = (ms: number): void => {
    for (let t = 0; t < ms; t += 5) {
      now += 5;
      jest.advanceTimersByTime(5);
    }
  };

  it('ticks every listener once per 20 ms frame with the frame due time', () => {
    const c = clock();
    const a: number[] = [];
    const b: number[] = [];
    c.add({ onFrameTick: (t) => a.push(t) });
    c.add({ onFrameTick: (t) => b.push(t) });
    advance(100);
    expect(a).toEqual([1020, 1040, 1060, 1080, 1100]);
    expect(b).toEqual(a);
    c.stop();
  });

  it('catches up after a short stall and skips frames after a long one', () => {
    const c = clock();
    const ticks: number[] = [];
    c.add({ onFrameTick: (t) => ticks.push(t) });
    now += 60; // the event loop stalled 60 ms: 3 frames due at the next run
    jest.advanceTimersByTime(10);
    expect(ticks).toEqual([1020, 1040, 1060]);
    now += 200; // 10 frames due: only the last 3 are played
    jest.advanceTimersByTime(10);
    expect(ticks.slice(3)).toEqual([1220, 1240, 1260]);
    expect(c.framesSkipped).toBe(7);
    c.stop();
  });

  it('keeps ticking when a listener throws, and stops when the last listener leaves', () => {
    const c = clock();
    const ok: number[] = [];
    const bad = {
      onFrameTick: () => {
        throw new Error('listener bug');
      },
    };
    const good = { onFrameTick: (t: number) => ok.push(t) };
    c.add(bad);
    c.add(good);
    advance(40);
    expect(ok.length).toBe(2);
    c.remove(bad);
    c.remove(good);
    expect(jest.getTimerCount()).toBe(0);
  });
});
