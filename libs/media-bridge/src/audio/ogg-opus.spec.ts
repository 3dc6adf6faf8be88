import { OggFormatError, decodeOggOpus, looksLikeOggOpus, opusPacketSamples48k, readOggOpus, toneAsOggOpus, writeOggOpus } from './ogg-opus';
import { analyseTone } from './tone';

describe('Ogg Opus', () => {
  it('gives the samples of an Opus packet from its TOC byte (RFC 6716 §3.1)', () => {
    expect(opusPacketSamples48k(Uint8Array.of((1 << 3) | 0))).toBe(960); // SILK NB 20 ms, one frame
    expect(opusPacketSamples48k(Uint8Array.of((3 << 3) | 1))).toBe(5760); // SILK 60 ms, two frames
    expect(opusPacketSamples48k(Uint8Array.of((13 << 3) | 0))).toBe(960); // hybrid 20 ms
    expect(opusPacketSamples48k(Uint8Array.of((16 << 3) | 3, 4))).toBe(480); // CELT 2.5 ms, four frames
    expect(opusPacketSamples48k(Uint8Array.of((31 << 3) | 2))).toBe(1920); // CELT 20 ms, two frames
    expect(opusPacketSamples48k(Uint8Array.of((16 << 3) | 3))).toBe(0); // code 3 without its count byte
    expect(opusPacketSamples48k(new Uint8Array(0))).toBe(0);
  });

  it('writes packets that read back the same, with the head, tags and granule position', () => {
    const packets = Array.from({ length: 120 }, (_, i) => Buffer.from([(1 << 3) | 0, ...Array.from({ length: i % 300 }, (_, j) => (i + j) & 0xff)]));
    const file = writeOggOpus(packets, { inputSampleRate: 16000, comments: ['TITLE=voicemail'], serial: 77, packetsPerPage: 50 });
    const read = readOggOpus(file);
    expect(read.head).toEqual({ channels: 1, preSkip: 312, inputSampleRate: 16000, outputGain: 0 });
    expect(read.vendor).toBe('wagw');
    expect(read.comments).toEqual(['TITLE=voicemail']);
    expect(read.packets).toHaveLength(120);
    read.packets.forEach((p, i) => expect(p.equals(packets[i] as Buffer)).toBe(true));
    expect(read.finalGranule).toBe(312 + 120 * 960);
    expect(read.durationS).toBe(2.4);
    expect(looksLikeOggOpus(file)).toBe(true);
  });

  it('splits pages at 255 lacing values and keeps a packet whose length is a multiple of 255 whole', () => {
    const big = Buffer.alloc(255 * 3, 7);
    big[0] = 1 << 3;
    const packets = [big, big, Buffer.from([8, 1, 2]), Buffer.alloc(600, 9)];
    const read = readOggOpus(writeOggOpus(packets, { packetsPerPage: 255 }));
    expect(read.packets.map((p) => p.length)).toEqual([765, 765, 3, 600]);
  });

  it('refuses a damaged file with the reason', () => {
    const file = writeOggOpus([Buffer.from([8, 1, 2, 3])]);
    const flipped = Buffer.from(file);
    flipped[flipped.length - 2] = (flipped[flipped.length - 2] as number) ^ 0x40;
    expect(() => readOggOpus(flipped)).toThrow(/fails its CRC/);
    expect(() => readOggOpus(file.subarray(0, file.length - 3))).toThrow(/cut short/);
    expect(() => readOggOpus(Buffer.from('RIFF....WAVEfmt '))).toThrow(OggFormatError);
    expect(() => readOggOpus(Buffer.alloc(0))).toThrow(/no Ogg page/);
    expect(looksLikeOggOpus(Buffer.from('RIFF....WAVEfmt ................................'))).toBe(false);
  });

  it('refuses an Ogg stream that is not Opus', () => {
    // a well-formed Ogg file whose first packet is a Vorbis identification header, its CRCs recomputed
    const file = writeOggOpus([]);
    file.write('\x01vorbis\x00', 28, 'latin1');
    reseal(file);
    expect(() => readOggOpus(file)).toThrow(/no OpusHead: not an Ogg Opus file/);
    expect(looksLikeOggOpus(file)).toBe(false);
  });

  it('records a tone that decodes back at its frequency', () => {
    const file = toneAsOggOpus({ frequencyHz: 650, durationS: 1 });
    const read = readOggOpus(file);
    expect(read.packets).toHaveLength(50);
    expect(read.finalGranule).toBe(312 + 48000);
    expect(read.durationS).toBe(1);
    const pcm = decodeOggOpus(read);
    expect(pcm.length).toBe(48000 - 312);
    const hit = analyseTone(pcm.subarray(4800), 650, 48000);
    const miss = analyseTone(pcm.subarray(4800), 1000, 48000);
    expect(hit.framesWithTone).toBeGreaterThanOrEqual(hit.frames - 1);
    expect(miss.framesWithTone).toBe(0);
  });
});

/** Recomputes every page's CRC (RFC 3533 §6) after a test edited the bytes. */
function reseal(file: Buffer): void {
  for (let at = 0; at < file.length; ) {
    const segments = file[at + 26] as number;
    let end = at + 27 + segments;
    for (let i = 0; i < segments; i++) end += file[at + 27 + i] as number;
    file.writeUInt32LE(0, at + 22);
    let crc = 0;
    for (let i = at; i < end; i++) {
      crc ^= (file[i] as number) << 24;
      for (let b = 0; b < 8; b++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
      crc >>>= 0;
    }
    file.writeUInt32LE(crc, at + 22);
    at = end;
  }
}
