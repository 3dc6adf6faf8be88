import { decodeG711 } from './g711';
import { buildRtpPcap, readUdpPcap } from './pcap';

function ipHeaderSum(frame: Buffer): number {
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += frame.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

describe('RTP pcap writer', () => {
  const payloads = [Buffer.alloc(160, 1), Buffer.alloc(160, 2), Buffer.alloc(160, 3)];
  const pcap = buildRtpPcap({ payloads, payloadType: 8, srcPort: 4000, dstPort: 5000, ssrc: 0x11223344 });

  it('writes one UDP packet per payload, 20 ms apart, with the given ports', () => {
    const packets = readUdpPcap(pcap);
    expect(packets).toHaveLength(3);
    expect(packets.map((p) => p.timestampUs - (packets[0]?.timestampUs ?? 0))).toEqual([0, 20_000, 40_000]);
    expect(packets.every((p) => p.srcPort === 4000 && p.dstPort === 5000)).toBe(true);
  });

  it('frames each payload as RTP v2 with rising sequence numbers and timestamps', () => {
    const rtp = readUdpPcap(pcap).map((p) => p.payload);
    rtp.forEach((pkt, i) => {
      expect(pkt.readUInt8(0)).toBe(0x80);
      expect(pkt.readUInt8(1) & 0x7f).toBe(8);
      expect(pkt.readUInt8(1) >> 7).toBe(i === 0 ? 1 : 0);
      expect(pkt.readUInt16BE(2)).toBe(i);
      expect(pkt.readUInt32BE(4)).toBe(i * 160);
      expect(pkt.readUInt32BE(8)).toBe(0x11223344);
      expect(pkt.subarray(12).equals(payloads[i] as Buffer)).toBe(true);
    });
  });

  it('writes IPv4 headers whose checksum verifies', () => {
    const firstFrame = pcap.subarray(24 + 16, 24 + 16 + 14 + 20 + 8 + 12 + 160);
    expect(ipHeaderSum(firstFrame)).toBe(0xffff);
  });

  it('rejects files that are not little-endian Ethernet pcaps', () => {
    expect(() => readUdpPcap(Buffer.alloc(24))).toThrow(/pcap/);
  });

  it('carries decodable G.711 audio', () => {
    const pkt = readUdpPcap(buildRtpPcap({ payloads: [Buffer.from([0xd5, 0xaa])], payloadType: 8 }))[0];
    expect(Array.from(decodeG711(pkt?.payload.subarray(12) ?? Buffer.alloc(0), 'PCMA'))).toEqual([8, 32256]);
  });
});
