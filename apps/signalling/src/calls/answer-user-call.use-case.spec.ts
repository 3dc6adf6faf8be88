import type { AppConfig } from '@wagw/config';
import type { CallRecord, CallRepository, NewCallRecord } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import type { CallConnectEvent, WhatsAppGraphClient } from '@wagw/whatsapp';
import type { ContactsRepository } from '../contacts/contacts.repository';
import type { CrmEventBus } from '../events/crm-event-bus';
import type { MediaBusClient } from '../media/media-bus.client';
import type { PermissionService } from '../permissions/permission.service';
import type { SipStackService } from '../sip/sip-stack.service';
import type { TrunkDirectory } from '../sip/trunk-directory';
import type { EarlyTerminateStore } from '../webhooks/early-terminate.store';
import { AnswerUserCallUseCase } from './answer-user-call.use-case';
import type { BridgeToPbxUseCase } from './bridge-to-pbx.use-case';
import { CallRuntime } from './call-runtime';
import type { EndCallRequest, EndCallUseCase } from './end-call.use-case';
import type { GatewayDrain } from './gateway-drain';

const connect = {
  kind: 'call.connect',
  waCallId: 'wacid.ABC',
  sdpType: 'offer',
  sdp: 'v=0\r\n',
  timestamp: Math.floor(Date.now() / 1000),
  from: '15551234567',
  to: '15550001111',
  phoneNumberId: '100000000000001',
} as unknown as CallConnectEvent;

/**
 * The use case with the record write held until `write()` (or failed by `fail()`), a media app that answers
 * createWaLeg at once, no SIP stack (no route) and no auto-accept: what happened, in order, is in `steps`.
 */
function setup(options: { draining?: boolean } = {}) {
  const steps: string[] = [];
  let write: () => void = () => undefined;
  let fail: (err: Error) => void = () => undefined;
  const recordWritten = new Promise<void>((resolve, reject) => {
    write = resolve;
    fail = reject;
  });
  const calls = {
    claimWaCallId: async () => true,
    create: async (input: NewCallRecord) => {
      steps.push('record asked');
      await recordWritten;
      steps.push('record written');
      return { ...input, version: 0 } as CallRecord;
    },
    amend: async (_id: string, patch: Partial<CallRecord>) => void steps.push(`amend ${Object.keys(patch).join(',')}`),
  } as unknown as CallRepository;
  const media = {
    createWaLeg: async () => {
      steps.push('WhatsApp leg asked');
      return { v: 1, legId: 'wa-1', sdpType: 'answer', sdp: 'v=0\r\nanswer' };
    },
    closeWaLeg: async (_callId: string, legId: string, reason: string) => void steps.push(`close ${legId}: ${reason}`),
  } as unknown as MediaBusClient;
  const graph = { preAccept: async () => void steps.push('pre_accept') } as unknown as WhatsAppGraphClient;
  const ended: EndCallRequest[] = [];
  const endCall = { execute: async (_id: string, req: EndCallRequest) => void ended.push(req) } as unknown as EndCallUseCase;
  const config = { whatsapp: { staleConnectS: 60, businessNumber: '15550001111' }, signalling: { autoAcceptWithoutPbx: false }, media: { testToneHz: 0 } } as unknown as AppConfig;
  const runtime = new CallRuntime(silentLogger());
  const useCase = new AnswerUserCallUseCase(
    config,
    calls,
    graph,
    { wasTerminated: async () => false } as unknown as EarlyTerminateStore,
    media,
    runtime,
    endCall,
    {} as BridgeToPbxUseCase,
    { running: false } as SipStackService,
    {} as TrunkDirectory,
    { publish: () => undefined } as unknown as CrmEventBus,
    {} as PermissionService,
    { touch: async () => undefined } as unknown as ContactsRepository,
    { draining: options.draining ?? false } as GatewayDrain,
  );
  return { useCase, steps, write, fail, ended, runtime };
}

describe('AnswerUserCallUseCase: a user calls the business', () => {
  it('asks the media app for the WhatsApp leg while the call record is being written, and records the leg once it is', async () => {
    const { useCase, steps, write, ended } = setup();
    const done = useCase.execute(connect);
    for (let i = 0; i < 50 && !steps.includes('WhatsApp leg asked'); i++) await new Promise((r) => setImmediate(r));
    expect(steps).toEqual(['WhatsApp leg asked', 'record asked', 'pre_accept']); // the record is not written yet
    write();
    await done;
    expect(steps).toEqual(['WhatsApp leg asked', 'record asked', 'pre_accept', 'record written', 'amend waLegId,waSdp']);
    expect(ended.map((e) => e.cause)).toEqual(['no PBX route for business number 15550001111']);
  });

  it('closes the WhatsApp leg it asked for when the call record cannot be written, and fails the webhook', async () => {
    const { useCase, steps, fail, ended, runtime } = setup();
    const done = useCase.execute(connect);
    for (let i = 0; i < 50 && !steps.includes('pre_accept'); i++) await new Promise((r) => setImmediate(r));
    fail(new Error('Redis is down'));
    await expect(done).rejects.toThrow('Redis is down');
    for (let i = 0; i < 50 && !steps.some((s) => s.startsWith('close')); i++) await new Promise((r) => setImmediate(r));
    expect(steps).toContain('close wa-1: call record not created');
    expect(steps.some((s) => s.startsWith('amend'))).toBe(false);
    expect(ended).toEqual([]); // there is no record to end
    expect(runtime.size).toBe(0);
  });

  it('makes no leg when the gateway is draining: the call is recorded and ended at once', async () => {
    const { useCase, steps, write, ended } = setup({ draining: true });
    const done = useCase.execute(connect);
    write();
    await done;
    expect(steps).toEqual(['record asked', 'record written']);
    expect(ended.map((e) => e.cause)).toEqual([expect.stringContaining('new calls refused')]);
  });
});
