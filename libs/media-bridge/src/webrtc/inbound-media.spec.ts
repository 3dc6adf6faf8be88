import { RtcpSenderInfo, RtcpSrPacket } from 'werift';
import { silentLogger } from '@wagw/logging';
import { InboundMedia } from './inbound-media';
import type { SrtpRtpPacket } from './srtp/srtp-session';

const packet = (seq: number): SrtpRtpPacket => ({ payloadType: 111, marker: false, sequenceNumber: seq, timestamp: seq * 960, ssrc: 0xabc, payload: Buffer.from([seq]) });

describe('InboundMedia', () => {
  it('hands fast-path packets to listeners with their fields and payload', () => {
    const inbound = new InboundMedia({ logger: silentLogger(), recordSeconds: 0 });
    const seen: [number, number, number][] = [];
    inbound.onRtp((p) => seen.push([p.sequenceNumber, p.timestamp, p.payload[0] as number]));
    inbound.handleFast(packet(7));
    expect(seen).toEqual([[7, 6720, 7]]);
    expect(inbound.stats().packetsReceived).toBe(1);
  });

  it('builds an RFC 3550 reception report of the remote stream, with LSR/DLSR from its last sender report', () => {
    const inbound = new InboundMedia({ logger: silentLogger(), recordSeconds: 0 });
    expect(inbound.receptionReport(Date.now())).toBeNull();
    for (let seq = 100; seq <= 120; seq++) if (seq !== 110) inbound.handleFast(packet(seq));
    const ntp = (0x12345678n << 32n) | 0x9abcdef0n;
    inbound.handleRtcp(new RtcpSrPacket({ ssrc: 0xabc, senderInfo: new RtcpSenderInfo({ ntpTimestamp: ntp, rtpTimestamp: 0, packetCount: 0, octetCount: 0 }) }));
    const block = inbound.receptionReport(Date.now() + 500);
    expect(block).toMatchObject({ ssrc: 0xabc, cumulativeLost: 1, highestSequence: 120, lastSr: 0x56789abc });
    expect(block?.delaySinceLastSr).toBeGreaterThanOrEqual(32768 - 700); // ~0.5 s in 1/65536 s
    expect(block?.delaySinceLastSr).toBeLessThanOrEqual(32768 + 700);
  });
});
