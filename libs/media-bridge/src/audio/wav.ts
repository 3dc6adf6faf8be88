/** 16-bit PCM WAV reading (any rate, any channel count, mixed down to mono) and writing, for test audio. */
export interface PcmAudio {
  sampleRate: number;
  /** Mono 16-bit samples. */
  samples: Int16Array;
}

export class WavFormatError extends Error {
  readonly code = 'WAV_FORMAT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'WavFormatError';
  }
}

interface Chunk {
  id: string;
  offset: number;
  size: number;
}

function chunks(buf: Buffer): Chunk[] {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new WavFormatError('not a RIFF/WAVE file');
  }
  const out: Chunk[] = [];
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    out.push({ id, offset: off + 8, size: Math.min(size, buf.length - off - 8) });
    off += 8 + size + (size % 2);
  }
  return out;
}

/** Parses a 16-bit PCM WAV (format 1, or WAVE_FORMAT_EXTENSIBLE holding PCM) into mono samples. */
export function parseWav(buf: Buffer): PcmAudio {
  const all = chunks(buf);
  const fmt = all.find((c) => c.id === 'fmt ');
  const data = all.find((c) => c.id === 'data');
  if (!fmt || !data) throw new WavFormatError('WAV lacks a fmt or data chunk');
  const format = buf.readUInt16LE(fmt.offset);
  const channels = buf.readUInt16LE(fmt.offset + 2);
  const sampleRate = buf.readUInt32LE(fmt.offset + 4);
  const bits = buf.readUInt16LE(fmt.offset + 14);
  if ((format !== 1 && format !== 0xfffe) || bits !== 16) throw new WavFormatError(`only 16-bit PCM WAV is supported (format ${format}, ${bits} bits)`);
  if (channels < 1 || sampleRate < 1000) throw new WavFormatError(`bad WAV header: ${channels} channels at ${sampleRate} Hz`);
  const frames = Math.floor(data.size / (2 * channels));
  const samples = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += buf.readInt16LE(data.offset + 2 * (i * channels + c));
    samples[i] = Math.round(sum / channels);
  }
  return { sampleRate, samples };
}

/** Linear-interpolation resampler: simple and good enough for test prompts and tones. */
export function resampleLinear(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate || samples.length === 0) return samples.slice();
  const outLength = Math.floor((samples.length * toRate) / fromRate);
  const out = new Int16Array(outLength);
  const step = fromRate / toRate;
  for (let i = 0; i < outLength; i++) {
    const pos = i * step;
    const idx = Math.floor(pos);
    const frac = pos - idx;
    const a = samples[idx] as number;
    const b = samples[Math.min(idx + 1, samples.length - 1)] as number;
    out[i] = Math.round(a + (b - a) * frac);
  }
  return out;
}

/** A mono 16-bit PCM WAV file. */
export function encodeWav(samples: Int16Array, sampleRate: number): Buffer {
  const data = samples.length * 2;
  const buf = Buffer.alloc(44 + data);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + data, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i] as number, 44 + 2 * i);
  return buf;
}
