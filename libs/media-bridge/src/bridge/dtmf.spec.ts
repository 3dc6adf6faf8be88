import { dtmfDigitOf, dtmfEventOf, DtmfReceiver, DtmfSender, parseTelephoneEvent, writeTelephoneEvent } from './dtmf';

const ev = (event: number, end: boolean, duration: number): Buffer => writeTelephoneEvent({ event, end, volume: 10, duration });

describe('RFC 4733 telephone-event payload', () => {
  it('round-trips event, end bit, volume and duration', () => {
    const bytes = ev(11, true, 1280);
    expect(bytes.toString('hex')).toBe('0b8a0500');
    expect(parseTelephoneEvent(bytes)).toEqual({ event: 11, end: true, volume: 10, duration: 1280 });
    expect(parseTelephoneEvent(Buffer.from([1, 2]))).toBeNull();
  });

  it('maps digits and event codes', () => {
    expect([...'0123456789*#ABCD'].map(dtmfEventOf)).toEqual([...Array(16).keys()]);
    expect(dtmfEventOf('a')).toBe(12);
    expect(dtmfDigitOf(11)).toBe('#');
    expect(dtmfDigitOf(16)).toBeNull();
    expect(() => dtmfEventOf('x')).toThrow(RangeError);
  });
});

describe('DtmfReceiver', () => {
  it('reports a digit once, on its first end packet, with the duration in ms (8 kHz units)', () => {
    const rx = new DtmfReceiver();
    const kinds = [ev(5, false, 0), ev(5, false, 400), ev(5, false, 800), ev(5, true, 1280), ev(5, true, 1280), ev(5, true, 1280)].map((p, i) => {
      const kind = rx.onPacket(48000, p, i * 20);
      return [kind, rx.completed];
    });
    expect(kinds.map(([k]) => k)).toEqual(['start', 'update', 'update', 'end', 'repeat', 'repeat']);
    expect(kinds.filter(([, c]) => c !== null).map(([, c]) => c)).toEqual([{ digit: '5', durationMs: 160 }]);
  });

  it('completes an event whose end packets were lost, when the next starts or after the timeout', () => {
    const rx = new DtmfReceiver(500);
    rx.onPacket(1000, ev(1, false, 800), 0);
    rx.onPacket(9000, ev(2, false, 0), 300);
    expect(rx.completed).toEqual({ digit: '1', durationMs: 100 });
    expect(rx.poll(700)).toBeNull();
    expect(rx.poll(800)).toEqual({ digit: '2', durationMs: 0 });
    expect(rx.poll(2000)).toBeNull();
  });

  it('does not report non-DTMF events and ignores short payloads', () => {
    const rx = new DtmfReceiver();
    expect(rx.onPacket(1, ev(16, true, 800), 0)).toBe('end');
    expect(rx.completed).toBeNull();
    expect(rx.onPacket(2, Buffer.from([1]), 0)).toBe('invalid');
  });
});

describe('DtmfSender', () => {
  it('sends start (marker), per-tick updates and three end packets on the event start timestamp', async () => {
    const tx = new DtmfSender();
    const done = tx.enqueue('#', 100);
    const sent: { ts: number; marker: boolean; e: ReturnType<typeof parseTelephoneEvent> }[] = [];
    for (let t = 0; t <= 120; t += 20) {
      for (const p of tx.tick(t, 5000 + t * 8) ?? []) sent.push({ ts: p.timestamp, marker: p.marker, e: parseTelephoneEvent(p.payload) });
    }
    await done;
    expect(sent.every((s) => s.ts === 5000)).toBe(true);
    expect(sent.map((s) => s.marker)).toEqual([true, false, false, false, false, false, false, false]);
    expect(sent.map((s) => s.e?.duration)).toEqual([0, 160, 320, 480, 640, 800, 800, 800]);
    expect(sent.map((s) => s.e?.end)).toEqual([false, false, false, false, false, true, true, true]);
    expect(sent.every((s) => s.e?.event === 11)).toBe(true);
    expect(tx.busy).toBe(false);
  });

  it('keeps a gap between queued digits and rejects pending ones on cancel', async () => {
    const tx = new DtmfSender(10, 60);
    const first = tx.enqueue('1', 40);
    const second = tx.enqueue('2', 40);
    const starts: number[] = [];
    for (let t = 0; t <= 100; t += 20) if (tx.tick(t, t)?.[0]?.marker) starts.push(t);
    await first;
    expect(starts).toEqual([0, 100]); // the first ends at 40 ms, the second waits out the 60 ms gap
    tx.cancel(new Error('closed'));
    await expect(second).rejects.toThrow('closed');
  });

  it('refuses invalid digits and durations', () => {
    const tx = new DtmfSender();
    expect(() => tx.enqueue('x', 100)).toThrow(RangeError);
    expect(() => tx.enqueue('1', 10)).toThrow(RangeError);
  });
});
