import { createRtpPacket, parseRtp, parseRtpInto, serializeRtp, writeRtp, writeSimpleRtp } from './rtp-packet';
import { RtpParseError } from './rtp.errors';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Packets shaped like captures: a desk phone's PCMU, WebRTC Opus with a one-byte-header extension, a mixer
 * packet with CSRCs, a padded packet and an RFC 4733 event with the marker bit. */
const CAPTURES: Record<string, Buffer> = {
  pcmu: Buffer.concat([hex('8000 1f40 0001f400 5eadbeef'), Buffer.alloc(160, 0xff)]),
  opusWithExtension: hex('906f 2b1a 7c0d3e40 a1b2c3d4 bede0001 10ff0000 78 0b e4 c1 36 ec c5 8d 8c 49 46 99'),
  mixerWithCsrcs: hex('82e0 0102 00000960 11111111 22222222 33333333 fc ff fe'),
  padded: hex('a008 0003 000003c0 cafebabe d5d5d5d5 0000 03'),
  dtmfStart: hex('80e5 a3c1 0001e0a0 5eadbeef 050a00a0'),
};

describe('RTP packets (RFC 3550 §5.1)', () => {
  it.each(Object.entries(CAPTURES))('%s round-trips byte for byte', (_name, bytes) => {
    expect(serializeRtp(parseRtp(bytes)).equals(bytes)).toBe(true);
  });

  it('reads the fixed header, CSRCs, extension, marker and payload', () => {
    const p = parseRtp(CAPTURES['mixerWithCsrcs'] as Buffer);
    expect(p).toMatchObject({ marker: true, payloadType: 96, sequenceNumber: 0x0102, timestamp: 2400, ssrc: 0x11111111 });
    expect(p.csrcs).toEqual([0x22222222, 0x33333333]);
    expect([...p.payload]).toEqual([0xfc, 0xff, 0xfe]);
    const o = parseRtp(CAPTURES['opusWithExtension'] as Buffer);
    expect(o.payloadType).toBe(111);
    expect(o.extension?.profile).toBe(0xbede);
    expect(o.extension?.data.toString('hex')).toBe('10ff0000');
    expect(o.payload.length).toBe(12);
    expect(o.timestamp).toBe(0x7c0d3e40);
  });

  it('strips padding from the payload and keeps its size', () => {
    const p = parseRtp(CAPTURES['padded'] as Buffer);
    expect(p.paddingSize).toBe(3);
    expect(p.payload.toString('hex')).toBe('d5d5d5d5');
    expect(p.payloadType).toBe(8);
  });

  it.each([
    ['shorter than 12 bytes', hex('8000 0001 00000000 000000')],
    ['version 1', hex('4000 0001 00000000 00000000 ff')],
    ['CSRC list beyond the packet', hex('8300 0001 00000000 00000000 11111111')],
    ['extension beyond the packet', hex('9000 0001 00000000 00000000 bede0004 10ff0000')],
    ['padding count of zero', hex('a000 0001 00000000 00000000 ff 00')],
    ['padding longer than the packet', hex('a000 0001 00000000 00000000 ff 09')],
  ])('rejects %s', (_why, bytes) => {
    expect(() => parseRtp(bytes)).toThrow(RtpParseError);
    expect(parseRtpInto(bytes, createRtpPacket())).toBe(false);
  });

  it('parses into a reused packet without keeping stale CSRCs or extensions', () => {
    const p = createRtpPacket();
    expect(parseRtpInto(CAPTURES['mixerWithCsrcs'] as Buffer, p)).toBe(true);
    expect(parseRtpInto(CAPTURES['pcmu'] as Buffer, p)).toBe(true);
    expect(p.csrcs).toEqual([]);
    expect(p.extension).toBeNull();
    expect(p.payload.length).toBe(160);
  });

  it('writes the plain header the gateway sends, with 32-bit timestamp and 16-bit sequence wrap', () => {
    const target = Buffer.alloc(1500);
    const len = writeSimpleRtp(target, 0, true, 0x1ffff, 0x1_0000_0005, 0xdeadbeef, Buffer.from([1, 2, 3]));
    const p = parseRtp(target.subarray(0, len));
    expect(p).toMatchObject({ marker: true, payloadType: 0, sequenceNumber: 0xffff, timestamp: 5, ssrc: 0xdeadbeef });
    expect([...p.payload]).toEqual([1, 2, 3]);
  });

  it('refuses to write a packet that does not fit', () => {
    expect(() => writeRtp(parseRtp(CAPTURES['pcmu'] as Buffer), Buffer.alloc(100))).toThrow(RangeError);
    expect(() => writeSimpleRtp(Buffer.alloc(20), 0, false, 1, 1, 1, Buffer.alloc(9))).toThrow(RangeError);
  });
});
