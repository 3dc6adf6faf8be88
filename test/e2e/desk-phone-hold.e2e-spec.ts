import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RtpLegStats } from '@wagw/media-bridge';
import { PbxLegRegistry } from '../../apps/media/src/sessions/pbx-leg-registry';
import { CrmEventBus } from '../../apps/signalling/src/events/crm-event-bus';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { expectNoLeaks } from '../support/leaks';
import { userHeard } from '../support/pbx-to-whatsapp';
import { phoneHeard, startDemoPbx, type DemoPbx } from '../support/pbx';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';

/**
 * A real desk phone puts a WhatsApp user's call on hold and takes it back (RFC 3264 §8 through Kamailio):
 * baresip's own `hold` sends a re-INVITE with a=sendonly, `resume` one with a=sendrecv. While held the
 * gateway sends the phone no RTP (its PBX leg counts what it held back) and the WhatsApp call stays up
 * (WhatsApp's no-media timeout is 2 s here, the hold at least 3 s: whatever the held phone sends, the
 * gateway's RTCP reports count as media); after the resume RTP flows to the phone again.
 */
const USER = '15552224444';
const BUSINESS = '15550001111';

describe('a desk phone behind Kamailio holds and resumes a WhatsApp user\'s call (baresip)', () => {
  let dir: string;
  let pbx: DemoPbx | undefined;
  let stack: Stack | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-hold-'));
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    stack = await startStack({ name: 'desk-phone-hold', env: { ...pbx.gatewayEnv(BUSINESS), EMULATOR_MEDIA_TIMEOUT_MS: '2000' } });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Lena' });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    stack = undefined;
    pbx = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops RTP toward the phone while it holds, keeps the call, and sends again after its resume', async () => {
    const s = stack as Stack;
    const phone = (pbx as DemoPbx).phone;
    const crm: CrmEvent[] = [];
    const unsubscribe = s.signalling.app.get(CrmEventBus).subscribe((e) => void crm.push(e));
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    // the desk phone answered: the CRM hears the call connected (once the bridge is up)
    await eventually('call.connected', async () => crm.find((e) => e.type === 'call.connected'), 10_000, 50);
    expect(crm.filter((e) => e.type === 'call.connected').map((e) => e.data)).toEqual([{ callId: call.callId, direction: 'inbound', waId: USER, codec: 'PCMU' }]);
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);
    expect((await phoneHeard(phone, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
    const legs = s.media.app.get(PbxLegRegistry);
    const pbxLeg = (): RtpLegStats & { sending: boolean } => {
      const { leg } = legs.negotiated(call.callId, call.pbxLegId as string);
      return { ...leg.stats(), sending: leg.sending };
    };

    await phone.command('hold');
    const held = await eventually('the gateway holding RTP back from the phone', async () => {
      const st = pbxLeg();
      return !st.sending && st.sendsOnHold > 150 ? st : undefined; // 3 s of the user's frames held back
    }, 15_000, 100);
    const sentWhileHeld = held.packetsSent;
    expect(legs.legsOnHold).toBe(1); // wagw_pbx_legs_on_hold
    expect((await activeCall(s, waCallId)).state).toBe('active'); // outlived the 2 s no-media timeout

    await phone.command('resume');
    const resumed = await eventually('RTP toward the phone again', async () => {
      const st = pbxLeg();
      return st.sending && st.packetsSent > sentWhileHeld + 50 ? st : undefined;
    }, 15_000, 100);
    expect(resumed.sendsOnHold).toBeGreaterThanOrEqual(held.sendsOnHold);
    expect(legs.legsOnHold).toBe(0);
    expect(legs.mediaChanges).toMatchObject({ hold: 1, resume: 1, refused: 0 });
    // the CRM heard both (GET /v1/events, crm.webhookUrl)
    expect(crm.filter((e) => e.type === 'call.held' || e.type === 'call.resumed').map((e) => [e.type, e.data])).toEqual([
      ['call.held', { callId: call.callId, waId: USER }],
      ['call.resumed', { callId: call.callId, waId: USER }],
    ]);
    unsubscribe();

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
  });
});
