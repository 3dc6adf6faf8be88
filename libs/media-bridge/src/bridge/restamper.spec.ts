import { Restamper } from './restamper';

describe('Restamper', () => {
  it('converts a continuous 8 kHz stream to 48 kHz from its own starting point', () => {
    const r = new Restamper({ srcRate: 8000, dstRate: 48000, initialTimestamp: 1000 });
    const out = [0, 1, 2, 3].map((i) => r.mapAudio(7, 5000 + 160 * i, 20 * i));
    expect(out).toEqual([1000, 1960, 2920, 3880]);
  });

  it('marks only the first packet of a segment as a discontinuity', () => {
    const r = new Restamper({ srcRate: 8000, dstRate: 48000, initialTimestamp: 0 });
    r.mapAudio(7, 0, 0);
    expect(r.discontinuity).toBe(true);
    r.mapAudio(7, 160, 20);
    expect(r.discontinuity).toBe(false);
  });

  it('keeps the output continuous when the source SSRC changes (transfer, IVR prompt)', () => {
    const r = new Restamper({ srcRate: 8000, dstRate: 48000, initialTimestamp: 0 });
    r.mapAudio(7, 0, 0);
    const last = r.mapAudio(7, 160, 20);
    const next = r.mapAudio(99, 123456789, 40); // new source, unrelated timestamps, 20 ms later
    expect(next - last).toBe(960);
    expect(r.discontinuity).toBe(true);
    expect(r.mapAudio(99, 123456789 + 160, 60) - next).toBe(960);
  });

  it('re-anchors when a source jumps its timestamps far from the wall clock', () => {
    const r = new Restamper({ srcRate: 48000, dstRate: 48000, initialTimestamp: 0 });
    r.mapAudio(1, 1000, 0);
    const jumped = r.mapAudio(1, 1000 + 48000 * 30, 20); // +30 s of timestamps in 20 ms
    expect(jumped).toBe(960);
    expect(r.discontinuity).toBe(true);
  });

  it('keeps a real silence gap (timestamps agree with the wall clock)', () => {
    const r = new Restamper({ srcRate: 8000, dstRate: 48000, initialTimestamp: 0 });
    r.mapAudio(1, 0, 0);
    expect(r.mapAudio(1, 8000 * 5, 5000)).toBe(48000 * 5);
    expect(r.discontinuity).toBe(false);
  });

  it('handles the 32-bit wrap of source and output', () => {
    const r = new Restamper({ srcRate: 48000, dstRate: 48000, initialTimestamp: 0xffffff00 });
    r.mapAudio(1, 0xfffffe00, 0);
    expect(r.mapAudio(1, 0x00000200, 20)).toBe(0x300);
  });

  it('maps event timestamps that lag the audio without re-anchoring', () => {
    const r = new Restamper({ srcRate: 8000, dstRate: 48000, initialTimestamp: 0 });
    for (let i = 0; i <= 150; i++) r.mapAudio(1, 160 * i, 20 * i); // 3 s of audio
    const eventStart = r.mapEvent(1, 160 * 50, 3000); // an event that began 2 s ago
    expect(eventStart).toBe(960 * 50);
    expect(r.mapAudio(1, 160 * 151, 3020)).toBe(960 * 151);
  });

  it('gives the current output timestamp for events this side originates', () => {
    const r = new Restamper({ srcRate: 8000, dstRate: 48000, initialTimestamp: 100 });
    expect(r.current(0)).toBe(100);
    r.mapAudio(1, 0, 1000);
    expect(r.current(1100)).toBe(100 + 4800);
  });
});
