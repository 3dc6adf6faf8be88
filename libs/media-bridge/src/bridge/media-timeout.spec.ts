import { MediaTimeoutWatch, type WatchedCall } from './media-timeout';

/** A call whose sides' counters and hold state the test moves by hand. */
function fakeCall(): WatchedCall & { wa: number; pbx: number; hold: boolean } {
  return {
    wa: 0,
    pbx: 0,
    hold: false,
    waPacketsHeard() {
      return this.wa;
    },
    pbxPacketsHeard() {
      return this.pbx;
    },
    pbxOnHold() {
      return this.hold;
    },
  };
}

describe('MediaTimeoutWatch', () => {
  it('reports nothing while both sides keep sending, however long the call', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 3000, holdTimeoutMs: 60_000 });
    const call = fakeCall();
    watch.watch('c1', call, 0);
    for (let t = 1000; t <= 600_000; t += 1000) {
      call.wa += 50;
      call.pbx += 50;
      expect(watch.sweep(t)).toEqual([]);
    }
  });

  it('reports the PBX side once it has been silent for the limit, and only that side', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 3000, holdTimeoutMs: 60_000 });
    const call = fakeCall();
    watch.watch('c1', call, 0);
    call.pbx = 10;
    call.wa = 10;
    expect(watch.sweep(1000)).toEqual([]); // both heard at 1000
    call.wa = 20;
    expect(watch.sweep(2000)).toEqual([]);
    call.wa = 30;
    expect(watch.sweep(3999)).toEqual([]); // PBX silent 2999 ms
    call.wa = 40;
    expect(watch.sweep(4000)).toEqual([{ key: 'c1', side: 'pbx', silentMs: 3000, limitMs: 3000, onHold: false }]);
  });

  it('reports a WhatsApp side that stopped, with the PBX still sending', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 2000, holdTimeoutMs: 0 });
    const call = fakeCall();
    watch.watch('c1', call, 0);
    call.pbx = 1;
    expect(watch.sweep(1000)).toEqual([]);
    call.pbx = 2;
    expect(watch.sweep(2500)).toEqual([{ key: 'c1', side: 'wa', silentMs: 2500, limitMs: 2000, onHold: false }]);
  });

  it('counts a call that never sent anything from when the watch started', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 2000, holdTimeoutMs: 0 });
    const call = fakeCall();
    call.wa = 500;
    call.pbx = 500;
    watch.watch('c1', call, 10_000);
    expect(watch.sweep(11_999)).toEqual([]);
    expect(watch.sweep(12_000).map((s) => s.side)).toEqual(['wa', 'pbx']);
  });

  it('gives a held PBX side the hold limit, and restarts its count when the hold starts and ends', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 2000, holdTimeoutMs: 10_000 });
    const call = fakeCall();
    watch.watch('c1', call, 0);
    const tick = (t: number) => {
      call.wa++;
      return watch.sweep(t);
    };
    call.pbx = 1;
    expect(tick(1000)).toEqual([]);
    call.hold = true; // re-INVITE a=inactive at 1500: the PBX sends nothing from now on
    expect(tick(1500)).toEqual([]);
    expect(tick(5000)).toEqual([]); // 3.5 s silent on hold: within 10 s
    expect(tick(11_499)).toEqual([]);
    expect(tick(11_500)).toEqual([{ key: 'c1', side: 'pbx', silentMs: 10_000, limitMs: 10_000, onHold: true }]);
    call.hold = false; // resumed at 12000: the normal limit, counted from the resume
    expect(tick(12_000)).toEqual([]);
    expect(tick(13_999)).toEqual([]);
    expect(tick(14_000)).toEqual([{ key: 'c1', side: 'pbx', silentMs: 2000, limitMs: 2000, onHold: false }]);
  });

  it('with a hold limit of 0 never reports a held PBX side', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 2000, holdTimeoutMs: 0 });
    const call = fakeCall();
    call.hold = true;
    watch.watch('c1', call, 0);
    for (let t = 1000; t <= 100_000; t += 1000) {
      call.wa++;
      expect(watch.sweep(t)).toEqual([]);
    }
  });

  it('reports a still-watched silent side again only after another full limit', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 2000, holdTimeoutMs: 0 });
    const call = fakeCall();
    watch.watch('c1', call, 0);
    const pbxReports: number[] = [];
    for (let t = 500; t <= 7000; t += 500) {
      call.wa++;
      for (const s of watch.sweep(t)) if (s.side === 'pbx') pbxReports.push(t);
    }
    expect(pbxReports).toEqual([2000, 4000, 6000]);
  });

  it('keeps calls apart and forgets an unwatched one', () => {
    const watch = new MediaTimeoutWatch({ timeoutMs: 1000, holdTimeoutMs: 0 });
    const a = fakeCall();
    const b = fakeCall();
    watch.watch('a', a, 0);
    watch.watch('b', b, 0);
    a.wa = a.pbx = 1;
    watch.unwatch('b');
    expect(watch.size).toBe(1);
    expect(watch.sweep(500)).toEqual([]);
    expect(watch.sweep(1500).map((s) => `${s.key}:${s.side}`)).toEqual(['a:wa', 'a:pbx']);
  });

  it('is off with both limits 0, and refuses a negative limit', () => {
    expect(new MediaTimeoutWatch({ timeoutMs: 0, holdTimeoutMs: 0 }).enabled).toBe(false);
    expect(new MediaTimeoutWatch({ timeoutMs: 0, holdTimeoutMs: 5 }).enabled).toBe(true);
    const off = new MediaTimeoutWatch({ timeoutMs: 0, holdTimeoutMs: 0 });
    off.watch('c', fakeCall(), 0);
    expect(off.sweep(1e9)).toEqual([]);
    expect(() => new MediaTimeoutWatch({ timeoutMs: -1, holdTimeoutMs: 0 })).toThrow(/timeoutMs must be >= 0/);
  });
});
