import { FakeMediaPort } from '../bridge/media-port.fake';
import { decodeG711 } from '../codec/g711';
import { G722Decoder } from '../codec/g722';
import { ProgressTonePlayer, ProgressToneSource, RINGBACK_TONES } from './progress-tone';
import { concatSamples, goertzelRatio, meanAbs } from './tone';

/** Frames of 20 ms from `source` at `rate` (joined for the Goertzel windows: a bin lands on 425 Hz at 320 samples, on 440 and 480 Hz at 400). */
function frames(source: ProgressToneSource, rate: number, n: number): { pcm: Int16Array; startsOn: boolean }[] {
  return Array.from({ length: n }, () => source.next(rate / 50));
}

describe('ProgressToneSource', () => {
  it('plays the CEPT ringback: 425 Hz for 1 s, silence for 4 s, again, with a burst start on each first frame', () => {
    const out = frames(new ProgressToneSource(RINGBACK_TONES.eu, 8000), 8000, 300); // 6 s
    const on = out.slice(0, 50);
    const off = out.slice(50, 250);
    for (let i = 0; i < on.length; i += 2) expect(goertzelRatio(concatSamples(on.slice(i, i + 2).map((f) => f.pcm)), 425, 8000)).toBeGreaterThan(0.9);
    for (const f of off) expect(meanAbs(f.pcm)).toBe(0);
    expect(goertzelRatio(concatSamples(out.slice(250, 252).map((f) => f.pcm)), 425, 8000)).toBeGreaterThan(0.9);
    expect(out.flatMap((f, i) => (f.startsOn ? [i] : []))).toEqual([0, 250]);
  });

  it('sums both sines of a dual tone (US 440+480 Hz, 2 s on) at the single amplitude, and keeps the UK double burst', () => {
    const us = frames(new ProgressToneSource(RINGBACK_TONES.us, 8000), 8000, 100);
    const f = concatSamples(us.slice(10, 20).map((x) => x.pcm)).subarray(0, 400);
    expect(goertzelRatio(f, 440, 8000)).toBeGreaterThan(0.4);
    expect(goertzelRatio(f, 480, 8000)).toBeGreaterThan(0.4);
    expect(goertzelRatio(f, 1000, 8000)).toBeLessThan(0.01);
    expect(Math.max(...f.map(Math.abs))).toBeLessThanOrEqual(6000);
    // UK: 0.4 s on, 0.2 s off, 0.4 s on, 2 s off: bursts start at frames 0 and 30, then 150
    const uk = frames(new ProgressToneSource(RINGBACK_TONES.uk, 8000), 8000, 160);
    expect(uk.flatMap((x, i) => (x.startsOn ? [i] : []))).toEqual([0, 30, 150]);
    expect(meanAbs((uk[25] as { pcm: Int16Array }).pcm)).toBe(0);
  });

  it('refuses a tone without frequencies or with an odd or empty cadence', () => {
    expect(() => new ProgressToneSource({ name: 'x', frequenciesHz: [], cadenceMs: [1, 1] }, 8000)).toThrow(/no frequency/);
    expect(() => new ProgressToneSource({ name: 'x', frequenciesHz: [425], cadenceMs: [1000] }, 8000)).toThrow(/on\/off pairs/);
    expect(() => new ProgressToneSource({ name: 'x', frequenciesHz: [425], cadenceMs: [1000, 0] }, 8000)).toThrow(/on\/off pairs/);
  });
});

describe('ProgressTonePlayer', () => {
  it('sends one PCMU frame per tick: 160 codes, timestamps 160 apart, the marker on a burst start; it decodes to the tone', () => {
    const port = new FakeMediaPort();
    const player = new ProgressTonePlayer({ port, codec: 'PCMU', payloadType: 0, tone: RINGBACK_TONES.eu });
    for (let i = 0; i < 60; i++) player.onFrameTick();
    expect(player.frames).toBe(60);
    expect(port.sent.map((p) => p.payload.length)).toEqual(Array(60).fill(160));
    expect(port.sent.every((p) => p.payloadType === 0)).toBe(true);
    const ts = port.sent.map((p) => p.timestamp);
    for (let i = 1; i < ts.length; i++) expect((((ts[i] as number) - (ts[i - 1] as number)) >>> 0)).toBe(160);
    expect(port.sent.map((p) => p.marker)).toEqual([true, ...Array(59).fill(false)]);
    const decoded = port.sent.map((p) => {
      const pcm = new Int16Array(160);
      decodeG711('PCMU', p.payload, pcm);
      return pcm;
    });
    expect(goertzelRatio(concatSamples(decoded.slice(20, 22)), 425, 8000)).toBeGreaterThan(0.9);
    const pcm = decoded[55] as Int16Array;
    expect(meanAbs(pcm)).toBeLessThan(10); // the off period: encoded silence
  });

  it('encodes G.722 at 16 kHz into 160 codes per frame (RTP clock 8 kHz), decoding to the tone', () => {
    const port = new FakeMediaPort();
    const player = new ProgressTonePlayer({ port, codec: 'G722', payloadType: 9, tone: RINGBACK_TONES.eu });
    for (let i = 0; i < 30; i++) player.onFrameTick();
    const decoder = new G722Decoder();
    const decoded = port.sent.map((p) => {
      expect(p.payload.length).toBe(160);
      const pcm = new Int16Array(320);
      decoder.decode(p.payload, pcm);
      return pcm;
    });
    expect(goertzelRatio(concatSamples(decoded.slice(20, 22)), 425, 16000)).toBeGreaterThan(0.9);
    expect((((port.sent[1]?.timestamp as number) - (port.sent[0]?.timestamp as number)) >>> 0)).toBe(160);
  });
});
