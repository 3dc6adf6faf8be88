import { silentLogger } from '@wagw/logging';
import type { WaLeg, WaLegState, WaLegStateChange, WaLegWithSdp } from '@wagw/media-bridge';
import type { WaLegEventsPublisher } from '../bus/wa-leg-events.publisher';
import { SessionRegistry } from './session-registry';
import { CallAdmission } from './call-admission';
import type { WaLegFactory } from './wa-leg.factory';

class FakeLeg {
  state: WaLegState = 'connecting';
  closeCalls = 0;
  #listener: ((c: WaLegStateChange) => void) | undefined;
  on(_event: 'stateChanged', listener: (c: WaLegStateChange) => void): () => void {
    this.#listener = listener;
    return () => undefined;
  }
  stats(): { packetsReceived: number; packetsSent: number } {
    return { packetsReceived: 0, packetsSent: 0 };
  }
  async close(): Promise<void> {
    this.closeCalls++;
    this.move('closed');
  }
  move(state: WaLegState): void {
    const previous = this.state;
    this.state = state;
    this.#listener?.({ state, previous });
  }
}

function setup(admission?: CallAdmission, failing = false): { registry: SessionRegistry; legs: FakeLeg[]; published: Array<[string, string, WaLegState]> } {
  const legs: FakeLeg[] = [];
  const make = async (): Promise<WaLegWithSdp> => {
    if (failing) throw new Error('offer not acceptable');
    const leg = new FakeLeg();
    legs.push(leg);
    return { leg: leg as unknown as WaLeg, sdp: 'v=0 fake sdp' };
  };
  const factory: WaLegFactory = { answerOffer: make, createOffer: make };
  const published: Array<[string, string, WaLegState]> = [];
  const events = { stateChanged: (callId: string, legId: string, state: WaLegState) => published.push([callId, legId, state]) } as unknown as WaLegEventsPublisher;
  return { registry: new SessionRegistry(factory, events, silentLogger(), admission), legs, published };
}

describe('SessionRegistry', () => {
  it('registers a leg per call, publishes its current and later states, and lists it', async () => {
    const { registry, legs, published } = setup();

    const created = await registry.create('call-1', 'v=0 offer');
    legs[0]?.move('connected');

    expect(created).toMatchObject({ sdpType: 'answer', sdp: 'v=0 fake sdp' });
    expect(registry.list()).toEqual([{ callId: 'call-1', legId: created.legId, state: 'connected', ageMs: expect.any(Number) }]);
    const [{ ageMs } = { ageMs: -1 }] = registry.list();
    expect(ageMs).toBeGreaterThanOrEqual(0);
    expect(ageMs).toBeLessThan(5000);
    expect(published).toEqual([
      ['call-1', created.legId, 'connecting'],
      ['call-1', created.legId, 'connected'],
    ]);
    expect((await registry.create('call-2')).sdpType).toBe('offer');
    expect(registry.size).toBe(2);
  });

  it('refuses a legId under another call, and closing twice is fine', async () => {
    const { registry, legs } = setup();
    const { legId } = await registry.create('call-1');

    expect(() => registry.get('call-2', legId)).toThrow(expect.objectContaining({ code: 'LEG_NOT_FOUND' }));
    await expect(registry.close('call-2', legId, 'x')).rejects.toMatchObject({ code: 'LEG_NOT_FOUND' });
    await registry.close('call-1', legId, 'done');
    await registry.close('call-1', legId, 'done again');

    expect(legs[0]?.closeCalls).toBe(1);
    expect(registry.list()).toEqual([]);
  });

  it('on shutdown closes every leg and takes no new ones', async () => {
    const { registry, legs } = setup();
    await registry.create('call-1');
    await registry.create('call-2');

    await registry.beforeApplicationShutdown();

    expect(legs.map((l) => l.state)).toEqual(['closed', 'closed']);
    expect(registry.size).toBe(0);
    await expect(registry.create('call-3')).rejects.toMatchObject({ code: 'MEDIA_SHUTTING_DOWN' });
  });

  it('counts each leg toward its call (media.maxCalls): a new call over the limit is refused before a leg is made', async () => {
    const admission = new CallAdmission(1);
    const { registry, legs } = setup(admission);
    const first = await registry.create('call-1', 'v=0 offer');
    await expect(registry.create('call-2', 'v=0 offer')).rejects.toMatchObject({ code: 'MEDIA_AT_CAPACITY' });
    expect(legs).toHaveLength(1);
    await registry.close('call-1', first.legId, 'hung up');
    expect(admission.calls).toBe(0);
    await registry.create('call-2', 'v=0 offer');
    await registry.beforeApplicationShutdown();
    expect(admission.calls).toBe(0);
  });

  it('gives the admission back when the leg cannot be made', async () => {
    const admission = new CallAdmission(1);
    const { registry } = setup(admission, true);
    await expect(registry.create('call-1', 'v=0 offer')).rejects.toThrow('offer not acceptable');
    expect(admission.calls).toBe(0);
  });
});
