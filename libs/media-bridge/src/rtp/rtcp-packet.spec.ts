import { ntpFromUnixMs, ntpMiddle32, parseRtcp, serializeRtcp, type RtcpPacket } from './rtcp-packet';
import { RtpParseError } from './rtp.errors';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** SR with one report block + SDES CNAME "user@host" (a desk phone's periodic report). */
const SR_SDES = hex(`
  81c8 000c 5eadbeef e8a1b2c3 80000000 0001f400 000000fa 00009c40
  11223344 05 fffffe 00010203 00000010 b2c38000 00008000
  81ca 0004 5eadbeef 0109 75736572 40686f73 7400`);

/** RR with no blocks, SDES, BYE with reason "bye", then a generic NACK (RTPFB, 205) kept raw. */
const RR_SDES_BYE_NACK = hex(`
  80c9 0001 cafebabe
  81ca 0003 cafebabe 0104 77616777 0000
  81cb 0002 cafebabe 03627965
  81cd 0003 cafebabe 5eadbeef 00050000`);

describe('RTCP compound packets (RFC 3550 §6.4-6.6)', () => {
  it.each([
    ['SR + SDES', SR_SDES],
    ['RR + SDES + BYE + NACK', RR_SDES_BYE_NACK],
  ])('%s round-trips byte for byte', (_name, bytes) => {
    expect(serializeRtcp(parseRtcp(bytes)).equals(bytes)).toBe(true);
  });

  it('reads sender info and report blocks, including a negative cumulative loss', () => {
    const [sr, sdes] = parseRtcp(SR_SDES);
    expect(sr).toMatchObject({ type: 'sr', ssrc: 0x5eadbeef, ntpSeconds: 0xe8a1b2c3, rtpTimestamp: 128000, packetCount: 250, octetCount: 40000 });
    const block = sr?.type === 'sr' ? sr.reports[0] : undefined;
    expect(block).toEqual({ ssrc: 0x11223344, fractionLost: 5, cumulativeLost: -2, highestSequence: 0x10203, jitter: 16, lastSr: 0xb2c38000, delaySinceLastSr: 0x8000 });
    expect(sdes).toEqual({ type: 'sdes', chunks: [{ ssrc: 0x5eadbeef, items: [{ type: 1, text: 'user@host' }] }] });
  });

  it('reads BYE with its reason and keeps unknown types raw', () => {
    const packets = parseRtcp(RR_SDES_BYE_NACK);
    expect(packets.map((p) => p.type)).toEqual(['rr', 'sdes', 'bye', 'other']);
    expect(packets[2]).toEqual({ type: 'bye', ssrcs: [0xcafebabe], reason: 'bye' });
    expect(packets[3]).toMatchObject({ type: 'other', packetType: 205, count: 1 });
  });

  it('serializes what it builds and parses it back', () => {
    const built: RtcpPacket[] = [
      { type: 'rr', ssrc: 7, reports: [{ ssrc: 9, fractionLost: 25, cumulativeLost: 3, highestSequence: 70000, jitter: 80, lastSr: 0, delaySinceLastSr: 0 }] },
      { type: 'sdes', chunks: [{ ssrc: 7, items: [{ type: 1, text: 'wagw-abc' }] }] },
      { type: 'bye', ssrcs: [7] },
    ];
    const bytes = serializeRtcp(built);
    expect(bytes.length % 4).toBe(0);
    expect(parseRtcp(bytes)).toEqual(built);
  });

  it.each([
    ['an empty datagram', Buffer.alloc(0)],
    ['a truncated header', hex('80c9')],
    ['an RTP packet (PT 0)', hex('8000 0001 00000000 00000000')],
    ['a length beyond the datagram', hex('80c9 0004 cafebabe')],
    ['report blocks beyond the packet', hex('81c9 0001 cafebabe')],
    ['an SDES chunk without end', hex('81ca 0002 cafebabe 0104 7761')],
  ])('rejects %s', (_why, bytes) => {
    expect(() => parseRtcp(bytes)).toThrow(RtpParseError);
  });

  it('converts Unix ms to NTP and its middle 32 bits', () => {
    const ntp = ntpFromUnixMs(1_700_000_000_500);
    expect(ntp.seconds).toBe((1_700_000_000 + 2208988800) >>> 0);
    expect(ntp.fraction).toBe(0x80000000);
    expect(ntpMiddle32(ntp.seconds, ntp.fraction)).toBe((((ntp.seconds & 0xffff) << 16) | 0x8000) >>> 0);
  });
});
