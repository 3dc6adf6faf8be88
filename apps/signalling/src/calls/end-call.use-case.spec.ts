import { deriveTransitionPatch, transition, type ApplyResult, type CallEvent, type CallRecord, type CallRepository } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import type { WhatsAppGraphClient } from '@wagw/whatsapp';
import type { BridgeMediaSummary } from '@wagw/contracts';
import type { CrmEventBus } from '../events/crm-event-bus';
import type { MediaBusClient } from '../media/media-bus.client';
import { CallRuntime } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';

/**
 * EndCallUseCase against a repository kept in memory that decides with the real state machine (the Redis
 * repository has its own tests), and fakes for the sides it releases, which record what they were asked.
 */
function setup(state: CallRecord['state'], bridgeMedia?: BridgeMediaSummary) {
  const record: CallRecord = {
    callId: 'call_1',
    direction: 'outbound',
    state,
    version: 0,
    createdAt: 1000,
    updatedAt: 1000,
    businessNumber: '15550001111',
    userWaId: '15552223333',
    pbxLegId: 'pbx-1',
  } as CallRecord;
  const store = { record };
  const calls = {
    apply: async (_id: string, event: CallEvent): Promise<ApplyResult> => {
      const t = transition(store.record, event);
      if (t.kind === 'ignored') return { outcome: 'ignored', reason: t.reason, record: store.record };
      store.record = { ...store.record, ...deriveTransitionPatch(store.record, event, t.to, Date.now()), state: t.to, version: store.record.version + 1 };
      return { outcome: 'applied', from: t.from, to: t.to, record: store.record };
    },
    amend: async (_id: string, patch: Partial<CallRecord>) => {
      steps.push('amended');
      store.record = { ...store.record, ...patch };
      return store.record;
    },
  } as unknown as CallRepository;
  const released: string[] = [];
  /** When the CDR got the bridge's media and when the media instance was let go, in order. */
  const steps: string[] = [];
  const media = {
    closeWaLeg: async () => void released.push('wa media leg'),
    closePbxLeg: async () => {
      released.push('pbx media leg');
      return bridgeMedia;
    },
    releaseCall: async () => void steps.push('media instance released'),
  } as unknown as MediaBusClient;
  const graph = { reject: async () => void released.push('wa reject'), terminate: async () => void released.push('wa terminate') } as unknown as WhatsAppGraphClient;
  const events = { publish: () => undefined } as unknown as CrmEventBus;
  const runtime = new CallRuntime(silentLogger());
  const live = runtime.open('call_1', { direction: 'outbound' });
  live.pbxLeg = { kind: 'pbx', hangup: async () => void released.push('pbx hangup') };
  return { endCall: new EndCallUseCase(calls, graph, media, runtime, events), store, released, steps, live, runtime };
}

const EXPIRED = { by: 'system' as const, cause: 'the customer did not answer the call permission request in time', permissionExpired: true };

describe('EndCallUseCase', () => {
  it('ends a call still waiting for its permission reply when the permission timer fires', async () => {
    const { endCall, store, released, runtime } = setup('permission-pending');
    await endCall.execute('call_1', EXPIRED);
    expect(store.record).toMatchObject({ state: 'ended', endedBy: 'system', endCause: EXPIRED.cause });
    expect(released.sort()).toEqual(['pbx hangup', 'pbx media leg']); // what the record and the process hold (no WhatsApp call yet)
    expect(runtime.get('call_1')).toBeUndefined();
  });

  it('leaves a call the reply moved on alone when the permission timer fires late, and a later end still ends it', async () => {
    const { endCall, store, released, live, runtime } = setup('dialing-pbx');
    await endCall.execute('call_1', EXPIRED);
    expect(store.record).toMatchObject({ state: 'dialing-pbx', version: 0 });
    expect(store.record.endCause).toBeUndefined();
    expect(released).toEqual([]);
    expect(runtime.get('call_1')).toBe(live);
    expect(live.ending).toBeUndefined(); // the late timer's no-op is not joined by the next end

    await endCall.execute('call_1', { by: 'api', cause: 'agent hung up' });
    expect(store.record).toMatchObject({ state: 'ended', endedBy: 'api', endCause: 'agent hung up' });
    expect(released).toContain('pbx hangup');
  });

  it('runs two ends of a call it holds nothing of one after the other: the legs are released once', async () => {
    const { endCall, store, released, runtime } = setup('active');
    store.record = { ...store.record, waCallId: 'wacid.1' };
    runtime.dispose('call_1'); // another process set the call up (or died with it)
    await Promise.all([
      endCall.execute('call_1', { by: 'system', cause: 'signalling instance x lost' }),
      // the WhatsApp terminate the first end's own terminate brings back, while the first still releases
      endCall.execute('call_1', { by: 'wa', cause: 'completed', waStatus: 'completed' }),
    ]);
    expect(store.record).toMatchObject({ state: 'ended', endedBy: 'system' });
    expect(released.sort()).toEqual(['pbx media leg', 'wa terminate']);
  });

  it("notes the media of the bridge the legs' close stopped on the CDR, before the media instance is let go", async () => {
    const media: BridgeMediaSummary = { mode: 'transcode', fromWa: { packets: 2997, lost: 3, jitterMs: 4.4 }, fromPbx: { packets: 3000, lost: 0, jitterMs: 0.5 } };
    const { endCall, store, steps } = setup('active', media);
    await endCall.execute('call_1', { by: 'api', cause: 'agent hung up' });
    expect(store.record).toMatchObject({
      state: 'ended',
      mediaMode: 'transcode',
      waPacketsReceived: 2997,
      waPacketsLost: 3,
      waJitterMs: 4,
      pbxPacketsReceived: 3000,
      pbxPacketsLost: 0,
      pbxJitterMs: 1,
    });
    expect(steps).toEqual(['amended', 'media instance released']);
  });

  it('notes no media for a call that was never bridged', async () => {
    const { endCall, store, steps } = setup('active');
    await endCall.execute('call_1', { by: 'api', cause: 'agent hung up' });
    expect(store.record.state).toBe('ended');
    expect(steps).toEqual(['media instance released']);
    expect(store.record.mediaMode).toBeUndefined();
    expect(store.record.waPacketsReceived).toBeUndefined();
  });
});
