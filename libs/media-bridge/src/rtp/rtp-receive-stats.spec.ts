import { parseRtcp } from './rtcp-packet';
import { RtcpSession } from './rtcp-session';
import { RtpReceiveStats } from './rtp-receive-stats';

/** Feeds packets 20 ms apart (160 ticks at 8 kHz), arrival jitter from `jitterMs(i)`. */
function feed(stats: RtpReceiveStats, seqs: number[], jitterMs: (i: number) => number = () => 0): void {
  seqs.forEach((seq, i) => stats.update(0xabc, seq & 0xffff, (seq * 160) >>> 0, 1000 + seq * 20 + jitterMs(i)));
}

describe('RtpReceiveStats (RFC 3550 A.1, A.3, A.8)', () => {
  it('counts a clean stream after the two-packet probation with no loss and no jitter', () => {
    const s = new RtpReceiveStats(8000);
    feed(s, Array.from({ length: 50 }, (_, i) => 1000 + i));
    expect(s.snapshot()).toMatchObject({ packetsReceived: 49, packetsExpected: 49, packetsLost: 0, jitter: 0 });
  });

  it('counts lost packets and reports the fraction lost per interval', () => {
    const s = new RtpReceiveStats(8000);
    const seqs = Array.from({ length: 102 }, (_, i) => i).filter((i) => i < 2 || i % 10 !== 5); // 10 lost
    feed(s, seqs);
    expect(s.snapshot().packetsLost).toBe(10);
    const block = s.reportBlock(0, 0);
    expect(block.cumulativeLost).toBe(10);
    expect(block.fractionLost).toBe(Math.floor((10 * 256) / 100));
    feed(s, [102, 103, 104]);
    expect(s.reportBlock(0, 0).fractionLost).toBe(0); // a new interval without loss
  });

  it('extends sequence numbers across the 16-bit wrap', () => {
    const s = new RtpReceiveStats(8000);
    feed(s, Array.from({ length: 20 }, (_, i) => 65530 + i));
    const snap = s.snapshot();
    expect(snap.extendedHighestSequence).toBe(65536 + 13);
    expect(snap.packetsLost).toBe(0);
  });

  it('estimates jitter from alternating late arrivals', () => {
    const s = new RtpReceiveStats(8000);
    feed(s, Array.from({ length: 300 }, (_, i) => i), (i) => (i % 2) * 10);
    // |D| is 10 ms every packet: J converges to 10 ms (80 ticks)
    expect(s.snapshot().jitterMs).toBeGreaterThan(9);
    expect(s.snapshot().jitterMs).toBeLessThan(10.5);
  });

  it('restarts on a new SSRC and after a confirmed large sequence jump', () => {
    const s = new RtpReceiveStats(8000);
    feed(s, [1, 2, 3, 4]);
    s.update(0xdef, 500, 0, 5000);
    expect(s.ssrc).toBe(0xdef);
    s.update(0xdef, 501, 160, 5020);
    expect(s.snapshot().packetsReceived).toBe(1);
    expect(s.update(0xdef, 40000, 0, 6000)).toBe(false); // a jump: needs a second packet to believe it
    expect(s.update(0xdef, 40001, 160, 6020)).toBe(true);
    expect(s.snapshot().packetsLost).toBe(0);
  });
});

describe('RtcpSession', () => {
  it('sends RR until RTP was sent, then SR with the sent counts and a report block about the remote', () => {
    const a = new RtcpSession({ ssrc: 1, cname: 'a', clockRate: 8000 });
    for (let i = 0; i < 10; i++) a.receive.update(2, i, i * 160, i * 20);
    const rr = parseRtcp(a.buildReport(1_700_000_000_000, 200));
    expect(rr.map((p) => p.type)).toEqual(['rr', 'sdes']);
    a.onRtpSent(16000, 160, 300);
    a.onRtpSent(16160, 160, 320);
    const sr = parseRtcp(a.buildReport(1_700_000_000_000, 340))[0];
    expect(sr).toMatchObject({ type: 'sr', ssrc: 1, packetCount: 2, octetCount: 320, rtpTimestamp: 16160 + 160 });
    expect(sr?.type === 'sr' && sr.reports[0]?.ssrc).toBe(2);
  });

  it('computes the round trip from the remote echoing our SR (LSR/DLSR)', () => {
    const a = new RtcpSession({ ssrc: 1, cname: 'a', clockRate: 8000 });
    const b = new RtcpSession({ ssrc: 2, cname: 'b', clockRate: 8000 });
    a.onRtpSent(0, 160, 0);
    b.receive.update(1, 10, 0, 0);
    b.receive.update(1, 11, 160, 20);
    b.handle(a.buildReport(1_700_000_000_000, 0), 1_700_000_000_030, 30); // SR reaches B after 30 ms
    a.handle(b.buildReport(1_700_000_000_130, 130), 1_700_000_000_160, 160); // B holds it 100 ms, 30 ms back
    expect(a.remoteReport?.roundTripMs).toBeGreaterThan(55);
    expect(a.remoteReport?.roundTripMs).toBeLessThan(65);
    expect(a.remoteReport?.cumulativeLost).toBe(0);
  });

  it('ends with BYE', () => {
    const a = new RtcpSession({ ssrc: 5, cname: 'a', clockRate: 48000 });
    const packets = parseRtcp(a.buildBye(1_700_000_000_000, 0, 'call ended'));
    expect(packets.at(-1)).toEqual({ type: 'bye', ssrcs: [5], reason: 'call ended' });
  });
});
