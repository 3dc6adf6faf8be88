import type { RTCDtlsTransport } from 'werift';
import { parseRtcp, type RtcpSenderReport } from '../rtp/rtcp-packet';
import { silentLogger } from '@wagw/logging';
import { RtpStreamWriter } from './rtp-stream-writer';
import type { SrtpFastPath } from './srtp/srtp-fast-path';

function fakes(): { dtls: RTCDtlsTransport; rtcp: unknown[][]; fastSent: number[] } {
  const rtcp: unknown[][] = [];
  const fastSent: number[] = [];
  const dtls = { state: 'connected', sendRtcp: async (packets: unknown[]) => void rtcp.push(packets), sendRtp: async () => 0 } as unknown as RTCDtlsTransport;
  return { dtls, rtcp, fastSent };
}

describe('RtpStreamWriter', () => {
  afterEach(() => jest.useRealTimers());

  it('on the fast path, numbers packets on and sends its own sender reports (with SDES CNAME and the reception report block)', () => {
    jest.useFakeTimers();
    const { dtls, rtcp } = fakes();
    const writer = new RtpStreamWriter({ dtlsTransport: dtls, ssrc: 1234, cname: 'c', clockRate: 48000, logger: silentLogger() });
    const seqs: number[] = [];
    const fastRtcp: Buffer[] = [];
    const fast = { send: (_pt: number, _m: boolean, seq: number) => (seqs.push(seq), true), sendRtcp: (b: Buffer) => (fastRtcp.push(b), true) } as unknown as SrtpFastPath;
    writer.useFastPath(fast, () => ({ ssrc: 99, fractionLost: 3, cumulativeLost: 4, highestSequence: 500, jitter: 7, lastSr: 8, delaySinceLastSr: 9 }));
    for (let i = 0; i < 3; i++) expect(writer.write({ payloadType: 111, timestamp: i * 960, marker: false, payload: Buffer.alloc(10) })).toBe(true);
    expect(seqs.slice(1)).toEqual([((seqs[0] as number) + 1) & 0xffff, ((seqs[0] as number) + 2) & 0xffff]);
    writer.startRtcp();
    jest.advanceTimersByTime(1600);
    writer.close();
    expect(rtcp).toEqual([]); // nothing through werift
    const [sr, sdes] = parseRtcp(fastRtcp[0] as Buffer);
    expect(sr).toMatchObject({ type: 'sr', ssrc: 1234, packetCount: 3, reports: [{ ssrc: 99, fractionLost: 3, cumulativeLost: 4, highestSequence: 500, jitter: 7, lastSr: 8, delaySinceLastSr: 9 }] } satisfies Partial<RtcpSenderReport>);
    expect(sdes).toMatchObject({ type: 'sdes', chunks: [{ ssrc: 1234, items: [{ type: 1, text: 'c' }] }] });
    expect(writer.stats().senderReportsSent).toBeGreaterThan(0);
  });

  it('counts a drop when the fast path refuses (no ICE consent) and does not use a sequence number', () => {
    const { dtls } = fakes();
    const writer = new RtpStreamWriter({ dtlsTransport: dtls, ssrc: 1, cname: 'c', clockRate: 48000, logger: silentLogger() });
    const seqs: number[] = [];
    let allow = false;
    writer.useFastPath({ send: (_pt: number, _m: boolean, seq: number) => (allow ? (seqs.push(seq), true) : false) } as unknown as SrtpFastPath);
    expect(writer.write({ payloadType: 111, timestamp: 0, marker: false, payload: Buffer.alloc(1) })).toBe(false);
    allow = true;
    writer.write({ payloadType: 111, timestamp: 960, marker: false, payload: Buffer.alloc(1) });
    writer.write({ payloadType: 111, timestamp: 1920, marker: false, payload: Buffer.alloc(1) });
    expect(((seqs[1] as number) - (seqs[0] as number)) & 0xffff).toBe(1);
    expect(writer.stats()).toMatchObject({ packetsSent: 2, packetsDropped: 1 });
  });
});
