import { OpusCodec } from './opus';
import { ToneGenerator } from './tone';

/**
 * Ogg Opus files (RFC 7845 over the Ogg framing of RFC 3533): WhatsApp's voice messages and voicemails are
 * `audio/ogg` with Opus inside. Writing makes a mono file from 48 kHz-clocked Opus packets (the emulator's
 * voicemail recordings); reading checks every page's CRC and gives the packets back in order (the tests
 * decode them and look for the recorded tone; the gateway checks what it passes on is such a file).
 */

export class OggFormatError extends Error {
  readonly code = 'OGG_FORMAT' as const;
  constructor(message: string) {
    super(message);
    this.name = 'OggFormatError';
  }
}

export interface OggOpusHead {
  channels: number;
  /** 48 kHz samples the decoder drops at the start (RFC 7845 §4.2). */
  preSkip: number;
  /** The encoder's input rate, informational. */
  inputSampleRate: number;
  /** Q7.8 dB. */
  outputGain: number;
}

export interface OggOpusFile {
  head: OggOpusHead;
  vendor: string;
  comments: string[];
  /** Audio packets in order (the two header packets left out). */
  packets: Buffer[];
  /** Granule position of the last page: 48 kHz samples, pre-skip included. */
  finalGranule: number;
  /** Playing time: the last granule position less the pre-skip, in seconds (RFC 7845 §4.2). */
  durationS: number;
}

export interface OggOpusWriteOptions {
  /** OpusHead's input sample rate. Default 48000. */
  inputSampleRate?: number;
  /** Default 312, libopus' encoder lookahead at 48 kHz. */
  preSkip?: number;
  /** Stream serial number. Default 1. */
  serial?: number;
  vendor?: string;
  /** `NAME=value` comments for OpusTags. */
  comments?: readonly string[];
  /** Audio packets per page. Default 50 (one second of 20 ms packets). */
  packetsPerPage?: number;
}

const CAPTURE = Buffer.from('OggS', 'ascii');
const HEADER_BYTES = 27;
const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;
const FLAG_EOS = 0x04;

/** CRC-32 of Ogg: polynomial 0x04c11db7, no reflection, initial value 0 (RFC 3533 §6). */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let b = 0; b < 8; b++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

function oggCrc(page: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < page.length; i++) crc = ((crc << 8) ^ (CRC_TABLE[((crc >>> 24) ^ (page[i] as number)) & 0xff] as number)) >>> 0;
  return crc;
}

/**
 * 48 kHz samples in one Opus packet, from its TOC byte and frame count (RFC 6716 §3.1); 0 for a packet too
 * short to say.
 */
export function opusPacketSamples48k(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  const toc = packet[0] as number;
  const config = toc >> 3;
  let frame: number; // in 48 kHz samples
  if (config < 12) frame = [480, 960, 1920, 2880][config & 3] as number; // SILK: 10, 20, 40, 60 ms
  else if (config < 16) frame = [480, 960][config & 1] as number; // hybrid: 10, 20 ms
  else frame = [120, 240, 480, 960][config & 3] as number; // CELT: 2.5, 5, 10, 20 ms
  const code = toc & 3;
  if (code === 0) return frame;
  if (code !== 3) return 2 * frame;
  if (packet.length < 2) return 0;
  return ((packet[1] as number) & 0x3f) * frame;
}

function page(flags: number, granule: bigint, serial: number, sequence: number, packets: readonly Uint8Array[]): Buffer {
  const lacing: number[] = [];
  for (const p of packets) {
    let left = p.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left); // a packet whose length is a multiple of 255 ends with a 0
  }
  if (lacing.length > 255) throw new RangeError(`an Ogg page holds at most 255 segments, these packets need ${lacing.length}`);
  const bodyBytes = packets.reduce((n, p) => n + p.length, 0);
  const out = Buffer.alloc(HEADER_BYTES + lacing.length + bodyBytes);
  CAPTURE.copy(out, 0);
  out[4] = 0; // version
  out[5] = flags;
  out.writeBigInt64LE(granule, 6);
  out.writeUInt32LE(serial >>> 0, 14);
  out.writeUInt32LE(sequence >>> 0, 18);
  out[26] = lacing.length;
  for (let i = 0; i < lacing.length; i++) out[HEADER_BYTES + i] = lacing[i] as number;
  let at = HEADER_BYTES + lacing.length;
  for (const p of packets) {
    out.set(p, at);
    at += p.length;
  }
  out.writeUInt32LE(oggCrc(out), 22); // computed with the CRC field zero
  return out;
}

function opusHead(o: Required<Pick<OggOpusWriteOptions, 'inputSampleRate' | 'preSkip'>>): Buffer {
  const b = Buffer.alloc(19);
  b.write('OpusHead', 0, 'ascii');
  b[8] = 1; // version
  b[9] = 1; // channels
  b.writeUInt16LE(o.preSkip, 10);
  b.writeUInt32LE(o.inputSampleRate, 12);
  b.writeInt16LE(0, 16); // output gain
  b[18] = 0; // mapping family 0: mono or stereo, no table
  return b;
}

function opusTags(vendor: string, comments: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from('OpusTags', 'ascii')];
  const v = Buffer.from(vendor, 'utf8');
  const len = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n, 0);
    return b;
  };
  parts.push(len(v.length), v, len(comments.length));
  for (const c of comments) {
    const cb = Buffer.from(c, 'utf8');
    parts.push(len(cb.length), cb);
  }
  return Buffer.concat(parts);
}

/** A mono Ogg Opus file of `packets` (each its own Opus packet, any duration), the last page marked EOS. */
export function writeOggOpus(packets: readonly Uint8Array[], options: OggOpusWriteOptions = {}): Buffer {
  const serial = options.serial ?? 1;
  const preSkip = options.preSkip ?? 312;
  const perPage = Math.max(1, Math.min(options.packetsPerPage ?? 50, 255));
  const pages: Buffer[] = [];
  let sequence = 0;
  pages.push(page(FLAG_BOS, 0n, serial, sequence++, [opusHead({ inputSampleRate: options.inputSampleRate ?? 48000, preSkip })]));
  pages.push(page(0, 0n, serial, sequence++, [opusTags(options.vendor ?? 'wagw', options.comments ?? [])]));
  let granule = BigInt(preSkip);
  if (packets.length === 0) {
    pages.push(page(FLAG_EOS, granule, serial, sequence++, []));
    return Buffer.concat(pages);
  }
  for (let i = 0; i < packets.length; ) {
    // a page's packets must fit its 255 lacing values
    const group: Uint8Array[] = [];
    let segments = 0;
    while (i < packets.length && group.length < perPage) {
      const p = packets[i] as Uint8Array;
      const need = Math.floor(p.length / 255) + 1;
      if (segments + need > 255) {
        if (group.length === 0) throw new RangeError(`Opus packet ${i} is too long for one Ogg page (${p.length} bytes)`);
        break;
      }
      segments += need;
      group.push(p);
      granule += BigInt(opusPacketSamples48k(p));
      i++;
    }
    pages.push(page(i === packets.length ? FLAG_EOS : 0, granule, serial, sequence++, group));
  }
  return Buffer.concat(pages);
}

interface RawPage {
  flags: number;
  granule: bigint;
  serial: number;
  sequence: number;
  lacing: Uint8Array;
  body: Buffer;
}

function readPages(buf: Buffer): RawPage[] {
  const pages: RawPage[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < HEADER_BYTES || !buf.subarray(at, at + 4).equals(CAPTURE)) throw new OggFormatError(`no Ogg page at byte ${at}`);
    if (buf[at + 4] !== 0) throw new OggFormatError(`Ogg page at byte ${at} has version ${buf[at + 4]}, not 0`);
    const segments = buf[at + 26] as number;
    const lacingEnd = at + HEADER_BYTES + segments;
    if (lacingEnd > buf.length) throw new OggFormatError(`Ogg page at byte ${at} is cut short`);
    const lacing = buf.subarray(at + HEADER_BYTES, lacingEnd);
    const bodyBytes = lacing.reduce((n, v) => n + v, 0);
    const end = lacingEnd + bodyBytes;
    if (end > buf.length) throw new OggFormatError(`Ogg page at byte ${at} is cut short`);
    const raw = Buffer.from(buf.subarray(at, end));
    const crc = raw.readUInt32LE(22);
    raw.writeUInt32LE(0, 22);
    if (oggCrc(raw) !== crc) throw new OggFormatError(`Ogg page at byte ${at} fails its CRC`);
    pages.push({
      flags: buf[at + 5] as number,
      granule: buf.readBigInt64LE(at + 6),
      serial: buf.readUInt32LE(at + 14),
      sequence: buf.readUInt32LE(at + 18),
      lacing,
      body: buf.subarray(lacingEnd, end),
    });
    at = end;
  }
  return pages;
}

/** Packets of one logical stream, joined across pages as the lacing values say. */
function packetsOf(pages: readonly RawPage[]): Buffer[] {
  const out: Buffer[] = [];
  let pending: Buffer[] = [];
  for (const [n, p] of pages.entries()) {
    if (n > 0 && p.sequence !== (pages[n - 1] as RawPage).sequence + 1) throw new OggFormatError(`Ogg page ${p.sequence} follows page ${(pages[n - 1] as RawPage).sequence}: a page is missing`);
    if ((p.flags & FLAG_CONTINUED) !== 0 && pending.length === 0) throw new OggFormatError(`Ogg page ${p.sequence} continues a packet no page began`);
    if ((p.flags & FLAG_CONTINUED) === 0 && pending.length > 0) throw new OggFormatError(`Ogg page ${p.sequence} drops the packet the page before left open`);
    let at = 0;
    for (const v of p.lacing) {
      pending.push(p.body.subarray(at, at + v));
      at += v;
      if (v < 255) {
        out.push(Buffer.concat(pending));
        pending = [];
      }
    }
  }
  if (pending.length > 0) throw new OggFormatError('the last Ogg page leaves a packet unfinished');
  return out;
}

/** Reads a single-stream Ogg Opus file (RFC 7845): its OpusHead, OpusTags and audio packets. */
export function readOggOpus(buf: Buffer): OggOpusFile {
  const pages = readPages(buf);
  const first = pages[0];
  if (!first) throw new OggFormatError('empty: no Ogg page');
  if ((first.flags & FLAG_BOS) === 0) throw new OggFormatError('the first Ogg page is not marked as a stream start');
  if (pages.some((p) => p.serial !== first.serial)) throw new OggFormatError('more than one logical stream: only one Opus stream is read');
  const [headPacket, tagsPacket, ...packets] = packetsOf(pages);
  if (!headPacket || headPacket.length < 19 || headPacket.toString('ascii', 0, 8) !== 'OpusHead') throw new OggFormatError('no OpusHead: not an Ogg Opus file');
  if ((headPacket[8] as number) >> 4 !== 0) throw new OggFormatError(`OpusHead version ${headPacket[8]} is not one this reader knows`);
  if (!tagsPacket || tagsPacket.length < 16 || tagsPacket.toString('ascii', 0, 8) !== 'OpusTags') throw new OggFormatError('no OpusTags after OpusHead');
  const vendorLen = tagsPacket.readUInt32LE(8);
  if (16 + vendorLen > tagsPacket.length) throw new OggFormatError('OpusTags vendor string runs past its packet');
  const vendor = tagsPacket.toString('utf8', 12, 12 + vendorLen);
  let at = 12 + vendorLen;
  const count = tagsPacket.readUInt32LE(at);
  at += 4;
  const comments: string[] = [];
  for (let i = 0; i < count; i++) {
    if (at + 4 > tagsPacket.length) throw new OggFormatError('OpusTags comment list runs past its packet');
    const len = tagsPacket.readUInt32LE(at);
    if (at + 4 + len > tagsPacket.length) throw new OggFormatError('OpusTags comment runs past its packet');
    comments.push(tagsPacket.toString('utf8', at + 4, at + 4 + len));
    at += 4 + len;
  }
  const last = pages[pages.length - 1] as RawPage;
  const preSkip = headPacket.readUInt16LE(10);
  return {
    head: {
      channels: headPacket[9] as number,
      preSkip,
      inputSampleRate: headPacket.readUInt32LE(12),
      outputGain: headPacket.readInt16LE(16),
    },
    vendor,
    comments,
    packets,
    finalGranule: Number(last.granule),
    durationS: Math.max(0, Number(last.granule) - preSkip) / 48_000,
  };
}

/** True when `buf` starts like an Ogg Opus file (a BOS page whose first packet is an OpusHead). */
export function looksLikeOggOpus(buf: Uint8Array): boolean {
  if (buf.length < HEADER_BYTES + 1 + 8) return false;
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (!b.subarray(0, 4).equals(CAPTURE) || ((b[5] as number) & FLAG_BOS) === 0) return false;
  const start = HEADER_BYTES + (b[26] as number);
  return b.length >= start + 8 && b.toString('ascii', start, start + 8) === 'OpusHead';
}

export interface ToneRecordingOptions {
  frequencyHz: number;
  durationS: number;
  /** Default 8000 (about -12 dBFS). */
  amplitude?: number;
  comments?: readonly string[];
}

/**
 * A mono Ogg Opus recording of a steady tone (wideband, 16 kHz input, 20 ms packets at 24 kb/s): what an
 * emulated user "says" in a voice message, so a test can find the frequency again after decoding.
 */
export function toneAsOggOpus(options: ToneRecordingOptions): Buffer {
  const rate = 16000;
  const codec = new OpusCodec(rate, { complexity: 5, bitrateBps: 24000 });
  const tone = new ToneGenerator(options.frequencyHz, rate, options.amplitude ?? 8000);
  const frames = Math.max(1, Math.round((options.durationS * 1000) / 20));
  const packets: Buffer[] = [];
  for (let i = 0; i < frames; i++) packets.push(Buffer.from(codec.encode(tone.next(codec.frameSamples))));
  return writeOggOpus(packets, { inputSampleRate: rate, ...(options.comments ? { comments: options.comments } : {}) });
}

/** Decodes an Ogg Opus file to 48 kHz mono PCM, the pre-skip dropped (RFC 7845 §4.2). */
export function decodeOggOpus(file: OggOpusFile): Int16Array {
  const codec = new OpusCodec(48000);
  const parts = file.packets.map((p) => codec.decode(p));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Int16Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out.subarray(Math.min(file.head.preSkip, out.length));
}
