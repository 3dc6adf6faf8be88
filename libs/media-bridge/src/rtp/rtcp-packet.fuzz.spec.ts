import { byteEdit, fuzz, randomBytes, type Prng } from '@wagw/testing';
import { parseRtcp, serializeRtcp, type RtcpPacket, type RtcpReportBlock } from './rtcp-packet';
import { RtpParseError } from './rtp.errors';

/**
 * Robustness of RTCP decoding over compound datagrams from the network (a PBX, a phone, a scanner): parseRtcp
 * throws RtpParseError, or returns one packet per header the datagram chains, each with its fields in range;
 * it never reads past the datagram (a RangeError), even when the datagram is a slice of a pooled buffer.
 */

const u32 = (rng: Prng): number => rng.int(2 ** 32);

function block(rng: Prng): RtcpReportBlock {
  return { ssrc: u32(rng), fractionLost: rng.int(256), cumulativeLost: rng.int(2 ** 24) - 2 ** 23, highestSequence: u32(rng), jitter: u32(rng), lastSr: u32(rng), delaySinceLastSr: u32(rng) };
}

const ascii = (rng: Prng, max: number): string => randomBytes(rng, rng.int(max + 1)).toString('hex').slice(0, max);

/** One packet of each kind this module writes (texts in ASCII, so they read back the same). */
function packet(rng: Prng): RtcpPacket {
  const n = (max: number): number => (rng.chance(0.6) ? rng.int(3) : rng.int(max + 1));
  switch (rng.int(5)) {
    case 0:
      return { type: 'sr', ssrc: u32(rng), ntpSeconds: u32(rng), ntpFraction: u32(rng), rtpTimestamp: u32(rng), packetCount: u32(rng), octetCount: u32(rng), reports: Array.from({ length: n(31) }, () => block(rng)) };
    case 1:
      return { type: 'rr', ssrc: u32(rng), reports: Array.from({ length: n(31) }, () => block(rng)) };
    case 2:
      return { type: 'sdes', chunks: Array.from({ length: 1 + n(4) }, () => ({ ssrc: u32(rng), items: Array.from({ length: n(4) }, () => ({ type: 1 + rng.int(8), text: ascii(rng, rng.chance(0.1) ? 255 : 24) })) })) };
    case 3:
      return rng.chance(0.5) ? { type: 'bye', ssrcs: Array.from({ length: n(31) }, () => u32(rng)) } : { type: 'bye', ssrcs: Array.from({ length: n(31) }, () => u32(rng)), reason: ascii(rng, 40) };
    default:
      return { type: 'other', packetType: rng.pick([204, 205, 206, 207, 192 + rng.int(8)]), count: rng.int(32), body: randomBytes(rng, 4 * rng.int(6)) };
  }
}

function compound(rng: Prng): RtcpPacket[] {
  return Array.from({ length: 1 + rng.int(4) }, () => packet(rng));
}

/** Start offsets of the packets a datagram chains by its length fields (as far as they stay inside it). */
function packetStarts(b: Buffer): number[] {
  const starts: number[] = [];
  for (let off = 0; off + 4 <= b.length; off += 4 * (b.readUInt16BE(off + 2) + 1)) starts.push(off);
  return starts;
}

/**
 * 1-3 byte-level edits aimed at RTCP's structure: a bit flip, a byte set, a cut, bytes appended, or one
 * packet's length, count or P bit (with a padding count) set to claim more than is there.
 */
function mutateRtcp(rng: Prng, input: Buffer): Buffer {
  let b: Buffer = Buffer.from(input);
  const edits = 1 + rng.int(3);
  for (let i = 0; i < edits; i++) {
    const starts = packetStarts(b);
    const at = starts.length > 0 ? rng.pick(starts) : 0;
    const choice = rng.int(8);
    switch (choice) {
      case 0:
      case 1:
      case 2:
      case 3:
        b = byteEdit(rng, b, choice as 0 | 1 | 2 | 3, [0, 0xff, 0x80, 0x01]);
        break;
      case 4:
        if (at + 4 <= b.length) b.writeUInt16BE(rng.pick([0, 1, 0xffff, rng.int(0x10000), Math.min(0xffff, b.readUInt16BE(at + 2) + 1), Math.max(0, b.readUInt16BE(at + 2) - 1)]), at + 2);
        break;
      case 5:
        if (at < b.length) b[at] = ((b[at] as number) & 0xe0) | rng.int(32); // report/chunk/SSRC count
        break;
      case 6:
        if (at + 4 <= b.length) {
          b[at] = (b[at] as number) | 0x20; // P bit, and a padding count at the end of the packet
          const end = Math.min(b.length, at + 4 * (b.readUInt16BE(at + 2) + 1));
          b[end - 1] = rng.pick([0, 1, 4, 0xff, end - at, end - at - 4, rng.int(256)]) & 0xff;
        }
        break;
      default:
        if (at < b.length) b[Math.min(b.length - 1, at + 1)] = rng.pick([200, 201, 202, 203, 204, 191, 224, rng.int(256)]); // packet type
    }
  }
  return b;
}

function pooled(datagram: Buffer): Buffer {
  const pool = Buffer.alloc(datagram.length + 64, 0xee);
  datagram.copy(pool, 32);
  return pool.subarray(32, 32 + datagram.length);
}

const isU32 = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;

function expectBlockInRange(r: RtcpReportBlock): void {
  if (![r.ssrc, r.highestSequence, r.jitter, r.lastSr, r.delaySinceLastSr].every(isU32)) throw new Error(`report block ${JSON.stringify(r)}`);
  if (!(Number.isInteger(r.fractionLost) && r.fractionLost >= 0 && r.fractionLost <= 255)) throw new Error(`fraction lost ${r.fractionLost}`);
  if (!(Number.isInteger(r.cumulativeLost) && r.cumulativeLost >= -(2 ** 23) && r.cumulativeLost < 2 ** 23)) throw new Error(`cumulative lost ${r.cumulativeLost}`);
}

function expectInRange(p: RtcpPacket): void {
  switch (p.type) {
    case 'sr':
      if (![p.ssrc, p.ntpSeconds, p.ntpFraction, p.rtpTimestamp, p.packetCount, p.octetCount].every(isU32)) throw new Error(`SR ${JSON.stringify(p)}`);
      if (p.reports.length > 31) throw new Error(`${p.reports.length} report blocks`);
      p.reports.forEach(expectBlockInRange);
      return;
    case 'rr':
      if (!isU32(p.ssrc) || p.reports.length > 31) throw new Error(`RR ${JSON.stringify(p)}`);
      p.reports.forEach(expectBlockInRange);
      return;
    case 'sdes':
      if (p.chunks.length > 31) throw new Error(`${p.chunks.length} SDES chunks`);
      for (const c of p.chunks) {
        if (!isU32(c.ssrc)) throw new Error(`SDES SSRC ${c.ssrc}`);
        for (const it of c.items) if (!(it.type >= 1 && it.type <= 255) || typeof it.text !== 'string') throw new Error(`SDES item ${JSON.stringify(it)}`);
      }
      return;
    case 'bye':
      if (p.ssrcs.length > 31 || !p.ssrcs.every(isU32) || (p.reason !== undefined && typeof p.reason !== 'string')) throw new Error(`BYE ${JSON.stringify(p)}`);
      return;
    case 'other':
      if (!(p.packetType >= 192 && p.packetType <= 223) || [200, 201, 202, 203].includes(p.packetType)) throw new Error(`packet type ${p.packetType} kept raw`);
      if (!(p.count >= 0 && p.count <= 31) || !Buffer.isBuffer(p.body)) throw new Error(`other ${JSON.stringify(p)}`);
      return;
    default:
      throw new Error(`unknown packet ${JSON.stringify(p)}`);
  }
}

describe('RTCP decoding (fuzz)', () => {
  it('reads back every compound packet its writer builds', () => {
    const failures = fuzz({
      seed: 0x5eed_7201,
      cases: 1000,
      make: (rng) => compound(rng),
      check: (packets) => {
        const read = parseRtcp(pooled(serializeRtcp(packets)));
        if (JSON.stringify(read) !== JSON.stringify(packets)) throw new Error(`read back as ${JSON.stringify(read)}`);
      },
    });
    expect(failures).toEqual([]);
  });

  it('throws RtpParseError for a mutated datagram, or reads one in-range packet per header it chains', () => {
    let taken = 0;
    const failures = fuzz({
      seed: 0x5eed_7202,
      cases: 5000,
      make: (rng) => mutateRtcp(rng, serializeRtcp(compound(rng))),
      check: (datagram) => {
        let packets: RtcpPacket[];
        try {
          packets = parseRtcp(pooled(datagram));
        } catch (err) {
          if (err instanceof RtpParseError) return;
          throw err;
        }
        taken++;
        const headers = packetStarts(datagram).length;
        if (packets.length !== headers) throw new Error(`${packets.length} packets from ${headers} headers`);
        packets.forEach(expectInRange);
      },
    });
    expect(failures.map((f) => ({ ...f, input: f.input.toString('hex') }))).toEqual([]);
    expect(taken).toBeGreaterThan(500);
  });
});
