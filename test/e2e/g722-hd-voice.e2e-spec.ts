import { BridgeRegistry } from '../../apps/media/src/sessions/bridge-registry';
import { e2eScope } from '../support/e2e-scope';
import { phoneHeard, startDemoPbx, type DemoPbx } from '../support/pbx';
import { callClosed, grantPermanently, phoneCallsUser, startPbxToWhatsApp, userHeard, type PbxToWhatsApp } from '../support/pbx-to-whatsapp';
import { activeCall, endedCall, eventually, startStack } from '../support/stack';

/**
 * G.722 toward wideband desk phones (HD voice): baresip with only G.722 (spandsp's codec, as in many desk
 * phones) at 16 kHz behind Kamailio. The tones are above 4 kHz, where G.711 (8 kHz sampling) carries
 * nothing: a 6 kHz tone from the WhatsApp user must reach the phone and the phone's 5 kHz tone the user,
 * so only a wideband path end to end (Opus wideband, our G.722, the phone's G.722) passes.
 */
const USER = '15552227777';
const BUSINESS = '15550001111';
const USER_HZ = 6000;
const PHONE_HZ = 5000;

describe('HD voice: a WhatsApp user and a G.722 desk phone', () => {
  const t = e2eScope<DemoPbx | PbxToWhatsApp>('wagw-g722-');

  it('the user calls: the trunk offers G.722 first, the phone takes it, and 6 kHz and 5 kHz tones pass', async () => {
    const demo = (t.pbx = await startDemoPbx({ transport: 'udp', dir: t.dir, phoneToneHz: PHONE_HZ, phoneCodecs: ['G722'], phoneSampleRate: 16000 }));
    const s = (t.stack = await startStack({ name: 'g722-user-calls', env: demo.gatewayEnv(BUSINESS, { codecs: ['G722', 'PCMU'] }) }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Hana' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: USER_HZ });
    const call = await activeCall(s, waCallId);
    expect(call.codec).toBe('G722');
    const bridge = await eventually('bridge started', async () => s.media.app.get(BridgeRegistry).statsOf(call.callId));
    expect(bridge.mode).toBe('transcode');

    expect(await userHeard(s, USER, PHONE_HZ)).toBeGreaterThanOrEqual(25);
    const atPhone = await phoneHeard(demo.phone, USER_HZ);
    expect(atPhone.framesWithTone).toBeGreaterThanOrEqual(25);
    expect(demo.phone.log()).toMatch(/G722/);

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa', codec: 'G722' });
  });

  it('the phone calls the user with only G.722: the gateway answers G.722 and the tones pass both ways', async () => {
    const desk = (t.pbx = await startPbxToWhatsApp({ waIds: [USER], dir: t.dir, phoneToneHz: PHONE_HZ, phoneCodecs: ['G722'], phoneSampleRate: 16000 }));
    const s = (t.stack = await startStack({ name: 'g722-phone-calls', env: desk.gatewayEnv({ codecs: ['PCMU', 'G722'] }) }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Hana' });
    await s.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'ignore', permissionRequest: 'none' });
    await grantPermanently(s, USER);

    const call = await phoneCallsUser(s, desk.phone, USER);
    expect(call.codec).toBe('G722');
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: USER_HZ });
    expect(await userHeard(s, USER, PHONE_HZ)).toBeGreaterThanOrEqual(25);
    expect((await phoneHeard(desk.phone, USER_HZ)).framesWithTone).toBeGreaterThanOrEqual(25);

    await desk.phone.hangup();
    await callClosed(desk.phone);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'pbx', codec: 'G722' });
  });
});
