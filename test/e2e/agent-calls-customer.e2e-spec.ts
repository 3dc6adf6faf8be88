import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import { CrmEventBus } from '../../apps/signalling/src/events/crm-event-bus';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { phoneHeard, startDemoPbx, type DemoPbx } from '../support/pbx';

/**
 * Agent calls customer (issue 4): the agent clicks call (POST /v1/calls); WhatsApp lets a business call only
 * a user who consented, so the gateway sends a permission request; on acceptance the agent's desk phone
 * (baresip behind Kamailio) rings and answers, then the WhatsApp user rings and accepts, with audio both
 * ways. The user's choice is remembered; Meta's quota is enforced by us before Meta would.
 */
const DAY_MS = 86_400_000;
const USER = '15557654321';

/**
 * Per test: the demo PBX (Kamailio, the agent's baresip phone 1001), the gateway on it (`env` added), and the
 * customer, who accepts calls but leaves permission requests unanswered until the test replies.
 */
function agentScene(name: string, env: Env = {}): { readonly pbx: DemoPbx; readonly stack: Stack } {
  let dir = '';
  const scene = {} as { pbx: DemoPbx; stack: Stack };
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-agent-'));
    scene.pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    scene.stack = await startStack({ name, env: { ...scene.pbx.gatewayEnv('15550001111'), ...env } });
    await scene.stack.emu('POST', '/emulator/users', { waId: USER, name: 'Carla' });
    await scene.stack.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 300, permissionRequest: 'none' });
  });
  afterEach(() => expectNoLeaks(scene.stack));
  afterEach(async () => {
    await scene.stack?.close();
    await scene.pbx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  return scene;
}

describe('an agent calls a WhatsApp customer from the CRM', () => {
  const scene = agentScene('agent-calls-customer');
  let pbx: DemoPbx;
  let stack: Stack;
  let events: CrmEvent[];

  beforeEach(() => {
    ({ pbx, stack } = scene);
    events = [];
    stack.signalling.app.get(CrmEventBus).subscribe((e) => events.push(e));
  });

  const click = () => stack.api('POST', '/v1/calls', { to: `+${USER}`, agent: '1001' });
  const pendingRequests = async () => (await stack.emu<{ pendingPermissionRequests: { state: string }[] }>('GET', `/emulator/users/${USER}`)).pendingPermissionRequests;
  /** Event types published since `from` (an index into `events`). */
  const typesSince = (from = 0) => events.slice(from).map((e) => e.type);

  async function state(callId: string, want: CallRecord['state'], timeoutMs = 20_000): Promise<CallRecord> {
    return eventually(`call ${callId} ${want}`, async () => {
      const rec = (await stack.api('GET', `/v1/calls/${callId}`)).body as CallRecord;
      return rec.state === want ? rec : undefined;
    }, timeoutMs);
  }

  async function reply(choice: 'allow_once' | 'always_allow' | 'never_allow'): Promise<void> {
    await eventually('permission request delivered to the user', async () => ((await pendingRequests()).length > 0 ? true : undefined));
    await stack.emu('POST', `/emulator/users/${USER}/permission-reply`, { choice });
  }

  async function hangUp(callId: string): Promise<CallRecord> {
    expect((await stack.api('POST', `/v1/calls/${callId}/hangup`)).status).toBe(200);
    return state(callId, 'ended');
  }

  /** A call that reaches `active` and is hung up; returns whether a permission request was needed. */
  async function completeCall(): Promise<{ callId: string; status: number }> {
    const res = await click();
    const callId = (res.body as CallRecord).callId;
    if (res.status === 202) await reply('allow_once');
    await state(callId, 'active');
    await hangUp(callId);
    return { callId, status: res.status };
  }

  it('allow once: request, agent phone, WhatsApp user, audio both ways; the grant holds within 7 days and lapses after 8', async () => {
    const res = await click();
    expect(res.status).toBe(202);
    const callId = (res.body as CallRecord).callId;
    expect(res.body).toMatchObject({ state: 'permission-pending', userWaId: USER, direction: 'outbound' });
    await reply('allow_once');
    const active = await state(callId, 'active');
    expect(active.codec).toMatch(/PCMU|PCMA/);

    await stack.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    await phoneHeard(pbx.phone, 1000);
    await eventually('400 Hz at the WhatsApp user', async () => {
      const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${USER}/media/analysis?frequencyHz=400`);
      return a.tone && a.tone.framesWithTone >= 25 ? a.tone : undefined;
    }, 15_000, 250);
    const ended = await hangUp(callId);
    expect(ended.durationMs).toBeGreaterThan(0);
    // Meta's terminate answers ours: its duration, and the 6-second pulses Meta bills a business call, reach the CDR
    const emuCall = await stack.emu<{ durationS: number | null }>('GET', `/emulator/calls/${ended.waCallId}`);
    expect(emuCall.durationS).toBeGreaterThan(0);
    const cdr = await eventually("WhatsApp's duration on the CDR", async () => {
      const rec = (await stack.api('GET', `/v1/calls/${callId}`)).body as CallRecord;
      return rec.waDurationS !== undefined ? rec : undefined;
    });
    expect(cdr).toMatchObject({ state: 'ended', waDurationS: emuCall.durationS, waBillablePulses: Math.ceil((emuCall.durationS ?? 0) / 6) });
    expect(typesSince()).toEqual(['permission.requested', 'permission.granted', 'call.ringing', 'call.ringing', 'call.connected', 'call.ended']);
    expect(events.find((e) => e.type === 'permission.granted')?.data).toMatchObject({ kind: 'once', waId: USER });

    // within 7 days: no request, the call starts at once
    await stack.emu('POST', '/emulator/clock/advance', { ms: 3 * DAY_MS });
    const mark = events.length;
    const again = await completeCall();
    expect(again.status).toBe(201);
    expect(typesSince(mark)).toEqual(['call.ringing', 'call.ringing', 'call.connected', 'call.ended']);

    // after 8 days the temporary grant has lapsed: a new request is needed
    await stack.emu('POST', '/emulator/clock/advance', { ms: 5 * DAY_MS });
    const lapse = events.length;
    const later = await click();
    expect(later.status).toBe(202);
    expect(typesSince(lapse)).toEqual(['permission.expired', 'permission.requested']);
    await hangUp((later.body as CallRecord).callId);
  });

  it("the agent hears ringback (425 Hz, signalling.agentRingback eu) while the customer's phone rings, then the customer", async () => {
    await stack.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 3000, permissionRequest: 'none' });
    const res = await click();
    const callId = (res.body as CallRecord).callId;
    await reply('allow_once');
    // the agent answered; the customer rings for 3 s: the first 1 s burst reaches the agent's phone
    const ringback = await phoneHeard(pbx.phone, 425, 20);
    expect(ringback.framesWithTone).toBeLessThanOrEqual(80); // bursts of 1 s every 5 s, not a steady tone
    await state(callId, 'active');
    await stack.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    await phoneHeard(pbx.phone, 1000);
    await hangUp(callId);
  });

  it('always allow: later clicks call directly, also after 30 days', async () => {
    const res = await click();
    expect(res.status).toBe(202);
    await reply('always_allow');
    await state((res.body as CallRecord).callId, 'active');
    await hangUp((res.body as CallRecord).callId);
    expect(events.find((e) => e.type === 'permission.granted')?.data).toMatchObject({ kind: 'always' });

    await stack.emu('POST', '/emulator/clock/advance', { ms: 30 * DAY_MS });
    const later = await completeCall();
    expect(later.status).toBe(201);
    expect((await stack.api('GET', `/v1/permissions/${USER}`)).body).toMatchObject({ state: 'granted-always', decision: { action: 'call' } });
  });

  it('never allow: the click is refused with a reason and no request is sent', async () => {
    const res = await click();
    expect(res.status).toBe(202);
    await reply('never_allow');
    const ended = await state((res.body as CallRecord).callId, 'ended');
    expect(ended.endCause).toMatch(/declined/);
    expect(typesSince()).toEqual(['permission.requested', 'permission.declined', 'call.ended']);

    const before = (await pendingRequests()).length;
    const refused = await click();
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ error: { code: 'PERMISSION_DECLINED' } });
    expect((refused.body as { error: { message: string } }).error.message).toMatch(/chose not to allow calls/);
    expect((await pendingRequests()).length).toBe(before);
    expect(typesSince().filter((t) => t === 'permission.requested')).toHaveLength(1);
  });

  it('quota: a third request within 7 days is refused by the gateway, not by Meta', async () => {
    const first = await click();
    expect(first.status).toBe(202);
    await hangUp((first.body as CallRecord).callId);
    const sooner = await click();
    expect(sooner.status).toBe(429);
    expect(sooner.body).toMatchObject({ error: { code: 'PERMISSION_QUOTA' } });

    await stack.emu('POST', '/emulator/clock/advance', { ms: DAY_MS + 60_000 });
    const second = await click();
    expect(second.status).toBe(202);
    await hangUp((second.body as CallRecord).callId);

    await stack.emu('POST', '/emulator/clock/advance', { ms: DAY_MS + 60_000 });
    const graphRequestsBefore = (await stack.emu<unknown[]>('GET', `/emulator/webhooks?key=user:${USER}`)).length;
    const third = await click();
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ error: { code: 'PERMISSION_QUOTA' } });
    expect((third.body as { error: { retryAt: number } }).error.retryAt).toBeGreaterThan(Date.now());
    expect((await stack.emu<unknown[]>('GET', `/emulator/webhooks?key=user:${USER}`)).length).toBe(graphRequestsBefore);
  });
});

describe('an agent call whose permission request the customer leaves unanswered', () => {
  const scene = agentScene('agent-permission-wait', { SIGNALLING_PERMISSION_WAIT_MS: '10000' });

  it('ends the call after signalling.permissionWaitMs, with the cause, and the agent phone never rings', async () => {
    const { stack } = scene;
    const res = await stack.api('POST', '/v1/calls', { to: `+${USER}`, agent: '1001' });
    expect(res.status).toBe(202);
    const callId = (res.body as CallRecord).callId;
    const ended = await eventually('call ended', async () => {
      const rec = (await stack.api('GET', `/v1/calls/${callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    }, 20_000, 250);
    expect(ended).toMatchObject({ endedBy: 'system', endCause: 'the customer did not answer the call permission request in time' });
    expect(ended.endedAt ?? 0).toBeGreaterThanOrEqual(ended.createdAt + 10_000);
    expect(ended.pbxLegId).toBeUndefined(); // the agent was never rung
  });
});
