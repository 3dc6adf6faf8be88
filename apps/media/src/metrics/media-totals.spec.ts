import type { AudioBridgeStats } from '@wagw/media-bridge';
import { BridgeTally, PacketTally, bridgeTotalsOf } from './media-totals';

const dir = (lost: number) => ({ packetsIn: 0, packetsOut: 0, dtmfPacketsIn: 0, dtmfPacketsOut: 0, digits: 0, ignored: 0, lost, jitterMs: 0 });

function bridge(over: { lostWa?: number; lostPbx?: number; transcoder?: AudioBridgeStats['transcoder'] } = {}): AudioBridgeStats {
  return { mode: over.transcoder ? 'transcode' : 'passthrough', waToPbx: dir(over.lostWa ?? 0), pbxToWa: dir(over.lostPbx ?? 0), jitterBuffer: null, transcoder: over.transcoder ?? null };
}

describe('PacketTally', () => {
  it('adds the live legs to what closed legs left behind', () => {
    const tally = new PacketTally((leg: { in: number; out: number }) => ({ packetsIn: leg.in, packetsOut: leg.out }));
    const a = { in: 10, out: 20 };
    const b = { in: 1, out: 2 };

    expect(tally.total([a, b])).toEqual({ packetsIn: 11, packetsOut: 22 });
    tally.retire(a);
    a.in = 999; // a closed leg is never read again
    expect(tally.total([b])).toEqual({ packetsIn: 11, packetsOut: 22 });
    expect(tally.total([])).toEqual({ packetsIn: 10, packetsOut: 20 });
  });
});

describe('BridgeTally', () => {
  it('sums loss and transcoding work (mean µs x frames) of stopped bridges', () => {
    const tally = new BridgeTally();
    const transcoder = { framesDecoded: 90, framesConcealed: 10, decodeErrors: 0, framesEncoded: 50, decodeMeanUs: 20, encodeMeanUs: 100 };

    tally.retire(bridge({ lostWa: 3, lostPbx: 1, transcoder }));
    tally.retire(bridge({ lostWa: 2 }));

    expect(tally.closed).toEqual({ lostWa: 5, lostPbx: 1, decodeFrames: 100, decodeUs: 2000, encodeFrames: 50, encodeUs: 5000 });
    expect(bridgeTotalsOf(bridge())).toEqual({ lostWa: 0, lostPbx: 0, decodeFrames: 0, decodeUs: 0, encodeFrames: 0, encodeUs: 0 });
  });
});
