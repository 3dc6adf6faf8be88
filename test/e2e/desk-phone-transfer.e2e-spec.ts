import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { BaresipHandle } from '@wagw/testing';
import { CrmEventBus } from '../../apps/signalling/src/events/crm-event-bus';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { expectNoLeaks } from '../support/leaks';
import { grantPermanently, startPbxToWhatsApp, userHeard, type PbxToWhatsApp } from '../support/pbx-to-whatsapp';
import { phoneHeard, startDemoPbx, startExtension, type DemoPbx } from '../support/pbx';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';

/**
 * Blind transfer by a desk phone behind a proxy-only PBX (Kamailio): the agent's phone 1001 answers a
 * WhatsApp user's call (or calls the user) and transfers it to 1002 with baresip's own `transfer` (REFER, RFC 3515). The
 * gateway INVITEs 1002 through the trunk, bridges the user to it when it answers, ends the dialog with 1001
 * and tells it by NOTIFY. Audio is checked as audio: each phone plays its own tone (400 / 700 Hz); the user
 * hears 1002's tone after the transfer and 1002 hears the user's 1 kHz.
 */
const USER = '15552226666';
const BUSINESS = '15550001111';

/** Extension 1002 on the same Kamailio: auto-answers and plays 700 Hz (the colleague the call goes to). */
function startSecondPhone(dir: string, registrar: { host: string; port: number }): Promise<BaresipHandle> {
  return startExtension(dir, registrar, '1002', 700);
}

/** Stops the gateway, then both phones and Kamailio, and removes the test's directory. */
async function tearDown(stack: Stack | undefined, second: BaresipHandle | undefined, pbx: { stop(): Promise<void> } | undefined, dir: string): Promise<void> {
  await stack?.close();
  await second?.stop();
  await pbx?.stop();
  rmSync(dir, { recursive: true, force: true });
}

/** The CRM's transfer events of the stack (GET /v1/events, crm.webhookUrl), collected from subscription on. */
function transferEvents(s: Stack): () => { type: string; data: unknown }[] {
  const seen: CrmEvent[] = [];
  s.signalling.app.get(CrmEventBus).subscribe((e) => void seen.push(e));
  return () => seen.filter((e) => e.type === 'call.transferred' || e.type === 'call.transfer_failed').map((e) => ({ type: e.type, data: e.data }));
}

/**
 * `first` transfers its call with `waId` to 1002 (baresip's own REFER, or `by` the API); waits until 1002
 * has the call and `first`'s dialog is over, then checks the audio both ways and that one PBX leg is left.
 */
async function transferTo1002(s: Stack, first: BaresipHandle, target: BaresipHandle, kamailioHost: string, waId: string, by: (() => Promise<void>) | undefined = undefined): Promise<void> {
  if (by) await by();
  else await first.command('transfer', `sip:1002@${kamailioHost}`);
  await target.waitEvent('CALL_ESTABLISHED', 20_000);
  await first.waitEvent('CALL_CLOSED', 20_000);
  expect(await userHeard(s, waId, 700)).toBeGreaterThanOrEqual(25);
  expect((await phoneHeard(target, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
  expect(await s.signalling.app.get(MediaBusClient).mediaStats()).toMatchObject({ waLegs: 1, pbxLegs: 1, bridges: 1 });
}

describe('a desk phone behind Kamailio transfers a WhatsApp user\'s call to another phone (REFER)', () => {
  let dir: string;
  let pbx: DemoPbx | undefined;
  let second: BaresipHandle | undefined;
  let stack: Stack | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-transfer-'));
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    second = await startSecondPhone(dir, { host: pbx.kamailio.host, port: pbx.kamailio.port });
    stack = await startStack({ name: 'desk-phone-transfer', env: pbx.gatewayEnv(BUSINESS) });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Tom' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await tearDown(stack, second, pbx, dir);
    [stack, second, pbx] = [undefined, undefined, undefined];
  });

  /** The WhatsApp user calls, sends 1 kHz, the first phone answers: the call active and the user hearing it. */
  const userCallsFirstPhone = async (): Promise<{ s: Stack; call: CallRecord; events: ReturnType<typeof transferEvents> }> => {
    const s = stack as Stack;
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    const events = transferEvents(s);
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);
    return { s, call, events };
  };

  it('bridges the user to the phone the call was transferred to, ends the first phone\'s dialog, and keeps one call', async () => {
    const first = (pbx as DemoPbx).phone;
    const target = second as BaresipHandle;
    const { s, call, events } = await userCallsFirstPhone();

    await transferTo1002(s, first, target, (pbx as DemoPbx).kamailio.host, USER);
    expect(events()).toEqual([{ type: 'call.transferred', data: { callId: call.callId, waId: USER, to: `sip:1002@${(pbx as DemoPbx).kamailio.host}`, by: 'pbx', attended: false } }]);
    const moved = await eventually('the call record on the new phone', async () => {
      const rec = (await s.api('GET', `/v1/calls/${call.waCallId}`)).body as typeof call;
      return rec.sipCallId !== call.sipCallId && rec.pbxLegId !== call.pbxLegId ? rec : undefined;
    }, 15_000);
    expect(moved).toMatchObject({ state: 'active', destination: expect.stringContaining('1002') });

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await target.waitEvent('CALL_CLOSED', 20_000);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa', destination: expect.stringContaining('1002') });
  });
  it('an agent\'s call to a customer from the CRM is transferred the same way', async () => {
    const s = stack as Stack;
    const first = (pbx as DemoPbx).phone;
    const target = second as BaresipHandle;
    await grantPermanently(s, USER);
    const res = await s.api('POST', '/v1/calls', { to: `+${USER}`, agent: '1001' });
    const callId = (res.body as CallRecord).callId;
    await eventually('the agent call active', async () => ((await s.api('GET', `/v1/calls/${callId}`)).body as CallRecord).state === 'active' || undefined, 20_000);
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);

    await transferTo1002(s, first, target, (pbx as DemoPbx).kamailio.host, USER);

    expect((await s.api('POST', `/v1/calls/${callId}/hangup`)).status).toBe(200);
    await target.waitEvent('CALL_CLOSED', 20_000);
    expect(await endedCall(s, callId)).toMatchObject({ destination: expect.stringContaining('1002') });
  });

  it('tells the first phone when the target cannot be reached (NOTIFY with the failure); its hang-up then ends the call', async () => {
    const s = stack as Stack;
    const first = (pbx as DemoPbx).phone;
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    const events = transferEvents(s);
    await first.command('transfer', `sip:1003@${(pbx as DemoPbx).kamailio.host}`); // nobody registered as 1003
    const failed = await first.waitEvent('TRANSFER_FAILED', 15_000);
    expect(failed.param).toBe('404 Not Found'); // the sipfrag of our final NOTIFY
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'pbx' });
    expect(events()).toEqual([{ type: 'call.transfer_failed', data: { callId: call.callId, waId: USER, to: `sip:1003@${(pbx as DemoPbx).kamailio.host}`, by: 'pbx', cause: '404 Not Found' } }]);
  });

  it('the WhatsApp user hears ringback (425 Hz, signalling.transferRingback eu) while the target rings, then the target', async () => {
    const kamailio = (pbx as DemoPbx).kamailio;
    const ringing = await startExtension(dir, { host: kamailio.host, port: kamailio.port }, '1003', 900, 'manual');
    try {
      const first = (pbx as DemoPbx).phone;
      const { s, call, events } = await userCallsFirstPhone();
      expect((await s.api('POST', `/v1/calls/${call.callId}/transfer`, { to: '1003' })).status).toBe(202);
      await ringing.waitEvent('CALL_INCOMING', 20_000);
      // 1003 rings: the user hears the first 1 s burst of ringback instead of the first phone's 400 Hz
      expect(await userHeard(s, USER, 425, 20)).toBeGreaterThanOrEqual(20);
      await ringing.answer();
      await ringing.waitEvent('CALL_ESTABLISHED', 20_000);
      await first.waitEvent('CALL_CLOSED', 20_000);
      expect(await userHeard(s, USER, 900)).toBeGreaterThanOrEqual(25);
      expect((await phoneHeard(ringing, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
      expect(events()).toEqual([{ type: 'call.transferred', data: { callId: call.callId, waId: USER, to: `sip:1003@${kamailio.host}`, by: 'api', attended: false } }]);
      await s.emu('POST', `/emulator/users/${USER}/hangup`);
      await ringing.waitEvent('CALL_CLOSED', 20_000);
      await endedCall(s, call.callId);
    } finally {
      await ringing.stop();
    }
  });

  it('a transfer the target refuses leaves the user with the first phone, heard again once the ringback stops', async () => {
    const { s, call, events } = await userCallsFirstPhone();
    const heard400 = async (): Promise<number> =>
      (await s.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${USER}/media/analysis?frequencyHz=400`)).tone?.framesWithTone ?? 0;
    expect((await s.api('POST', `/v1/calls/${call.callId}/transfer`, { to: '1009' })).status).toBe(202); // nobody registered as 1009
    await eventually('the transfer failed', async () => (events().length > 0 ? true : undefined));
    expect(events()).toEqual([{ type: 'call.transfer_failed', data: { callId: call.callId, waId: USER, to: `sip:1009@${(pbx as DemoPbx).kamailio.host}`, by: 'api', cause: '404 Not Found' } }]);
    const after = await heard400();
    await eventually('the first phone heard again', async () => ((await heard400()) >= after + 25 ? true : undefined));
    expect((await s.api('GET', `/v1/calls/${call.callId}`)).body).toMatchObject({ state: 'active', destination: expect.stringContaining('1001') });
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await endedCall(s, call.callId);
  });

  it('the CRM transfers the call through the API (POST /v1/calls/{id}/transfer): the same blind transfer, refusals with reasons', async () => {
    const first = (pbx as DemoPbx).phone;
    const target = second as BaresipHandle;
    const { s, call, events } = await userCallsFirstPhone();
    const bad = await s.api('POST', `/v1/calls/${call.callId}/transfer`, { to: 'not a target' });
    expect(bad.status).toBe(400);

    await transferTo1002(s, first, target, (pbx as DemoPbx).kamailio.host, USER, async () => {
      const res = await s.api('POST', `/v1/calls/${call.waCallId}/transfer`, { to: '1002' }); // the WhatsApp call id works too
      expect(res).toMatchObject({ status: 202, body: { callId: call.callId, to: '1002' } });
    });
    // the extension became a URI on the trunk's domain; first's BYE came from the gateway (released)
    expect(events()).toEqual([{ type: 'call.transferred', data: { callId: call.callId, waId: USER, to: `sip:1002@${(pbx as DemoPbx).kamailio.host}`, by: 'api', attended: false } }]);

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await target.waitEvent('CALL_CLOSED', 20_000);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa', destination: expect.stringContaining('1002') });
    const late = await s.api('POST', `/v1/calls/${call.callId}/transfer`, { to: '1002' });
    expect(late).toMatchObject({ status: 409, body: { error: { code: 'CALL_NOT_TRANSFERABLE' } } });
    expect((await s.api('POST', '/v1/calls/call_unknown/transfer', { to: '1002' })).status).toBe(404);
  });
});

describe('a desk phone behind Kamailio calls a WhatsApp user, then transfers the call to another phone (REFER)', () => {
  const CALLEE = '15552227777';
  let dir: string;
  let pbx: PbxToWhatsApp | undefined;
  let second: BaresipHandle | undefined;
  let stack: Stack | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-transfer-out-'));
    pbx = await startPbxToWhatsApp({ waIds: [CALLEE], dir, phoneToneHz: 400 });
    second = await startSecondPhone(dir, { host: pbx.kamailio.host, port: pbx.kamailio.port });
    stack = await startStack({ name: 'desk-phone-transfer-out', env: pbx.gatewayEnv() });
    await stack.emu('POST', '/emulator/users', { waId: CALLEE, name: 'Ana' });
    await grantPermanently(stack, CALLEE);
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await tearDown(stack, second, pbx, dir);
    [stack, second, pbx] = [undefined, undefined, undefined];
  });

  it('puts the WhatsApp user through to the second phone, through the trunk the call came in on', async () => {
    const s = stack as Stack;
    const first = (pbx as PbxToWhatsApp).phone;
    const target = second as BaresipHandle;
    await first.dial(CALLEE);
    await first.waitEvent('CALL_ESTABLISHED', 20_000); // the user answers by itself after 1 s
    const call = await eventually('the call active', async () => {
      const { active } = (await s.api('GET', '/v1/calls')).body as { active: CallRecord[] };
      return active.find((c) => c.userWaId === CALLEE && c.state === 'active');
    }, 20_000);
    await s.emu('POST', `/emulator/users/${CALLEE}/media/tone`, { frequencyHz: 1000 });
    expect(await userHeard(s, CALLEE, 400)).toBeGreaterThanOrEqual(25);

    await transferTo1002(s, first, target, (pbx as PbxToWhatsApp).kamailio.host, CALLEE);

    await target.hangup();
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'pbx', destination: expect.stringContaining('1002') });
  });
});
