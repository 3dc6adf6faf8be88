import { OpusCodec } from './opus';
import { OpusRecorder } from './opus-recorder';
import { analyseTone, ToneGenerator } from './tone';

function encodeTone(hz: number, frames: number): Buffer[] {
  const codec = new OpusCodec(48000);
  const gen = new ToneGenerator(hz, 48000);
  return Array.from({ length: frames }, () => codec.encode(gen.next(960)));
}

describe('OpusRecorder', () => {
  it('decodes received Opus and finds the tone by frequency', () => {
    const rec = new OpusRecorder(5);
    for (const p of encodeTone(1000, 50)) rec.push(p);
    expect(rec.samplesDecoded).toBe(50 * 960);
    const at1k = rec.analyse(1000);
    expect(at1k.framesWithTone).toBeGreaterThan(at1k.frames * 0.8);
    expect(rec.analyse(400).framesWithTone).toBe(0);
  });

  it('keeps only the newest maxSeconds, oldest first', () => {
    const rec = new OpusRecorder(0.5);
    for (const p of encodeTone(400, 50)) rec.push(p); // 1 s of 400 Hz
    for (const p of encodeTone(1000, 20)) rec.push(p); // then 0.4 s of 1 kHz
    expect(rec.samples().length).toBe(24000);
    expect(rec.analyse(1000, 300).framesWithTone).toBeGreaterThan(4);
    const oldest = rec.samples().subarray(0, 3840); // the last 80 ms of the 400 Hz part
    expect(analyseTone(oldest, 400, 48000).framesWithTone).toBeGreaterThan(0);
    expect(analyseTone(oldest, 1000, 48000).framesWithTone).toBe(0);
  });

  it('counts packets that do not decode instead of throwing', () => {
    const rec = new OpusRecorder(1);
    rec.push(Buffer.from([0xff, 0xff, 0xff]));
    expect(rec.decodeErrors + rec.samplesDecoded).toBeGreaterThan(0);
  });
});
