import { EMPTY } from 'rxjs';
import type { ClientProxy } from '@nestjs/microservices';
import type { CallRecord, CallRepository, SignallingInstanceRegistry } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import { CallOwnerForwarder, END_CALL_AT_OWNER } from './call-owner';
import { CallOwnerController } from './call-owner.controller';
import type { BusinessCallEventsHandler } from './business-call-events.handler';
import type { EndCallRequest, EndCallUseCase } from './end-call.use-case';

const SELF = 'host-self01';
const OTHER = 'host-other1';
const REQ: EndCallRequest = { by: 'api', cause: 'hung up through the API' };

/** A forwarder over a record kept in memory; `ownerEnds` makes the emitted request end the call (the owner at work). */
function setup(record: Partial<CallRecord> | null, options: { alive?: boolean; ownerEnds?: boolean } = {}) {
  const store = { record: record ? ({ callId: 'call_1', ...record } as CallRecord) : null };
  const emitted: [string, unknown][] = [];
  const bus = {
    emit: (pattern: string, payload: unknown) => {
      emitted.push([pattern, payload]);
      if (options.ownerEnds && store.record) setTimeout(() => (store.record = { ...(store.record as CallRecord), state: 'ended' }), 150);
      return EMPTY;
    },
  } as unknown as ClientProxy;
  const registry = { isAlive: async () => options.alive ?? true } as unknown as SignallingInstanceRegistry;
  const calls = { get: async () => store.record } as unknown as CallRepository;
  return { forwarder: new CallOwnerForwarder(bus, SELF, registry, calls, silentLogger()), emitted };
}

describe('CallOwnerForwarder', () => {
  it("asks the call's live owner to end it and answers once the record says ended", async () => {
    const { forwarder, emitted } = setup({ state: 'active', signallingInstance: OTHER }, { ownerEnds: true });
    expect(await forwarder.endAtOwner('call_1', REQ, 2000)).toBe(true);
    expect(emitted).toEqual([[END_CALL_AT_OWNER, { v: 1, target: OTHER, callId: 'call_1', ...REQ }]]);
  });

  it('leaves the end to this process for its own calls, calls without an owner, a lost owner, or a silent one', async () => {
    expect(await setup({ state: 'active', signallingInstance: SELF }).forwarder.endAtOwner('call_1', REQ)).toBe(false);
    expect(await setup({ state: 'active' }).forwarder.endAtOwner('call_1', REQ)).toBe(false);
    const lost = setup({ state: 'active', signallingInstance: OTHER }, { alive: false });
    expect(await lost.forwarder.endAtOwner('call_1', REQ)).toBe(false);
    expect(lost.emitted).toEqual([]);
    const silent = setup({ state: 'active', signallingInstance: OTHER });
    expect(await silent.forwarder.endAtOwner('call_1', REQ, 300)).toBe(false);
    expect(silent.emitted).toHaveLength(1);
    expect(await setup(null).forwarder.endAtOwner('call_1', REQ)).toBe(false);
    expect(await setup({ state: 'ended', signallingInstance: OTHER }).forwarder.endAtOwner('call_1', REQ)).toBe(true);
  });
});

describe('CallOwnerController', () => {
  function controller() {
    const ended: [string, EndCallRequest][] = [];
    const endCall = { execute: async (callId: string, req: EndCallRequest) => void ended.push([callId, req]) } as unknown as EndCallUseCase;
    const progressed: [string, string][] = [];
    const businessCalls = { progressHere: async (callId: string, step: string) => void progressed.push([callId, step]) } as unknown as BusinessCallEventsHandler;
    return { c: new CallOwnerController(SELF, silentLogger(), endCall, businessCalls), ended, progressed };
  }

  it('ends the calls asked of this process, and only those', async () => {
    const { c, ended } = controller();
    await c.onEndCall({ v: 1, target: OTHER, callId: 'call_2', ...REQ });
    await c.onEndCall({ v: 1, target: SELF, callId: 'call_1', ...REQ, sipCause: '200 BYE' });
    expect(ended).toEqual([['call_1', { ...REQ, sipCause: '200 BYE' }]]);
  });

  it("hands this process's calls their WhatsApp progress, and only those", async () => {
    const { c, progressed } = controller();
    await c.onWaProgress({ v: 1, target: OTHER, callId: 'call_2', step: 'accepted' });
    await c.onWaProgress({ v: 1, target: SELF, callId: 'call_1', step: 'ringing' });
    await c.onWaProgress({ v: 2, target: SELF, callId: 'call_1', step: 'accepted' }); // another contract version: refused
    await c.onWaProgress({ v: 1, target: SELF, callId: 'call_1', step: 'answered' }); // not a step: refused
    expect(progressed).toEqual([['call_1', 'ringing']]);
  });

  it('refuses a malformed request and ends nothing', async () => {
    const { c, ended } = controller();
    await c.onEndCall({ v: 1, target: SELF, callId: 'call_1', by: 'someone', cause: 'x' });
    await c.onEndCall({ v: 1, target: SELF, callId: 'call_1', ...REQ, extra: true });
    await c.onEndCall({ target: SELF, callId: 'call_1', ...REQ }); // no contract version
    await c.onEndCall('not an object');
    expect(ended).toEqual([]);
  });
});
