import { analyseTone, goertzelRatio, ToneGenerator } from './tone';

describe('tone detection', () => {
  it('finds a 1 kHz tone at 1 kHz and not at 400 Hz', () => {
    const pcm = new ToneGenerator(1000, 48000).next(48000);
    expect(goertzelRatio(pcm.subarray(0, 1920), 1000, 48000)).toBeGreaterThan(0.9);
    expect(goertzelRatio(pcm.subarray(0, 1920), 400, 48000)).toBeLessThan(0.05);
    const rep = analyseTone(pcm, 1000, 48000);
    expect(rep.framesWithTone).toBe(rep.frames);
    expect(analyseTone(pcm, 400, 48000).framesWithTone).toBe(0);
  });

  it('keeps phase across frames so a frame-by-frame tone is one clean sine', () => {
    const gen = new ToneGenerator(400, 8000);
    const frames = Array.from({ length: 50 }, () => gen.next(160));
    const joined = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
    let off = 0;
    for (const f of frames) {
      joined.set(f, off);
      off += f.length;
    }
    expect(analyseTone(joined, 400, 8000).meanRatio).toBeGreaterThan(0.9);
  });

  it('reports silence as no tone', () => {
    expect(analyseTone(new Int16Array(8000), 1000, 8000).framesWithTone).toBe(0);
  });
});
