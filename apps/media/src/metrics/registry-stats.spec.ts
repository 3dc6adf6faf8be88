import { silentLogger } from '@wagw/logging';
import { FakeMediaPort, ManualFrameTicker, type RtpLeg, type WaLeg, type WaLegStateChange, type WaLegWithSdp } from '@wagw/media-bridge';
import type { BridgeEventsPublisher } from '../bus/bridge-events.publisher';
import type { WaLegEventsPublisher } from '../bus/wa-leg-events.publisher';
import { BridgeRegistry } from '../sessions/bridge-registry';
import { SessionRegistry } from '../sessions/session-registry';
import type { WaLegFactory } from '../sessions/wa-leg.factory';

/** A WhatsApp leg with packet counters, a media gate and a player (what both registries touch). */
class CountingLeg extends FakeMediaPort {
  state: WaLegStateChange['state'] = 'connected';
  packetsReceived = 0;
  packetsSent = 0;
  stats(): { packetsReceived: number; packetsSent: number } {
    return { packetsReceived: this.packetsReceived, packetsSent: this.packetsSent };
  }
  on(): () => void {
    return () => undefined;
  }
  startMedia(): void {}
  stopPlaying(): void {}
  async close(): Promise<void> {
    this.state = 'closed';
  }
}

function sessions(): { registry: SessionRegistry; legs: CountingLeg[] } {
  const legs: CountingLeg[] = [];
  const make = async (): Promise<WaLegWithSdp> => {
    const leg = new CountingLeg();
    legs.push(leg);
    return { leg: leg as unknown as WaLeg, sdp: 'v=0 fake' };
  };
  const factory: WaLegFactory = { answerOffer: make, createOffer: make };
  const events = { stateChanged: () => undefined } as unknown as WaLegEventsPublisher;
  return { registry: new SessionRegistry(factory, events, silentLogger()), legs };
}

describe('registry stats for metrics', () => {
  it('SessionRegistry keeps the packets of closed legs in its totals, also across the shutdown drain', async () => {
    const { registry, legs } = sessions();
    const first = await registry.create('call-1', 'v=0 offer');
    await registry.create('call-2');
    Object.assign(legs[0] as CountingLeg, { packetsReceived: 100, packetsSent: 90 });
    Object.assign(legs[1] as CountingLeg, { packetsReceived: 7, packetsSent: 5 });

    expect(registry.stats).toEqual({ legs: 2, packetsIn: 107, packetsOut: 95 });
    await registry.close('call-1', first.legId, 'user hung up');
    expect(registry.stats).toEqual({ legs: 1, packetsIn: 107, packetsOut: 95 });
    await registry.close('call-1', first.legId, 'again');
    expect(registry.stats).toEqual({ legs: 1, packetsIn: 107, packetsOut: 95 });
    await registry.beforeApplicationShutdown();
    expect(registry.stats).toEqual({ legs: 0, packetsIn: 107, packetsOut: 95 });
  });

  it('BridgeRegistry lists running bridges and keeps the loss of stopped ones', () => {
    const ticker = new ManualFrameTicker();
    const registry = new BridgeRegistry(ticker, { digit: () => undefined } as unknown as BridgeEventsPublisher, silentLogger());
    const wa = new CountingLeg();
    const rtp = new FakeMediaPort(0x22222222);
    const pcmu = { codec: 'PCMU' as const, payloadType: 0, clockRate: 8000, remote: null, receivePayloadTypes: [0], sending: true };
    registry.start('call-1', { legId: 'wa-1', leg: wa as unknown as WaLeg }, { legId: 'pbx-1', leg: rtp as unknown as RtpLeg, media: pcmu });
    // PBX audio with sequence numbers 3..6 missing: 4 packets lost (RFC 3550 A.3, after 2 in probation)
    for (const seq of [1, 2, 3, 4, 5, 6, 11, 12, 13]) rtp.deliver({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, marker: false, ssrc: 9, payload: Buffer.alloc(160, 0xff) });

    const running = registry.stats;
    expect(running.live).toHaveLength(1);
    expect(running.live[0]).toMatchObject({ mode: 'transcode', pbxToWa: { lost: 4 } });
    expect(running.closed.lostPbx).toBe(0);
    registry.stopForLeg('call-1', 'pbx-1', 'PBX hung up');
    expect(registry.stats.live).toEqual([]);
    expect(registry.stats.closed).toMatchObject({ lostPbx: 4, lostWa: 0 });
  });
});
