import { EMPTY } from 'rxjs';
import type { ClientProxy } from '@nestjs/microservices';
import type { CallRecord, CallRepository, SignallingInstanceRegistry } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import type { CrmEventBus } from '../events/crm-event-bus';
import { CallOwnerForwarder, END_CALL_AT_OWNER, TRANSFER_AT_OWNER } from './call-owner';
import { CallOwnerController } from './call-owner.controller';
import type { BusinessCallEventsHandler } from './business-call-events.handler';
import type { CallRuntime, LiveCall } from './call-runtime';
import type { EndCallRequest, EndCallUseCase } from './end-call.use-case';
import { CallNotTransferableError, TransferService } from './transfer.service';

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

describe('CallOwnerForwarder transfers', () => {
  it("hands an API transfer to the call's live owner and names it", async () => {
    const { forwarder, emitted } = setup({ state: 'active', signallingInstance: OTHER });
    expect(await forwarder.transferAtOwner({ callId: 'call_1', signallingInstance: OTHER }, '1002')).toBe(OTHER);
    expect(emitted).toEqual([[TRANSFER_AT_OWNER, { v: 1, target: OTHER, callId: 'call_1', to: '1002' }]]);
  });

  it('hands nothing over for its own calls, calls without an owner, or a lost owner', async () => {
    const own = setup({ state: 'active', signallingInstance: SELF });
    expect(await own.forwarder.transferAtOwner({ callId: 'call_1', signallingInstance: SELF }, '1002')).toBeUndefined();
    expect(await own.forwarder.transferAtOwner({ callId: 'call_1' }, '1002')).toBeUndefined();
    const lost = setup({ state: 'active', signallingInstance: OTHER }, { alive: false });
    expect(await lost.forwarder.transferAtOwner({ callId: 'call_1', signallingInstance: OTHER }, '1002')).toBeUndefined();
    expect([...own.emitted, ...lost.emitted]).toEqual([]);
  });
});

describe('CallOwnerController', () => {
  function controller(record: Partial<CallRecord> | null = null, live: Partial<LiveCall> | undefined = undefined) {
    const ended: [string, EndCallRequest][] = [];
    const endCall = { execute: async (callId: string, req: EndCallRequest) => void ended.push([callId, req]) } as unknown as EndCallUseCase;
    const progressed: [string, string][] = [];
    const businessCalls = { progressHere: async (callId: string, step: string) => void progressed.push([callId, step]) } as unknown as BusinessCallEventsHandler;
    const calls = { get: async () => (record ? { callId: 'call_1', ...record } : null) } as unknown as CallRepository;
    const runtime = { get: (callId: string) => (callId === 'call_1' ? (live as LiveCall | undefined) : undefined) } as unknown as CallRuntime;
    const published: [string, unknown][] = [];
    const events = { publish: (type: string, data: unknown) => void published.push([type, data]) } as unknown as CrmEventBus;
    // the real refusal rules (TransferService.requestTransfer uses none of its dependencies)
    const transfers = new TransferService(calls, null as never, null as never, endCall, null as never, events);
    return { c: new CallOwnerController(SELF, silentLogger(), endCall, businessCalls, calls, runtime, transfers, events), ended, progressed, published };
  }

  it("carries out the API transfers handed to this process, and only those", async () => {
    const to: string[] = [];
    const { c, published } = controller({ state: 'active', userWaId: '15550002222' }, { log: silentLogger(), transferTo: (target: string) => void to.push(target) });
    await c.onTransfer({ v: 1, target: OTHER, callId: 'call_1', to: '1003' });
    await c.onTransfer({ v: 1, target: SELF, callId: 'call_1', to: '1002' });
    await c.onTransfer({ v: 1, target: SELF, callId: 'call_1', to: '' }); // malformed: refused
    expect(to).toEqual(['1002']);
    expect(published).toEqual([]);
  });

  it('tells the CRM (call.transfer_failed) when a handed-over transfer cannot be done: the API has answered 202 already', async () => {
    const noPhone = controller({ state: 'active', userWaId: '15550002222' }, {});
    await noPhone.c.onTransfer({ v: 1, target: SELF, callId: 'call_1', to: '1002' });
    expect(noPhone.published).toEqual([
      ['call.transfer_failed', { callId: 'call_1', waId: '15550002222', to: '1002', by: 'api', cause: new CallNotTransferableError('call_1', 'no PBX leg of it takes transfers (the call has no desk phone on it)').message }],
    ]);
    const ended = controller({ state: 'ended' }, undefined);
    await ended.c.onTransfer({ v: 1, target: SELF, callId: 'call_1', to: '1002' });
    expect(ended.published).toEqual([['call.transfer_failed', { callId: 'call_1', to: '1002', by: 'api', cause: 'call call_1 cannot be transferred: it is ended, not active' }]]);
  });

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
