import { encodeWav, parseWav, resampleLinear, WavFormatError } from './wav';
import { analyseTone, ToneGenerator } from './tone';

describe('WAV reading and resampling', () => {
  it('round-trips a mono 16-bit file', () => {
    const samples = new ToneGenerator(440, 16000).next(1600);
    const back = parseWav(encodeWav(samples, 16000));
    expect(back.sampleRate).toBe(16000);
    expect(Array.from(back.samples)).toEqual(Array.from(samples));
  });

  it('mixes stereo to mono', () => {
    const buf = encodeWav(new Int16Array([100, 300, -100, -300]), 8000);
    // rewrite the header as 2 channels, block align 4
    buf.writeUInt16LE(2, 22);
    buf.writeUInt32LE(8000 * 4, 28);
    buf.writeUInt16LE(4, 32);
    expect(Array.from(parseWav(buf).samples)).toEqual([200, -200]);
  });

  it('refuses anything but 16-bit PCM', () => {
    const buf = encodeWav(new Int16Array(10), 8000);
    buf.writeUInt16LE(8, 34);
    expect(() => parseWav(buf)).toThrow(WavFormatError);
    expect(() => parseWav(Buffer.from('not a wav file at all'))).toThrow(WavFormatError);
  });

  it('resamples an 8 kHz tone to 48 kHz keeping its frequency', () => {
    const up = resampleLinear(new ToneGenerator(400, 8000).next(8000), 8000, 48000);
    expect(up.length).toBe(48000);
    const rep = analyseTone(up, 400, 48000);
    expect(rep.framesWithTone).toBe(rep.frames);
    expect(analyseTone(up, 1000, 48000).framesWithTone).toBe(0);
  });
});
