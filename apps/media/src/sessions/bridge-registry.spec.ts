import { silentLogger } from '@wagw/logging';
import { FakeMediaPort, ManualFrameTicker, writeTelephoneEvent, type RtpLeg, type WaLeg, type WaLegStateChange } from '@wagw/media-bridge';
import type { BridgeEventsPublisher } from '../bus/bridge-events.publisher';
import type { AppConfig } from '@wagw/config';
import type { MediaSilence } from '@wagw/media-bridge';
import { BridgeRegistry, bridgeMediaFor } from './bridge-registry';
import type { NegotiatedPbxLeg } from './pbx-leg-registry';
import type { NegotiatedMedia } from './pbx-sdp';

/** A WhatsApp leg as the registry sees it: a MediaPort with a media gate, a player and state events. */
class FakeWaLeg extends FakeMediaPort {
  packetsHeard = 0;
  started = 0;
  stoppedPlaying = 0;
  #listeners: ((c: WaLegStateChange) => void)[] = [];
  startMedia(): void {
    this.started++;
  }
  stopPlaying(): void {
    this.stoppedPlaying++;
  }
  on(_event: 'stateChanged', listener: (c: WaLegStateChange) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }
  move(state: WaLegStateChange['state']): void {
    for (const l of [...this.#listeners]) l({ state, previous: 'connected' });
  }
}

const PCMU: NegotiatedMedia = { codec: 'PCMU', payloadType: 0, clockRate: 8000, dtmfPayloadType: 101, remote: null, receivePayloadTypes: [0, 101], sending: true };

function setup() {
  const ticker = new ManualFrameTicker();
  const published: [string, string, string][] = [];
  const events = { digit: (callId: string, direction: string, digit: string) => published.push([callId, direction, digit]) } as unknown as BridgeEventsPublisher;
  const registry = new BridgeRegistry(ticker, events, silentLogger());
  const wa = new FakeWaLeg();
  const rtp = new FakeMediaPort(0x11111111);
  const pbx: NegotiatedPbxLeg = { legId: 'pbx-1', leg: rtp as unknown as RtpLeg, media: PCMU };
  const start = (): void => registry.start('call-1', { legId: 'wa-1', leg: wa as unknown as WaLeg }, pbx);
  return { ticker, published, registry, wa, rtp, pbx, start };
}

describe('BridgeRegistry', () => {
  it('transcodes G.711 and G.722 and passes Opus through', () => {
    expect(bridgeMediaFor(PCMU)).toEqual({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 });
    expect(bridgeMediaFor({ ...PCMU, codec: 'opus', payloadType: 96, clockRate: 48000 })).toEqual({ mode: 'passthrough', pbxPt: 96 });
    expect(bridgeMediaFor({ ...PCMU, codec: 'G722', payloadType: 9 })).toEqual({ mode: 'transcode', pbxCodec: 'G722', pbxPt: 9 });
  });

  it('opens the WhatsApp media gate, stops its player, and starting the same legs again is a no-op', () => {
    const { registry, wa, ticker, start } = setup();
    start();
    start();
    expect([wa.started, wa.stoppedPlaying]).toEqual([1, 1]);
    expect(registry.size).toBe(1);
    expect(ticker.listenerCount).toBe(1);
  });

  it('stops the bridge when the WhatsApp leg fails, releasing the ports listeners and the clock', () => {
    const { registry, wa, rtp, ticker, start } = setup();
    start();
    wa.move('failed');
    expect(registry.size).toBe(0);
    expect([wa.listenerCount, rtp.listenerCount, ticker.listenerCount]).toEqual([0, 0, 0]);
  });

  it('a new PBX leg for the same WhatsApp leg (a transfer) continues the stream toward WhatsApp: no timestamp jump', () => {
    const { registry, wa, rtp, start } = setup();
    start();
    const g711 = (port: FakeMediaPort, seq: number, ssrc: number): void =>
      port.deliver({ payloadType: 0, sequenceNumber: seq, timestamp: seq * 160, marker: false, ssrc, payload: Buffer.alloc(160, 0x55) });
    for (let i = 0; i < 5; i++) g711(rtp, i, 0x11111111);
    const before = wa.sentWith(111);
    expect(before.length).toBe(5);
    const second = new FakeMediaPort(0x22222222);
    registry.start('call-1', { legId: 'wa-1', leg: wa as unknown as WaLeg }, { legId: 'pbx-2', leg: second as unknown as RtpLeg, media: PCMU });
    for (let i = 0; i < 3; i++) g711(second, 9000 + i, 0x33333333); // another phone: its own SSRC, sequence and timestamps
    const after = wa.sentWith(111).slice(5);
    expect(after.length).toBe(3);
    const step = (((after[0]?.timestamp as number) - (before.at(-1)?.timestamp as number)) >>> 0) / 960;
    expect(step).toBeGreaterThanOrEqual(1); // at least one 20 ms frame on, and far from a random restart
    expect(step).toBeLessThan(50);
    expect(after.map((p) => (((p.timestamp - (after[0]?.timestamp as number)) >>> 0) / 960))).toEqual([0, 1, 2]);
    expect(registry.size).toBe(1);
  });

  it('stops only for a leg of that call', () => {
    const { registry, start } = setup();
    start();
    expect(registry.stopForLeg('call-2', 'pbx-1', 'other call')).toBeUndefined();
    expect(registry.stopForLeg('call-1', 'pbx-2', 'other leg')).toBeUndefined();
    // the stopped bridge's stats, for the call's CDR
    expect(registry.stopForLeg('call-1', 'pbx-1', 'PBX hung up')).toMatchObject({ waToPbx: { packetsIn: expect.any(Number) }, pbxToWa: { packetsIn: expect.any(Number) } });
    expect(registry.size).toBe(0);
  });

  it('publishes digits a party pressed, not digits sent through the API', async () => {
    const { registry, published, rtp, ticker, start } = setup();
    start();
    for (let k = 0; k < 7; k++) {
      const payload = writeTelephoneEvent({ event: 3, end: k >= 4, volume: 10, duration: Math.min(k, 4) * 160 });
      rtp.deliver({ payloadType: 101, sequenceNumber: k, timestamp: 8000, marker: k === 0, ssrc: 7, payload });
    }
    const sent = registry.sendDtmf('call-1', 'pbx', '4', 40);
    await sent;
    for (let t = 0; t < 10; t++) ticker.tick(1000 + 20 * t);
    await new Promise((resolve) => setImmediate(resolve)); // the API digit's completion is reported asynchronously
    expect(published).toEqual([['call-1', 'pbx-to-wa', '3']]);
    expect(rtp.sentWith(101).length).toBeGreaterThanOrEqual(3);
    await expect(registry.sendDtmf('call-9', 'wa', '1')).rejects.toMatchObject({ code: 'BRIDGE_NOT_FOUND' });
  });

  describe('media timeout', () => {
    /** A PBX leg with the counter and hold state the timeout reads. */
    class FakeRtpLeg extends FakeMediaPort {
      packetsHeard = 0;
      sending = true;
    }

    function timeoutSetup(rtpTimeoutS: number, rtpHoldTimeoutS: number) {
      const timeouts: [string, { waLegId: string; pbxLegId: string }, MediaSilence][] = [];
      const events = { digit: () => undefined, mediaTimeout: (...a: (typeof timeouts)[number]) => timeouts.push(a) } as unknown as BridgeEventsPublisher;
      const config = { media: { opusComplexity: 5, rtpTimeoutS, rtpHoldTimeoutS } } as unknown as AppConfig;
      const registry = new BridgeRegistry(new ManualFrameTicker(), events, silentLogger(), config);
      const wa = new FakeWaLeg();
      const rtp = new FakeRtpLeg(0x11111111);
      const t0 = performance.now();
      registry.start('call-1', { legId: 'wa-1', leg: wa as unknown as WaLeg }, { legId: 'pbx-1', leg: rtp as unknown as RtpLeg, media: PCMU });
      return { registry, wa, rtp, timeouts, t0 };
    }

    it('publishes the silent PBX side of a running bridge with its legs, and counts it', () => {
      const { registry, wa, rtp, timeouts, t0 } = timeoutSetup(2, 0);
      wa.packetsHeard = rtp.packetsHeard = 50;
      registry.sweepMediaTimeouts(t0 + 1000);
      wa.packetsHeard = 100; // WhatsApp goes on, the PBX stopped at 50
      registry.sweepMediaTimeouts(t0 + 2000);
      expect(timeouts).toEqual([]);
      wa.packetsHeard = 150;
      registry.sweepMediaTimeouts(t0 + 3001);
      expect(timeouts).toEqual([['call-1', { waLegId: 'wa-1', pbxLegId: 'pbx-1' }, { key: 'call-1', side: 'pbx', silentMs: expect.closeTo(2001, 3), limitMs: 2000, onHold: false }]]);
      expect(registry.mediaTimeouts).toEqual({ wa: 0, pbx: 1 });
      expect(registry.stats.timeouts).toEqual({ wa: 0, pbx: 1 });
    });

    it('gives a held call the hold limit, and forgets a stopped bridge', () => {
      const { registry, wa, rtp, timeouts, t0 } = timeoutSetup(2, 0);
      rtp.sending = false; // the PBX holds the call: its side may stay silent (hold limit 0: for ever)
      for (let t = 1000; t <= 10_000; t += 1000) {
        wa.packetsHeard += 50;
        registry.sweepMediaTimeouts(t0 + t);
      }
      expect(timeouts).toEqual([]);
      wa.move('closed');
      registry.sweepMediaTimeouts(t0 + 60_000);
      expect(timeouts).toEqual([]);
      expect(registry.size).toBe(0);
    });

    it('watches nothing with the timeout off (0)', () => {
      const { registry, timeouts, t0 } = timeoutSetup(0, 0);
      registry.sweepMediaTimeouts(t0 + 1e7);
      expect(timeouts).toEqual([]);
    });
  });
});
