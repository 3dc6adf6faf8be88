import type { AudioBridgeStats } from '@wagw/media-bridge';
import { bridgeMediaSummaryOf } from './media-summary';

const dir = (over: Partial<AudioBridgeStats['waToPbx']> = {}): AudioBridgeStats['waToPbx'] => ({ packetsIn: 0, packetsOut: 0, dtmfPacketsIn: 0, dtmfPacketsOut: 0, digits: 0, ignored: 0, lost: 0, jitterMs: 0, ...over });

describe('bridgeMediaSummaryOf', () => {
  it('keeps what came from each side, its loss and jitter (to a tenth of a ms)', () => {
    const stats = { mode: 'transcode', waToPbx: dir({ packetsIn: 1500, packetsOut: 1502, lost: 3, jitterMs: 2.345 }), pbxToWa: dir({ packetsIn: 1490, lost: 0, jitterMs: 0.04 }), jitterBuffer: null, transcoder: null } as AudioBridgeStats;
    expect(bridgeMediaSummaryOf(stats)).toEqual({ mode: 'transcode', fromWa: { packets: 1500, lost: 3, jitterMs: 2.3 }, fromPbx: { packets: 1490, lost: 0, jitterMs: 0 } });
  });

  it('says nothing without a bridge, and never a negative loss (duplicates, RFC 3550 A.3)', () => {
    expect(bridgeMediaSummaryOf(undefined)).toBeUndefined();
    const stats = { mode: 'passthrough', waToPbx: dir({ lost: -2 }), pbxToWa: dir(), jitterBuffer: null, transcoder: null } as AudioBridgeStats;
    expect(bridgeMediaSummaryOf(stats)?.fromWa.lost).toBe(0);
  });
});
