import { readFileSync, writeFileSync } from 'node:fs';

/**
 * 16-bit PCM WAV (RIFF) writing and reading without sox. Reading accepts what baresip's sndfile module
 * writes (plain 44-byte header, PCM 16, 8 kHz mono for G.711) and files still being written, whose RIFF and
 * data sizes are 0 or larger than the file: then the samples run to the end of the file.
 */

export interface WavAudio {
  /** Interleaved samples (one channel: the samples). */
  samples: Int16Array;
  sampleRate: number;
  channels: number;
}

const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** A RIFF/WAVE file holding `samples` as 16-bit little-endian PCM. */
export function encodeWav(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  const dataBytes = samples.length * 2;
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  buf.writeUInt16LE(channels, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * channels * 2, 28);
  buf.writeUInt16LE(channels * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < samples.length; i++) buf.writeInt16LE(samples[i] as number, 44 + i * 2);
  return buf;
}

export function writeWav(path: string, samples: Int16Array, sampleRate: number, channels = 1): void {
  writeFileSync(path, encodeWav(samples, sampleRate, channels));
}

/** `seconds` of a sine at `frequencyHz`, 16-bit mono. */
export function sineSamples(frequencyHz: number, sampleRate: number, seconds: number, amplitude = 8000): Int16Array {
  const n = Math.round(sampleRate * seconds);
  const out = new Int16Array(n);
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin(step * i));
  return out;
}

export interface SineWavOptions {
  path: string;
  frequencyHz: number;
  /** 8000 by default (what baresip's aufile needs for G.711). */
  sampleRate?: number;
  seconds: number;
  amplitude?: number;
}

/** Writes a mono 16-bit WAV of a sine; returns the path. */
export function writeSineWav(o: SineWavOptions): string {
  const rate = o.sampleRate ?? 8000;
  writeWav(o.path, sineSamples(o.frequencyHz, rate, o.seconds, o.amplitude), rate);
  return o.path;
}

interface Fmt {
  format: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
}

function parseFmt(buf: Buffer, off: number, size: number): Fmt {
  if (size < 16) throw new TypeError('WAV fmt chunk too short');
  let format = buf.readUInt16LE(off);
  if (format === WAVE_FORMAT_EXTENSIBLE && size >= 26) format = buf.readUInt16LE(off + 24);
  return {
    format,
    channels: buf.readUInt16LE(off + 2),
    sampleRate: buf.readUInt32LE(off + 4),
    bitsPerSample: buf.readUInt16LE(off + 14),
  };
}

/** Parses a 16-bit PCM WAV. Throws TypeError for other formats. */
export function decodeWav(buf: Buffer): WavAudio {
  if (buf.length < 12 || buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new TypeError('not a RIFF/WAVE file');
  }
  let fmt: Fmt | undefined;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const declared = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') fmt = parseFmt(buf, body, declared);
    if (id === 'data') {
      if (!fmt) throw new TypeError('WAV data chunk before fmt chunk');
      if (fmt.format !== WAVE_FORMAT_PCM || fmt.bitsPerSample !== 16) {
        throw new TypeError(`unsupported WAV encoding: format ${fmt.format}, ${fmt.bitsPerSample} bits`);
      }
      // a file still being written has size 0 (or a stale size): read to the end then
      const available = buf.length - body;
      const bytes = declared === 0 || declared > available ? available : declared;
      const count = Math.floor(bytes / 2);
      const samples = new Int16Array(count);
      for (let i = 0; i < count; i++) samples[i] = buf.readInt16LE(body + i * 2);
      return { samples, sampleRate: fmt.sampleRate, channels: fmt.channels };
    }
    off = body + declared + (declared % 2);
  }
  throw new TypeError('WAV has no data chunk');
}

export function readWav(path: string): WavAudio {
  return decodeWav(readFileSync(path));
}

/** Channel `channel` of interleaved samples. */
export function channelOf(audio: WavAudio, channel = 0): Int16Array {
  if (audio.channels === 1) return audio.samples;
  const n = Math.floor(audio.samples.length / audio.channels);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = audio.samples[i * audio.channels + channel] as number;
  return out;
}
