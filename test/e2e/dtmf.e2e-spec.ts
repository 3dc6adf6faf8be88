import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import { freeTcpUdpPort } from '@wagw/testing';
import { CrmEventBus } from '../../apps/signalling/src/events/crm-event-bus';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { callClosed, grantPermanently, pbxTrunkEnv, expectSippPassed, runSippUac, startPbxToWhatsApp, userHeard, type PbxToWhatsApp } from '../support/pbx-to-whatsapp';

/**
 * DTMF through the gateway ("done when"): digits pressed on the PBX side reach the WhatsApp user in order
 * with their durations, as RFC 4733 from a baresip desk phone and as SIP INFO (application/dtmf-relay) from
 * a SIPp PBX; digits the WhatsApp user presses reach the PBX side, as RFC 4733 events at baresip and as SIP
 * INFO at a PBX that offered no telephone-event. Every digit is also a CRM `call.dtmf` event.
 */
const USER = '15557650002';

interface Analysis {
  dtmfReceived: { digit: string; durationMs: number }[];
}

type DtmfEvent = Extract<CrmEvent, { type: 'call.dtmf' }>;
type DtmfData = DtmfEvent['data'];

function dtmfEvents(events: CrmEvent[], direction: DtmfData['direction']): DtmfData[] {
  return events.filter((e): e is DtmfEvent => e.type === 'call.dtmf').map((e) => e.data).filter((d) => d.direction === direction);
}

async function bootStack(env: Env, events: CrmEvent[]): Promise<Stack> {
  const stack = await startStack({ name: 'dtmf', env });
  stack.signalling.app.get(CrmEventBus).subscribe((e) => events.push(e));
  await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Dot' });
  await stack.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 300, permissionRequest: 'none' });
  await grantPermanently(stack, USER);
  return stack;
}

async function digitsAtUser(stack: Stack, count: number): Promise<Analysis['dtmfReceived']> {
  return eventually(`${count} DTMF digits at the WhatsApp user`, async () => {
    const a = await stack.emu<Analysis>('GET', `/emulator/users/${USER}/media/analysis`);
    return a.dtmfReceived.length >= count ? a.dtmfReceived : undefined;
  }, 15_000, 100);
}

async function activeCall(stack: Stack): Promise<CallRecord> {
  return eventually(`the call to ${USER} active`, async () => {
    const { active } = (await stack.api('GET', '/v1/calls')).body as { active: CallRecord[] };
    return active.find((c) => c.userWaId === USER && c.state === 'active');
  }, 20_000);
}

describe('DTMF between a baresip desk phone (RFC 4733) and a WhatsApp user', () => {
  let dir: string;
  let pbx: PbxToWhatsApp | undefined;
  let stack: Stack | undefined;
  let events: CrmEvent[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-dtmf-'));
    events = [];
    pbx = await startPbxToWhatsApp({ waIds: [USER], dir, phoneToneHz: 400 });
    stack = await bootStack(pbx.gatewayEnv(), events);
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    stack = undefined;
    pbx = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('digits pressed on the phone arrive at the user in order with their durations, and the user\'s digits reach the phone', async () => {
    const s = stack as Stack;
    const phone = (pbx as PbxToWhatsApp).phone;
    await phone.dial(USER);
    await phone.waitEvent('CALL_ESTABLISHED', 20_000);
    const call = await activeCall(s);
    await userHeard(s, USER, 400); // the bridge carries the phone's audio: digits from now on are relayed

    const HELD_MS = 200;
    await phone.sendDtmf('19#*', HELD_MS, 120);
    const atUser = await digitsAtUser(s, 4);
    expect(atUser.map((d) => d.digit).join('')).toBe('19#*');
    const measured = await eventually('4 pbx-to-wa call.dtmf events', async () => {
      const d = dtmfEvents(events, 'pbx-to-wa');
      return d.length >= 4 ? d : undefined;
    });
    expect(measured.map((d) => d.digit).join('')).toBe('19#*');
    expect(measured.every((d) => d.callId === call.callId)).toBe(true);
    // the user hears each event exactly as long as the bridge measured it from the phone (RFC 4733 durations
    // are copied, 8 kHz units on both legs), and that is about as long as the key was held
    expect(atUser.map((d) => d.durationMs)).toEqual(measured.map((d) => d.durationMs));
    for (const d of atUser) {
      expect(d.durationMs).toBeGreaterThanOrEqual(HELD_MS / 2);
      expect(d.durationMs).toBeLessThanOrEqual(HELD_MS + 400);
    }

    await s.emu('POST', `/emulator/users/${USER}/media/dtmf`, { digits: '25', durationMs: 240 });
    await s.emu('POST', `/emulator/users/${USER}/media/dtmf`, { digits: '80', durationMs: 120 });
    const atPhone = [];
    for (let i = 0; i < 4; i++) atPhone.push(await phone.waitEvent('CALL_DTMF_START', 15_000));
    expect(atPhone.map((e) => e.param).join('')).toBe('2580');
    const sent = await eventually('4 wa-to-pbx call.dtmf events', async () => {
      const d = dtmfEvents(events, 'wa-to-pbx');
      return d.length >= 4 ? d : undefined;
    });
    expect(sent.map((d) => [d.digit, d.durationMs])).toEqual([['2', 240], ['5', 240], ['8', 120], ['0', 120]]);

    await phone.hangup();
    await callClosed(phone);
  });
});

describe('DTMF by SIP INFO with SIPp as the PBX', () => {
  let dir: string;
  let stack: Stack | undefined;
  let events: CrmEvent[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-dtmf-info-'));
    events = [];
    const sipPort = await freeTcpUdpPort();
    // SIPp calls from 127.0.0.1: the trunk's allow-list
    stack = await bootStack(pbxTrunkEnv({ sipPort, host: '127.0.0.1:5060', allowFrom: ['127.0.0.1'] }), events);
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('digits sent as SIP INFO arrive at the user in order with the durations the PBX gave', async () => {
    const s = stack as Stack;
    const sipp = runSippUac({
      scenario: 'uac-dtmf-info-expect-200.xml',
      gatewayPort: s.config.pbx.udpPort,
      service: USER,
      dir,
      tonePcap: { frequencyHz: 1000, seconds: 30 },
      keys: { d1: '4', ms1: '250', d2: '#', ms2: '100', d3: 'B', ms3: '400' },
    });
    const atUser = await digitsAtUser(s, 3);
    expect(atUser.map((d) => [d.digit, d.durationMs])).toEqual([['4', 250], ['#', 100], ['B', 400]]);
    expect(dtmfEvents(events, 'pbx-to-wa').map((d) => [d.digit, d.durationMs])).toEqual([['4', 250], ['#', 100], ['B', 400]]);
    expect(await userHeard(s, USER, 1000)).toBeGreaterThanOrEqual(25);

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    const result = await sipp;
    expectSippPassed(result);
  });

  it('the user\'s digits reach a PBX without telephone-event as SIP INFO', async () => {
    const s = stack as Stack;
    const sipp = runSippUac({
      scenario: 'uac-receive-dtmf-info-expect-200.xml',
      gatewayPort: s.config.pbx.udpPort,
      service: USER,
      dir,
      tonePcap: { frequencyHz: 1000, seconds: 30 },
    });
    const call = await activeCall(s);
    await userHeard(s, USER, 1000);
    // exactly what the scenario expects: 7 for 200 ms, then # for 320 ms
    await s.emu('POST', `/emulator/users/${USER}/media/dtmf`, { digits: '7', durationMs: 200 });
    await s.emu('POST', `/emulator/users/${USER}/media/dtmf`, { digits: '#', durationMs: 320 });
    const result = await sipp;
    expectSippPassed(result);
    const cdr = await eventually('CDR', async () => {
      const rec = (await s.api('GET', `/v1/calls/${call.callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    });
    expect(cdr).toMatchObject({ endedBy: 'pbx' });
    expect(dtmfEvents(events, 'wa-to-pbx').map((d) => [d.digit, d.durationMs])).toEqual([['7', 200], ['#', 320]]);
  });
});
