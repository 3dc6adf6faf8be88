import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { CallRepository, newCallId } from '@wagw/call-state';
import { silentLogger } from '@wagw/logging';
import type { WhatsAppGraphClient } from '@wagw/whatsapp';
import type { MediaBusClient } from '../media/media-bus.client';
import type { FailoverInviter } from '../trunks/failover-inviter';
import { RoutingPolicy } from '../routing/routing-policy';
import type { ResolvedRoute } from '../sip/trunk-directory';
import { CrmEventBus } from '../events/crm-event-bus';
import { BridgeToPbxUseCase, type WaSide } from './bridge-to-pbx.use-case';
import { CallRuntime } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { PbxSdpUpdates } from './pbx-sdp-updates';
import { TransferService } from './transfer.service';

/**
 * Regression (found by the e2e leak check): a user-initiated call that ends (its WhatsApp leg failed) while
 * the bridge to the PBX is still creating the PBX media leg. The teardown read the record before the leg
 * was on it, so the leg, and its RTP ports, stayed open for good, and the INVITE still went out. Real
 * Redis call records; the media app, Graph API and trunk are recording fakes.
 */
const trunk = { name: 'pbx', hosts: ['127.0.0.1:5060'], transport: 'udp', codecs: ['PCMU'] } as unknown as ResolvedRoute['destinations'][number]['trunk'];
const route = { businessNumber: '15550001111', onFailure: 'reject', destinations: [{ uri: 'sip:1001@127.0.0.1', ringTimeoutMs: 5000, trunk }] } as unknown as ResolvedRoute;

/** The use cases over real Redis records, with the media app, Graph API and trunk as the given fakes. */
function wire(calls: CallRepository, media: object, inviter: object) {
  const logger = silentLogger();
  const graph = { reject: async () => ({}), terminate: async () => ({}) };
  const runtime = new CallRuntime(logger);
  const endCall = new EndCallUseCase(calls, graph as unknown as WhatsAppGraphClient, media as unknown as MediaBusClient, runtime, new CrmEventBus(logger));
  const sdpUpdates = new PbxSdpUpdates(media as unknown as MediaBusClient, new CrmEventBus(logger));
  const transfers = new TransferService(calls, media as unknown as MediaBusClient, inviter as unknown as FailoverInviter, endCall, sdpUpdates, new CrmEventBus(logger));
  const bridge = new BridgeToPbxUseCase(calls, graph as unknown as WhatsAppGraphClient, media as unknown as MediaBusClient, inviter as unknown as FailoverInviter, new RoutingPolicy(() => Date.now()), runtime, endCall, sdpUpdates, transfers);
  return { runtime, endCall, bridge };
}

/** A media app whose createPbxOffer answers `legId` at once; `asked` resolves when it is called, `closed` lists closed legs. */
function offeringMedia(legId: string) {
  const closed: string[] = [];
  let offerAsked: () => void = () => undefined;
  const asked = new Promise<void>((resolve) => (offerAsked = resolve));
  const media = {
    createPbxOffer: async () => {
      offerAsked();
      return { v: 1, legId, sdp: 'v=0\r\n', rtpPort: 20000 };
    },
    closePbxLeg: async (_callId: string, leg: string) => void closed.push(leg),
    closeWaLeg: async (_callId: string, leg: string) => void closed.push(leg),
    releaseCall: async () => undefined,
  };
  return { media, asked, closed };
}

describe('bridge to the PBX when the call ends during set-up', () => {
  let redis: Redis;
  let calls: CallRepository;

  beforeAll(() => {
    redis = new Redis(process.env['TEST_REDIS_URL'] as string);
  });
  afterAll(async () => {
    await redis.quit();
  });
  beforeEach(() => {
    calls = new CallRepository(redis, { keyPrefix: `race${randomBytes(4).toString('hex')}` });
  });

  it('closes the PBX media leg it made after the teardown, and sends no INVITE', async () => {
    const closed: string[] = [];
    const invites: unknown[] = [];
    let offerAsked: () => void = () => undefined;
    const asked = new Promise<void>((resolve) => (offerAsked = resolve));
    let releaseOffer: () => void = () => undefined;
    const media = {
      createPbxOffer: () => {
        offerAsked();
        return new Promise((resolve) => (releaseOffer = () => resolve({ v: 1, legId: 'pbx-late', sdp: 'v=0\r\n', rtpPort: 20000 })));
      },
      closePbxLeg: async (_callId: string, legId: string) => void closed.push(legId),
      closeWaLeg: async (_callId: string, legId: string) => void closed.push(legId),
      releaseCall: async () => undefined,
    };
    const inviter = { invite: (...args: unknown[]) => invites.push(args) };
    const { runtime, endCall, bridge } = wire(calls, media, inviter);
    const callId = newCallId();
    const created = calls.create({ callId, direction: 'inbound', state: 'offered', waCallId: `wacid.${callId}`, waLegId: 'wa-1', businessNumber: '15550001111', phoneNumberId: '1' });
    await created;
    const live = runtime.open(callId, { waCallId: `wacid.${callId}`, direction: 'inbound' });

    await bridge.execute(live, route, Promise.resolve({ waCallId: `wacid.${callId}`, legId: 'wa-1', sdp: 'v=0\r\n', preAccepted: Promise.resolve() }), created);
    await asked;
    await endCall.execute(callId, { by: 'system', cause: 'WhatsApp media failed' });
    releaseOffer();

    for (let i = 0; i < 100 && !closed.includes('pbx-late'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toEqual(['wa-1', 'pbx-late']);
    expect(invites).toEqual([]);
    expect((await calls.get(callId))?.state).toBe('ended');
  });

  it('makes the PBX media leg while the WhatsApp side is built, and sends the INVITE only once it is done', async () => {
    const invites: unknown[] = [];
    const { media, asked } = offeringMedia('pbx-early');
    let invited: () => void = () => undefined;
    const inviteSent = new Promise<void>((resolve) => (invited = resolve));
    const call = { callId: 'sip-1', on: () => undefined, hangup: async () => undefined };
    const inviter = {
      invite: (...args: unknown[]) => {
        invites.push(args);
        invited();
        return call;
      },
    };
    const { runtime, bridge } = wire(calls, media, inviter);
    const callId = newCallId();
    const created = calls.create({ callId, direction: 'inbound', state: 'offered', waCallId: `wacid.${callId}`, businessNumber: '15550001111', phoneNumberId: '1' });
    await created;
    const live = runtime.open(callId, { waCallId: `wacid.${callId}`, direction: 'inbound' });
    let waDone: () => void = () => undefined;
    const waSide = new Promise<WaSide>((resolve) => (waDone = () => resolve({ waCallId: `wacid.${callId}`, legId: 'wa-1', sdp: 'v=0\r\n', preAccepted: Promise.resolve() })));

    await bridge.execute(live, route, waSide, created);
    await asked;
    for (let i = 0; i < 100 && (await calls.get(callId))?.pbxLegId === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await calls.get(callId))?.pbxLegId).toBe('pbx-early');
    await new Promise((r) => setTimeout(r, 50)); // the bridge now waits for the WhatsApp side: no INVITE yet
    expect(invites).toEqual([]);
    waDone();
    await inviteSent;
    expect(invites).toHaveLength(1);
    for (let i = 0; i < 100 && (await calls.get(callId))?.state !== 'dialing-pbx'; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await calls.get(callId))?.state).toBe('dialing-pbx');
  });

  it('stops without an INVITE, and the teardown closes the PBX media leg, when the WhatsApp side fails', async () => {
    const invites: unknown[] = [];
    const { media, asked, closed } = offeringMedia('pbx-orphan');
    const inviter = { invite: (...args: unknown[]) => invites.push(args) };
    const { runtime, endCall, bridge } = wire(calls, media, inviter);
    const callId = newCallId();
    const created = calls.create({ callId, direction: 'inbound', state: 'offered', waCallId: `wacid.${callId}`, businessNumber: '15550001111', phoneNumberId: '1' });
    await created;
    const live = runtime.open(callId, { waCallId: `wacid.${callId}`, direction: 'inbound' });
    let waFailed: (err: Error) => void = () => undefined;
    const waSide = new Promise<WaSide>((_resolve, reject) => (waFailed = reject));

    await bridge.execute(live, route, waSide, created);
    await asked;
    // what AnswerUserCallUseCase does when pre_accept fails: the call ends, then its promise rejects
    waFailed(new Error('pre_accept refused'));
    await endCall.execute(callId, { by: 'system', cause: 'set-up failed: pre_accept refused' });

    for (let i = 0; i < 100 && !closed.includes('pbx-orphan'); i++) await new Promise((r) => setTimeout(r, 20));
    expect(closed).toContain('pbx-orphan');
    expect(invites).toEqual([]);
    expect((await calls.get(callId))?.state).toBe('ended');
  });
  it('asks for the PBX media leg before the call record exists, and records it once the record is written', async () => {
    const invites: unknown[] = [];
    const { media, asked } = offeringMedia('pbx-first');
    const inviter = { invite: (...args: unknown[]) => invites.push(args) };
    const { runtime, bridge } = wire(calls, media, inviter);
    const callId = newCallId();
    const live = runtime.open(callId, { waCallId: `wacid.${callId}`, direction: 'inbound' });
    let write: () => void = () => undefined;
    const created = new Promise<void>((resolve) => (write = resolve)).then(() =>
      calls.create({ callId, direction: 'inbound', state: 'offered', waCallId: `wacid.${callId}`, businessNumber: '15550001111', phoneNumberId: '1' }),
    );
    const waSide = new Promise<WaSide>(() => undefined); // the WhatsApp side is still being built

    await bridge.execute(live, route, waSide, created);
    await asked; // asked while the record is not written yet
    expect(await calls.get(callId)).toBeNull();
    write();
    for (let i = 0; i < 100 && (await calls.get(callId))?.pbxLegId === undefined; i++) await new Promise((r) => setTimeout(r, 10));
    expect((await calls.get(callId))?.pbxLegId).toBe('pbx-first');
    expect(invites).toEqual([]);
  });

  it('closes the PBX media leg it asked for early when the call record cannot be written, and sends no INVITE', async () => {
    const invites: unknown[] = [];
    const { media, asked, closed } = offeringMedia('pbx-unrecorded');
    const inviter = { invite: (...args: unknown[]) => invites.push(args) };
    const { runtime, bridge } = wire(calls, media, inviter);
    const callId = newCallId();
    const live = runtime.open(callId, { waCallId: `wacid.${callId}`, direction: 'inbound' });
    const created = Promise.reject(new Error('Redis is down'));
    const waSide = Promise.reject(new Error('the record was not written'));

    await bridge.execute(live, route, waSide, created);
    await asked;
    for (let i = 0; i < 100 && !closed.includes('pbx-unrecorded'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(closed).toEqual(['pbx-unrecorded']);
    expect(invites).toEqual([]);
    expect(await calls.get(callId)).toBeNull();
  });
});
