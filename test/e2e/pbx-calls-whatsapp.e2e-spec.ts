import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { CrmEventBus } from '../../apps/signalling/src/events/crm-event-bus';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { phoneHeard } from '../support/pbx';
import { freeTcpUdpPort } from '@wagw/testing';
import {
  callClosed,
  expectSippPassed,
  grantPermanently,
  graphRequests,
  pbxTrunkEnv,
  runSippUac,
  startPbxToWhatsApp,
  userHeard,
  type PbxToWhatsApp,
} from '../support/pbx-to-whatsapp';

/**
 * PBX-originated calls ("done when"): baresip extension 1001, registered to Kamailio, dials a WhatsApp number;
 * Kamailio routes it to the gateway (trunk allowFrom = Kamailio's address), which places a business-initiated
 * WhatsApp call. The user rings (180 to the phone), answers (200), tones pass both ways, and a hang-up on
 * either side ends both legs. Without a grant the phone gets 480 and the user a permission request; after
 * "allow once" the redial connects.
 */
const USER = '15557650001';

interface EmuUser {
  state: string;
  pendingPermissionRequests: { requestId: string; state: string }[];
}

describe('a desk phone behind Kamailio calls a WhatsApp user through the gateway', () => {
  let dir: string;
  let pbx: PbxToWhatsApp | undefined;
  let stack: Stack | undefined;
  let events: CrmEvent[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-pbx-wa-'));
    pbx = await startPbxToWhatsApp({ waIds: [USER], dir, phoneToneHz: 400 });
    stack = await startStack({ name: 'pbx-calls-whatsapp', env: pbx.gatewayEnv() });
    events = [];
    stack.signalling.app.get(CrmEventBus).subscribe((e) => events.push(e));
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Wes' });
    // the user's phone rings until the test answers it
    await stack.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'ignore', permissionRequest: 'none' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    stack = undefined;
    pbx = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const s = (): Stack => stack as Stack;
  const phone = () => (pbx as PbxToWhatsApp).phone;
  const user = () => s().emu<EmuUser>('GET', `/emulator/users/${USER}`);

  async function callOf(state: CallRecord['state']): Promise<CallRecord> {
    return eventually(`the gateway's call to ${USER} ${state}`, async () => {
      const { active, recent } = (await s().api('GET', '/v1/calls')).body as { active: CallRecord[]; recent: CallRecord[] };
      return [...active, ...recent].find((c) => c.userWaId === USER && c.state === state);
    }, 20_000);
  }

  /** Dials the user and takes the call to the point where both sides hear each other. */
  async function connectedCall(): Promise<CallRecord> {
    await phone().dial(USER);
    await phone().waitEvent('CALL_RINGING', 20_000);
    const ringing = await callOf('ringing-wa');
    expect(ringing).toMatchObject({ direction: 'outbound', userWaId: USER });
    expect((await user()).state).toBe('in_call:ringing');
    await s().emu('POST', `/emulator/users/${USER}/answer`);
    await phone().waitEvent('CALL_ESTABLISHED', 20_000);
    const active = await callOf('active');
    expect(active.codec).toMatch(/^(PCMU|PCMA)$/);
    await s().emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    expect(await userHeard(s(), USER, 400)).toBeGreaterThanOrEqual(25);
    expect((await phoneHeard(phone(), 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
    return active;
  }

  /**
   * ICE/DTLS of the WhatsApp leg come up while the user's phone rings. Waiting for it keeps the simulated
   * user's werift DTLS client from being closed mid-handshake (its flight retransmission timer would outlive
   * the test by up to ~30 s).
   */
  async function mediaConnectedWhileRinging(): Promise<void> {
    await eventually('the user\'s media connected while ringing', async () => {
      const a = await s().emu<{ connectionState: string }>('GET', `/emulator/users/${USER}/media/analysis`);
      return a.connectionState === 'connected';
    });
    expect((await user()).state).toBe('in_call:ringing');
  }

  async function ended(callId: string): Promise<CallRecord> {
    return eventually(`call ${callId} ended`, async () => {
      const rec = (await s().api('GET', `/v1/calls/${callId}`)).body as CallRecord;
      return rec.state === 'ended' ? rec : undefined;
    }, 20_000);
  }

  it('with a grant: the user rings and answers, tones pass both ways, and the user hangs up', async () => {
    await grantPermanently(s(), USER);
    const call = await connectedCall();

    await s().emu('POST', `/emulator/users/${USER}/hangup`);
    const closed = await callClosed(phone());
    expect(closed.id).toBeDefined();
    const cdr = await ended(call.callId);
    expect(cdr).toMatchObject({ endedBy: 'wa', direction: 'outbound' });
    expect(cdr.durationMs).toBeGreaterThan(0);
    expect(events.filter((e) => e.type.startsWith('call.')).map((e) => e.type)).toEqual(['call.ringing', 'call.connected', 'call.ended']);
    const connects = (await graphRequests(s())).filter((r) => r.action === 'connect');
    expect(connects).toMatchObject([{ to: USER, httpStatus: 200 }]);
  });

  it('with a grant: the desk phone hangs up and the WhatsApp call is terminated', async () => {
    await grantPermanently(s(), USER);
    const call = await connectedCall();
    const waCallId = call.waCallId as string;

    await phone().hangup();
    await callClosed(phone());
    const cdr = await ended(call.callId);
    expect(cdr).toMatchObject({ endedBy: 'pbx' });
    const emuCall = await eventually('WhatsApp call ended', async () => {
      const c = await s().emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`);
      return c.state === 'ended' ? c : undefined;
    });
    expect(emuCall.state).toBe('ended');
    const terminates = await s().emu<{ action: string; httpStatus: number }[]>('GET', `/emulator/graph-requests?action=terminate&callId=${encodeURIComponent(waCallId)}`);
    expect(terminates).toMatchObject([{ action: 'terminate', httpStatus: 200 }]);
  });

  it('the user declines the ringing call: the desk phone gets 486', async () => {
    await grantPermanently(s(), USER);
    await phone().dial(USER);
    await phone().waitEvent('CALL_RINGING', 20_000);
    const ringing = await callOf('ringing-wa');
    await mediaConnectedWhileRinging();

    await s().emu('POST', `/emulator/users/${USER}/reject`);
    const closed = await callClosed(phone());
    expect(closed.param).toMatch(/^486 /);
    expect(await ended(ringing.callId)).toMatchObject({ endedBy: 'wa' });
  });

  it('the desk phone gives up while the user rings (CANCEL): the WhatsApp call is terminated', async () => {
    await grantPermanently(s(), USER);
    await phone().dial(USER);
    await phone().waitEvent('CALL_RINGING', 20_000);
    const ringing = await callOf('ringing-wa');
    await mediaConnectedWhileRinging();

    await phone().hangup();
    await callClosed(phone());
    expect(await ended(ringing.callId)).toMatchObject({ endedBy: 'pbx' });
    const waCallId = ringing.waCallId as string;
    await eventually('the user\'s phone stops ringing', async () => (await user()).state === 'idle');
    const terminates = await s().emu<{ httpStatus: number }[]>('GET', `/emulator/graph-requests?action=terminate&callId=${encodeURIComponent(waCallId)}`);
    expect(terminates).toMatchObject([{ httpStatus: 200 }]);
  });

  it('without a grant: 480 and a permission request; after "allow once" the redial connects', async () => {
    await phone().dial(USER);
    const refused = await callClosed(phone());
    expect(refused.param).toMatch(/480 Call Permission Requested/);
    expect((await graphRequests(s())).filter((r) => r.action === 'connect')).toEqual([]);
    const pending = await eventually('permission request delivered to the user', async () => {
      const reqs = (await user()).pendingPermissionRequests.filter((r) => r.state === 'pending');
      return reqs.length === 1 ? reqs : undefined;
    });
    expect(pending).toHaveLength(1);
    expect(events.map((e) => e.type)).toContain('permission.requested');

    await s().emu('POST', `/emulator/users/${USER}/permission-reply`, { choice: 'allow_once' });
    await eventually('the gateway to apply the grant', async () => {
      const res = await s().api('GET', `/v1/permissions/${USER}`);
      return (res.body as { state: string }).state === 'granted-once' ? true : undefined;
    });
    const call = await connectedCall();
    await phone().hangup();
    await callClosed(phone());
    expect(await ended(call.callId)).toMatchObject({ endedBy: 'pbx' });
  });
});

describe('SIPp as the PBX: an offer without a codec the gateway bridges, an INVITE without an offer', () => {
  let dir: string;
  let stack: Stack | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-pbx-wa-sipp-'));
    stack = await startStack({ name: 'pbx-calls-whatsapp-sipp', env: pbxTrunkEnv({ sipPort: await freeTcpUdpPort(), host: '127.0.0.1:5060', allowFrom: ['127.0.0.1'] }) });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Wes' });
    await grantPermanently(stack, USER);
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The record of the user's call once it has ended. */
  function endedRecord(what: string): Promise<CallRecord> {
    return eventually(what, async () => {
      const { recent } = (await (stack as Stack).api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((c) => c.userWaId === USER && c.state === 'ended');
    });
  }

  /** SIPp runs `scenario`, a PBX call that plays a 1 kHz tone for 4 s: the user hears it, SIPp passes; the call's record. */
  async function userHearsPbxCall(scenario: string): Promise<CallRecord> {
    const s = stack as Stack;
    const sipp = runSippUac({ scenario, gatewayPort: s.config.pbx.udpPort, service: USER, dir, tonePcap: { frequencyHz: 1000, seconds: 4 } });
    expect(await userHeard(s, USER, 1000)).toBeGreaterThanOrEqual(25);
    expectSippPassed(await sipp);
    return endedRecord(`the record of the call of ${scenario}`);
  }

  it('an INVITE without SDP (delayed offer): our offer in the 200 OK, the answer in the ACK, and the user hears the phone', async () => {
    expect(await userHearsPbxCall('uac-pbx-delayed-offer-expect-200.xml')).toMatchObject({ direction: 'outbound', endedBy: 'pbx', codec: 'PCMU' });
  });

  it('delayed offer with 100rel required: our offer in the reliable 180, the answer in its PRACK, an ACK without SDP, and the user hears the phone', async () => {
    expect(await userHearsPbxCall('uac-pbx-delayed-offer-100rel-expect-200.xml')).toMatchObject({ direction: 'outbound', endedBy: 'pbx', codec: 'PCMU' });
  });

  it('a PBX requiring 100rel: our 180 is reliable (RSeq, PRACKed), the 200 follows, and the user hears the phone', async () => {
    expect(await userHearsPbxCall('uac-pbx-100rel-calls-user-expect-200.xml')).toMatchObject({ direction: 'outbound', endedBy: 'pbx', codec: 'PCMU' });
  });

  it('a PBX that never ACKs our 200 OK: the gateway gives up after 64*T1 with a BYE and ends the WhatsApp call', async () => {
    const s = stack as Stack;
    const sipp = runSippUac({ scenario: 'uac-no-ack-expect-bye.xml', gatewayPort: s.config.pbx.udpPort, service: USER, dir, tonePcap: { frequencyHz: 1000, seconds: 45 }, timeoutMs: 70_000 });
    expectSippPassed(await sipp); // the BYE came (32 s after the 200 OK)
    const cdr = await endedRecord("the unacknowledged call's record");
    expect(cdr).toMatchObject({ direction: 'outbound', endedBy: 'pbx', endCause: expect.stringMatching(/never acknowledged/) });
    // WhatsApp was told: the user's side of the call is over as well
    expect((await graphRequests(s)).filter((r) => r.action === 'terminate').length).toBe(1);
  }, 90_000);

  it('a G.729-only offer is answered 488 and no WhatsApp call is placed', async () => {
    const s = stack as Stack;
    expectSippPassed(await runSippUac({ scenario: 'uac-g729-only-expect-488.xml', gatewayPort: s.config.pbx.udpPort, service: USER, dir }));
    expect((await graphRequests(s)).filter((r) => r.action === 'connect')).toEqual([]);
    const cdr = await endedRecord("the refused call's record");
    expect(cdr.endCause).toMatch(/not acceptable/i);
  });
});
