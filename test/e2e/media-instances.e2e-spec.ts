import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { OrphanLegSweeper } from '../../apps/signalling/src/media/orphan-leg.sweeper';
import { InstanceHeartbeatService } from '../../apps/media/src/bus/instance-heartbeat.service';
import { activeCall, endedCall, endedWaCall, eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { phoneHeard, startDemoPbx, type DemoPbx } from '../support/pbx';
import { userHeard } from '../support/pbx-to-whatsapp';

/**
 * Several media apps behind one signalling app (signalling.mediaInstances, media.instanceId each), e.g. one
 * per core: WhatsApp users call a gateway with no PBX (the media app answers with a 400 Hz tone); calls are
 * spread over both instances, each call's legs and audio are on the instance recorded for it, hang-ups
 * release everything on both, and an instance that is stopped gets no new calls.
 */
const INSTANCES = ['media-1', 'media-2'] as const;
/**
 * Calls placed (at most) until one lands on a given instance: all on the other by chance is 1 / 2^n. At 12
 * that chance (1 in 4,096 per search, several searches per run) came up once in CI; at 24, 1 in 16.7 million.
 */
const MAX_CALLS = 24;

/** The media instance recorded for the call (null once the call has ended). */
function instanceOf(stack: Stack, callId: string): Promise<string | null> {
  return stack.redis.get(`${stack.config.redis.keyPrefix}:media:call:${callId}`);
}

/** A new WhatsApp user (`waId`) calls the business; resolves once the call is active. */
async function newUserCalls(stack: Stack, waId: string): Promise<CallRecord> {
  await stack.emu('POST', '/emulator/users', { waId, name: `User ${waId}` });
  const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${waId}/call`, {});
  return activeCall(stack, waCallId);
}

describe('calls spread over two media apps', () => {
  let stack: Stack;
  let nextUser = 0;

  beforeEach(async () => {
    stack = await startStack({ name: 'media-instances', mediaInstances: INSTANCES });
  });

  afterEach(() => expectNoLeaks(stack, 15_000));
  afterEach(async () => {
    await stack?.close();
  });

  /** A new WhatsApp user calls and the call becomes active; returns the user and the call. */
  async function userCalls(): Promise<{ user: string; call: CallRecord }> {
    const user = `1555300${String(nextUser++).padStart(4, '0')}`;
    return { user, call: await newUserCalls(stack, user) };
  }

  async function legsOn(instanceId: string): Promise<string[]> {
    const { legs } = await stack.signalling.app.get(MediaBusClient).listLegs(instanceId);
    return legs.map((l) => l.callId);
  }

  async function hangUpAll(users: string[]): Promise<void> {
    for (const user of users) await stack.emu('POST', `/emulator/users/${user}/hangup`);
  }

  it("puts calls on both instances, each call's legs and audio on its recorded instance, and releases both", async () => {
    const placed: { user: string; call: CallRecord; instance: string }[] = [];
    while (placed.length < MAX_CALLS && new Set(placed.map((p) => p.instance)).size < INSTANCES.length) {
      const { user, call } = await userCalls();
      placed.push({ user, call, instance: (await instanceOf(stack, call.callId)) as string });
    }
    expect(new Set(placed.map((p) => p.instance))).toEqual(new Set(INSTANCES));

    // each instance holds exactly the legs of the calls recorded for it (over the bus and on its own /health)
    for (const id of INSTANCES) {
      const mine = placed.filter((p) => p.instance === id);
      expect((await legsOn(id)).sort()).toEqual(mine.map((p) => p.call.callId).sort());
      const health = (await (await fetch(`${stack.medias.get(id)?.httpUrl}/health`)).json()) as { instanceId: string; legs: number };
      expect(health).toEqual({ status: 'ok', instanceId: id, legs: mine.length, calls: mine.length, maxCalls: 0 });
    }
    // and carries their audio: a call on each instance is heard by its user
    for (const id of INSTANCES) {
      const onIt = placed.find((p) => p.instance === id);
      expect(await userHeard(stack, onIt?.user as string, 400)).toBeGreaterThanOrEqual(25);
    }

    await hangUpAll(placed.map((p) => p.user));
    await eventually('every call ended and its instance record released', async () => {
      for (const p of placed) {
        if (((await stack.api('GET', `/v1/calls/${p.call.callId}`)).body as CallRecord).state !== 'ended') return false;
        if ((await instanceOf(stack, p.call.callId)) !== null) return false;
      }
      return true;
    }, 15_000);
    for (const id of INSTANCES) expect(await legsOn(id)).toEqual([]);
  });

  it('gives no new call to an instance that was stopped; the other one takes them all', async () => {
    await stack.stopMedia('media-2');
    // the router reads the live set at most once a second: a call placed after that must not go to media-2
    await new Promise((r) => setTimeout(r, 1100));
    expect(await stack.redis.exists(`${stack.config.redis.keyPrefix}:media:instance:media-2`)).toBe(0);
    const metrics = await (await fetch(`${stack.signalling.baseUrl}/metrics`)).text();
    expect(metrics).toMatch(/^wagw_media_instance_up\{instance="media-1"\} 1$/m);
    expect(metrics).toMatch(/^wagw_media_instance_up\{instance="media-2"\} 0$/m);
    const placed = [];
    for (let i = 0; i < 6; i++) placed.push(await userCalls());
    for (const { call } of placed) expect(await instanceOf(stack, call.callId)).toBe('media-1');
    expect((await legsOn('media-1')).sort()).toEqual(placed.map((p) => p.call.callId).sort());
    expect(await userHeard(stack, placed[0]?.user as string, 400)).toBeGreaterThanOrEqual(25);
    await hangUpAll(placed.map((p) => p.user));
  });
});

describe('orphan legs on two media apps', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ name: 'media-instances-orphans', mediaInstances: INSTANCES });
  });

  afterEach(() => expectNoLeaks(stack, 15_000));
  afterEach(async () => {
    await stack?.close();
  });

  it('closes legs with no call record on whichever instance holds them, forgets their instance, and keeps a live call', async () => {
    const media = stack.signalling.app.get(MediaBusClient);
    const live = await newUserCalls(stack, '15554100001');
    // legs asked for new calls that were never recorded (a signalling process that died there), until both instances hold one
    const orphans: string[] = [];
    for (let i = 0; i < MAX_CALLS; i++) {
      const callId = `call_orphan_${i}`;
      await media.createPbxOffer(callId, ['PCMU'], 'off');
      orphans.push(callId);
      const on = new Set(await Promise.all(orphans.map((id) => instanceOf(stack, id))));
      if (on.has('media-1') && on.has('media-2')) break;
    }
    for (const id of INSTANCES) expect((await media.listLegs(id)).pbxLegs?.length ?? 0).toBeGreaterThan(0);

    const report = await stack.signalling.app.get(OrphanLegSweeper).sweep(0);
    expect(report).toMatchObject({ closed: orphans.length, unreachable: [] });
    for (const id of INSTANCES) expect((await media.listLegs(id)).pbxLegs).toEqual([]);
    for (const callId of orphans) expect(await instanceOf(stack, callId)).toBeNull();
    // the live call's leg, on its own instance, is still there
    const liveOn = (await instanceOf(stack, live.callId)) as string;
    expect((await media.listLegs(liveOn)).legs.map((l) => l.legId)).toEqual([live.waLegId]);
    await stack.emu('POST', '/emulator/users/15554100001/hangup');
  });
});

describe('a media app lost with calls on it', () => {
  let stack: Stack;
  let nextUser = 0;

  beforeEach(async () => {
    stack = await startStack({ name: 'media-instances-lost', mediaInstances: INSTANCES });
  });

  afterEach(() => expectNoLeaks(stack, 15_000));
  afterEach(async () => {
    await stack?.close();
  });

  /** Active calls from new users until one is on `instance` (bounded); the others are hung up. */
  async function callOn(instance: string): Promise<{ user: string; call: CallRecord }> {
    for (let i = 0; i < MAX_CALLS; i++) {
      const user = `1555400${String(nextUser++).padStart(4, '0')}`;
      const call = await newUserCalls(stack, user);
      if ((await instanceOf(stack, call.callId)) === instance) return { user, call };
      await stack.emu('POST', `/emulator/users/${user}/hangup`);
    }
    throw new Error(`no call landed on ${instance} in ${MAX_CALLS} tries`);
  }

  it('ends the calls of a media app that is stopped (its legs close), and tells WhatsApp', async () => {
    const { call } = await callOn('media-2');
    await stack.stopMedia('media-2');
    const cdr = await endedCall(stack, call.callId);
    expect(cdr).toMatchObject({ endedBy: 'system' });
    expect(cdr.endCause).toMatch(/closed by the media app: media app shutting down/);
    const emuCall = await eventually('WhatsApp call terminated', async () => {
      const c = await stack.emu<{ state: string; timeline: { event: string }[] }>('GET', `/emulator/calls/${call.waCallId}`);
      return c.state === 'ended' ? c : undefined;
    });
    expect(JSON.stringify(emuCall.timeline)).toMatch(/terminate/);
  });

  it('ends the calls of a media app whose heartbeat stops (as a crash or a hang looks), not those of the other', async () => {
    const lost = await callOn('media-1');
    const kept = await callOn('media-2');
    // media-1 stops beating but keeps running: only its Redis heartbeat says it is gone
    await stack.medias.get('media-1')?.app.get(InstanceHeartbeatService).beforeApplicationShutdown();
    const cdr = await endedCall(stack, lost.call.callId);
    expect(cdr).toMatchObject({ endedBy: 'system', endCause: 'media instance media-1 lost (no heartbeat)' });
    expect(((await stack.api('GET', `/v1/calls/${kept.call.callId}`)).body as CallRecord).state).toBe('active');
    await stack.emu('POST', `/emulator/users/${kept.user}/hangup`);
    await endedCall(stack, kept.call.callId);
  });
});

describe('two media apps bridging to a desk phone behind Kamailio', () => {
  const user = '15553110000';
  let dir: string;
  let pbx: DemoPbx;
  let stack: Stack;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-media-instances-'));
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    stack = await startStack({ name: 'media-instances-pbx', env: pbx.gatewayEnv('15550001111'), mediaInstances: INSTANCES });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Jane' });
  });

  afterEach(() => expectNoLeaks(stack, 15_000));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** One call from the user to desk phone 1001, audio checked both ways, then the user hangs up. */
  async function bridgedCall(): Promise<string> {
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    await stack.emu('POST', `/emulator/users/${user}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(stack, waCallId);
    const instance = (await instanceOf(stack, call.callId)) as string;
    // both legs (WebRTC toward the user, RTP toward the PBX) and their bridge are on that instance
    expect(await stack.signalling.app.get(MediaBusClient).mediaStats(instance)).toMatchObject({ waLegs: 1, pbxLegs: 1, bridges: 1 });
    expect(await userHeard(stack, user, 400)).toBeGreaterThanOrEqual(25); // the desk phone's tone
    expect((await phoneHeard(pbx.phone, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    await pbx.phone.waitEvent('CALL_CLOSED', 10_000);
    await endedCall(stack, call.callId);
    return instance;
  }

  it('bridges a call on either instance: the first call on one, then (that one stopped) the next on the other', async () => {
    const first = await bridgedCall();
    expect(INSTANCES).toContain(first);
    await expectNoLeaks(stack, 15_000);
    await stack.stopMedia(first);
    await new Promise((r) => setTimeout(r, 1100)); // the router's view of live instances is at most a second old
    const second = await bridgedCall();
    expect(second).not.toBe(first);
    expect(INSTANCES).toContain(second);
  });
});

describe('two media apps with media.maxCalls 1 each', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ name: 'media-instances-full', mediaInstances: INSTANCES, env: { MEDIA_MAX_CALLS: '1' } });
  });
  afterEach(() => expectNoLeaks(stack, 15_000));
  afterEach(async () => {
    await stack?.close();
  });

  it('puts the second call on the instance that is not full, whatever the hash says, and refuses the third', async () => {
    const first = await newUserCalls(stack, '15553100001');
    const second = await newUserCalls(stack, '15553100002');
    const on = [await instanceOf(stack, first.callId), await instanceOf(stack, second.callId)];
    expect(new Set(on)).toEqual(new Set(INSTANCES));

    await stack.emu('POST', '/emulator/users', { waId: '15553100003', name: 'User 3' });
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', '/emulator/users/15553100003/call', {});
    const refused = await endedWaCall(stack, waCallId);
    expect(refused.endCause).toBe('set-up failed: the media app carries its maximum of 1 calls (media.maxCalls)');
    for (const id of INSTANCES) expect(await stack.signalling.app.get(MediaBusClient).mediaStats(id)).toMatchObject({ waLegs: 1 });

    for (const user of ['15553100001', '15553100002']) await stack.emu('POST', `/emulator/users/${user}/hangup`);
    await endedCall(stack, first.callId);
    await endedCall(stack, second.callId);
  });
});
