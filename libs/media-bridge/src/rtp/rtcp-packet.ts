/**
 * RTCP compound packets (RFC 3550 §6.4 SR/RR, §6.5 SDES, §6.6 BYE). Other packet types are kept raw so a
 * compound packet round-trips. RTCP runs at one packet per ~5 s per leg, so this code may allocate.
 *
 * Not kept: SR/RR profile-specific extensions after the report blocks, and padding (the P bit), which only
 * SRTCP senders use; both are dropped on parse.
 */
import { RtpParseError } from './rtp.errors';

export const RTCP_SR = 200;
export const RTCP_RR = 201;
export const RTCP_SDES = 202;
export const RTCP_BYE = 203;
export const SDES_CNAME = 1;

/** One reception report block (RFC 3550 §6.4.1). */
export interface RtcpReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, fixed point /256. */
  fractionLost: number;
  /** Cumulative packets lost, signed 24-bit (duplicates can make it negative). */
  cumulativeLost: number;
  highestSequence: number;
  /** Interarrival jitter in timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from `ssrc` (0: none). */
  lastSr: number;
  /** Delay since that SR, in 1/65536 s. */
  delaySinceLastSr: number;
}

export interface RtcpSenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: RtcpReportBlock[];
}

export interface RtcpReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: RtcpReportBlock[];
}

export interface RtcpSdesItem {
  type: number;
  text: string;
}

export interface RtcpSourceDescription {
  type: 'sdes';
  chunks: { ssrc: number; items: RtcpSdesItem[] }[];
}

export interface RtcpBye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

/** A packet type this module does not interpret (APP, RTPFB, PSFB, XR...), kept byte for byte. */
export interface RtcpOther {
  type: 'other';
  packetType: number;
  /** The 5-bit count/format field of the header. */
  count: number;
  body: Buffer;
}

export type RtcpPacket = RtcpSenderReport | RtcpReceiverReport | RtcpSourceDescription | RtcpBye | RtcpOther;

function parseReports(buf: Buffer, off: number, count: number, end: number): RtcpReportBlock[] {
  if (off + 24 * count > end) throw new RtpParseError('RTCP report blocks beyond the packet');
  const reports: RtcpReportBlock[] = [];
  for (let i = 0; i < count; i++, off += 24) {
    reports.push({
      ssrc: buf.readUInt32BE(off),
      fractionLost: buf[off + 4] as number,
      cumulativeLost: buf.readIntBE(off + 5, 3),
      highestSequence: buf.readUInt32BE(off + 8),
      jitter: buf.readUInt32BE(off + 12),
      lastSr: buf.readUInt32BE(off + 16),
      delaySinceLastSr: buf.readUInt32BE(off + 20),
    });
  }
  return reports;
}

function parseSdes(buf: Buffer, off: number, count: number, end: number): RtcpSourceDescription {
  const chunks: RtcpSourceDescription['chunks'] = [];
  for (let c = 0; c < count; c++) {
    if (off + 4 > end) throw new RtpParseError('SDES chunk beyond the packet');
    const chunk = { ssrc: buf.readUInt32BE(off), items: [] as RtcpSdesItem[] };
    off += 4;
    for (;;) {
      if (off >= end) throw new RtpParseError('SDES chunk without its end item');
      const itemType = buf[off] as number;
      if (itemType === 0) break;
      const len = buf[off + 1];
      if (len === undefined || off + 2 + len > end) throw new RtpParseError('SDES item beyond the packet');
      chunk.items.push({ type: itemType, text: buf.toString('utf8', off + 2, off + 2 + len) });
      off += 2 + len;
    }
    off = (off + 4) & ~3; // the null octet(s) up to the next 32-bit boundary
    chunks.push(chunk);
  }
  return { type: 'sdes', chunks };
}

function parseBye(buf: Buffer, off: number, count: number, end: number): RtcpBye {
  if (off + 4 * count > end) throw new RtpParseError('BYE SSRC list beyond the packet');
  const bye: RtcpBye = { type: 'bye', ssrcs: [] };
  for (let i = 0; i < count; i++, off += 4) bye.ssrcs.push(buf.readUInt32BE(off));
  if (off < end) {
    const len = buf[off] as number;
    if (off + 1 + len > end) throw new RtpParseError('BYE reason beyond the packet');
    bye.reason = buf.toString('utf8', off + 1, off + 1 + len);
  }
  return bye;
}

function parseOne(buf: Buffer, off: number, packetType: number, count: number, end: number): RtcpPacket {
  switch (packetType) {
    case RTCP_SR:
      if (off + 24 > end) throw new RtpParseError('SR shorter than its sender info');
      return {
        type: 'sr',
        ssrc: buf.readUInt32BE(off),
        ntpSeconds: buf.readUInt32BE(off + 4),
        ntpFraction: buf.readUInt32BE(off + 8),
        rtpTimestamp: buf.readUInt32BE(off + 12),
        packetCount: buf.readUInt32BE(off + 16),
        octetCount: buf.readUInt32BE(off + 20),
        reports: parseReports(buf, off + 24, count, end),
      };
    case RTCP_RR:
      if (off + 4 > end) throw new RtpParseError('RR without its SSRC');
      return { type: 'rr', ssrc: buf.readUInt32BE(off), reports: parseReports(buf, off + 4, count, end) };
    case RTCP_SDES:
      return parseSdes(buf, off, count, end);
    case RTCP_BYE:
      return parseBye(buf, off, count, end);
    default:
      return { type: 'other', packetType, count, body: Buffer.from(buf.subarray(off, end)) };
  }
}

/** Parses a compound RTCP packet. Throws `RtpParseError` on malformed input. */
export function parseRtcp(buf: Buffer): RtcpPacket[] {
  const packets: RtcpPacket[] = [];
  let off = 0;
  while (off < buf.length) {
    if (off + 4 > buf.length) throw new RtpParseError('RTCP header beyond the datagram');
    const b0 = buf[off] as number;
    if (b0 >> 6 !== 2) throw new RtpParseError('RTCP version is not 2');
    const packetType = buf[off + 1] as number;
    if (packetType < 192 || packetType > 223) throw new RtpParseError(`not an RTCP packet type: ${packetType}`);
    const next = off + 4 * (buf.readUInt16BE(off + 2) + 1);
    if (next > buf.length) throw new RtpParseError('RTCP length beyond the datagram');
    let end = next;
    if (b0 & 0x20) {
      const pad = buf[next - 1] as number;
      if (pad === 0 || off + 4 + pad > next) throw new RtpParseError('bad RTCP padding');
      end -= pad;
    }
    packets.push(parseOne(buf, off + 4, packetType, b0 & 0x1f, end));
    off = next;
  }
  if (packets.length === 0) throw new RtpParseError('empty RTCP datagram');
  return packets;
}

function reportBlocksBytes(reports: RtcpReportBlock[]): Buffer {
  const out = Buffer.alloc(24 * reports.length);
  reports.forEach((r, i) => {
    const o = 24 * i;
    out.writeUInt32BE(r.ssrc >>> 0, o);
    out[o + 4] = r.fractionLost & 0xff;
    out.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, r.cumulativeLost)), o + 5, 3);
    out.writeUInt32BE(r.highestSequence >>> 0, o + 8);
    out.writeUInt32BE(r.jitter >>> 0, o + 12);
    out.writeUInt32BE(r.lastSr >>> 0, o + 16);
    out.writeUInt32BE(r.delaySinceLastSr >>> 0, o + 20);
  });
  return out;
}

function u32(...values: number[]): Buffer {
  const out = Buffer.alloc(4 * values.length);
  values.forEach((v, i) => out.writeUInt32BE(v >>> 0, 4 * i));
  return out;
}

function sdesBody(p: RtcpSourceDescription): Buffer {
  const parts: Buffer[] = [];
  for (const chunk of p.chunks) {
    const items = chunk.items.map((it) => {
      const text = Buffer.from(it.text, 'utf8');
      if (text.length > 255) throw new RangeError('SDES item longer than 255 bytes');
      return Buffer.concat([Buffer.from([it.type, text.length]), text]);
    });
    const body = Buffer.concat([u32(chunk.ssrc), ...items]);
    const padded = (body.length + 4) & ~3; // at least one null octet, then to a 32-bit boundary
    parts.push(Buffer.concat([body, Buffer.alloc(padded - body.length)]));
  }
  return Buffer.concat(parts);
}

function byeBody(p: RtcpBye): Buffer {
  const ssrcs = u32(...p.ssrcs);
  if (p.reason === undefined) return ssrcs;
  const reason = Buffer.from(p.reason, 'utf8');
  if (reason.length > 255) throw new RangeError('BYE reason longer than 255 bytes');
  const body = Buffer.concat([ssrcs, Buffer.from([reason.length]), reason]);
  return Buffer.concat([body, Buffer.alloc((4 - (body.length % 4)) % 4)]);
}

function bodyOf(p: RtcpPacket): { packetType: number; count: number; body: Buffer } {
  switch (p.type) {
    case 'sr': {
      const info = u32(p.ssrc, p.ntpSeconds, p.ntpFraction, p.rtpTimestamp, p.packetCount, p.octetCount);
      return { packetType: RTCP_SR, count: p.reports.length, body: Buffer.concat([info, reportBlocksBytes(p.reports)]) };
    }
    case 'rr':
      return { packetType: RTCP_RR, count: p.reports.length, body: Buffer.concat([u32(p.ssrc), reportBlocksBytes(p.reports)]) };
    case 'sdes':
      return { packetType: RTCP_SDES, count: p.chunks.length, body: sdesBody(p) };
    case 'bye':
      return { packetType: RTCP_BYE, count: p.ssrcs.length, body: byeBody(p) };
    case 'other':
      return { packetType: p.packetType, count: p.count, body: p.body };
  }
}

/** Serializes packets into one compound RTCP datagram. */
export function serializeRtcp(packets: readonly RtcpPacket[]): Buffer {
  const parts: Buffer[] = [];
  for (const p of packets) {
    const { packetType, count, body } = bodyOf(p);
    if (count > 31) throw new RangeError('at most 31 report blocks, chunks or SSRCs per RTCP packet');
    if (body.length % 4 !== 0) throw new RangeError('RTCP body must be a multiple of 4 bytes');
    const header = Buffer.alloc(4);
    header[0] = 0x80 | count;
    header[1] = packetType;
    header.writeUInt16BE(body.length / 4, 2);
    parts.push(header, body);
  }
  return Buffer.concat(parts);
}

/** NTP timestamp (RFC 3550 §4) of a Unix time in ms. */
export function ntpFromUnixMs(unixMs: number): { seconds: number; fraction: number } {
  const seconds = Math.floor(unixMs / 1000);
  const fraction = Math.floor(((unixMs - seconds * 1000) / 1000) * 0x100000000);
  return { seconds: (seconds + 2208988800) >>> 0, fraction: fraction >>> 0 };
}

/** The middle 32 bits of an NTP timestamp (the LSR field of a report block). */
export function ntpMiddle32(seconds: number, fraction: number): number {
  return (((seconds & 0xffff) << 16) | (fraction >>> 16)) >>> 0;
}
