import { channelOf, decodeWav, encodeWav, sineSamples } from './wav';

describe('WAV encoding and decoding', () => {
  it('round-trips 16-bit mono samples and the sample rate', () => {
    const samples = sineSamples(440, 8000, 0.1);
    const audio = decodeWav(encodeWav(samples, 8000));
    expect(audio.sampleRate).toBe(8000);
    expect(audio.channels).toBe(1);
    expect(Array.from(audio.samples)).toEqual(Array.from(samples));
  });

  it('writes the canonical 44-byte header', () => {
    const buf = encodeWav(new Int16Array([1, -1]), 16000);
    expect(buf.length).toBe(48);
    expect(buf.toString('ascii', 0, 4)).toBe('RIFF');
    expect(buf.readUInt32LE(4)).toBe(40);
    expect(buf.readUInt32LE(28)).toBe(32000);
    expect(buf.readUInt32LE(40)).toBe(4);
  });

  it('reads a file still being written (data size 0) to its end', () => {
    const buf = encodeWav(new Int16Array([5, 6, 7]), 8000);
    buf.writeUInt32LE(0, 4);
    buf.writeUInt32LE(0, 40);
    expect(Array.from(decodeWav(buf).samples)).toEqual([5, 6, 7]);
  });

  it('skips chunks before data and honours WAVE_FORMAT_EXTENSIBLE with a PCM subformat', () => {
    const plain = encodeWav(new Int16Array([9, -9]), 8000);
    const list = Buffer.concat([Buffer.from('LIST', 'ascii'), Buffer.from([3, 0, 0, 0, 1, 2, 3, 0])]);
    const fmt = Buffer.alloc(8 + 40);
    plain.copy(fmt, 0, 12, 36);
    fmt.writeUInt32LE(40, 4);
    fmt.writeUInt16LE(0xfffe, 8);
    fmt.writeUInt16LE(1, 8 + 24);
    const file = Buffer.concat([plain.subarray(0, 12), fmt, list, plain.subarray(36)]);
    expect(Array.from(decodeWav(file).samples)).toEqual([9, -9]);
  });

  it('rejects encodings other than 16-bit PCM', () => {
    const buf = encodeWav(new Int16Array([1]), 8000);
    buf.writeUInt16LE(3, 20);
    expect(() => decodeWav(buf)).toThrow(/unsupported WAV encoding/);
    expect(() => decodeWav(Buffer.from('not a wav file'))).toThrow(/RIFF/);
  });

  it('extracts one channel from interleaved stereo', () => {
    const audio = decodeWav(encodeWav(new Int16Array([1, 2, 3, 4]), 8000, 2));
    expect(Array.from(channelOf(audio, 1))).toEqual([2, 4]);
  });
});
