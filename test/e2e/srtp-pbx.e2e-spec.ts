import type { CallRecord } from '@wagw/call-state';
import type { RtpLegStats } from '@wagw/media-bridge';
import { PbxLegRegistry } from '../../apps/media/src/sessions/pbx-leg-registry';
import { e2eScope } from '../support/e2e-scope';
import { phoneHeard, startDemoPbx, type DemoPbx } from '../support/pbx';
import { callClosed, grantPermanently, graphRequests, phoneCallsUser, startPbxToWhatsApp, userHeard, type PbxToWhatsApp } from '../support/pbx-to-whatsapp';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';

/**
 * SDES-SRTP toward the PBX (RFC 4568) with a real SRTP phone: baresip with `mediaenc=srtp-mand` (RTP/SAVP,
 * AES_CM_128_HMAC_SHA1_80, its own SRTP stack) behind Kamailio. Both call directions carry audio both ways
 * encrypted, a hold/resume re-INVITE keeps SRTP, and the mismatches are refused with 488 and a reason.
 * baresip sends one clear RTCP packet at the start of a call before its SRTCP: the leg refuses it (counted).
 */
const USER = '15552226666';
const BUSINESS = '15550001111';
const SRTP_ON = /SRTP is Enabled \(cryptosuite=AES_CM_128_HMAC_SHA1_80\)/;

function pbxLegStats(stack: Stack, call: CallRecord): RtpLegStats {
  return stack.media.app.get(PbxLegRegistry).negotiated(call.callId, call.pbxLegId as string).leg.stats();
}

/** Audio through a secure leg: the PBX leg runs SRTP and took what it received (nearly) all authenticated. */
function expectSecure(st: RtpLegStats): void {
  expect(st.srtp).toBe(true);
  expect(st.packetsReceived).toBeGreaterThan(50);
  expect(st.srtpRejected).toBeLessThanOrEqual(3); // baresip's clear RTCP "PING" at the start, no more
}

describe('a WhatsApp user calls a desk phone over a TLS trunk with SRTP (baresip srtp-mand)', () => {
  const t = e2eScope<DemoPbx>('wagw-srtp-');

  /** `fallback`: a second destination, the same phone through a plain trunk, after the SRTP one fails. */
  const start = async (phone: 'srtp-mand' | undefined, fallback = false): Promise<Stack> => {
    const pbx = (t.pbx = await startDemoPbx({ transport: 'tls', phoneToneHz: 400, dir: t.dir, ...(phone ? { phoneMediaEncryption: phone } : {}) }));
    const env: Record<string, string | undefined> = { ...pbx.gatewayEnv(BUSINESS, { srtp: 'mandatory' }) };
    if (fallback) {
      const [secure] = JSON.parse(env['PBX_TRUNKS'] as string) as Record<string, unknown>[];
      const [route] = JSON.parse(env['PBX_ROUTES'] as string) as { destinations: Record<string, unknown>[] }[];
      env['PBX_TRUNKS'] = JSON.stringify([secure, { ...secure, name: 'plain', srtp: 'off' }]);
      const first = route?.destinations[0] as Record<string, unknown>;
      env['PBX_ROUTES'] = JSON.stringify([{ ...route, destinations: [first, { ...first, trunk: 'plain' }], onFailure: 'next' }]);
    }
    const stack = (t.stack = await startStack({ name: 'srtp-pbx', env }));
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Sam' });
    return stack;
  };

  it('carries the tones both ways over SRTP, and keeps SRTP through the phone\'s hold and resume', async () => {
    const s = await start('srtp-mand');
    const phone = (t.pbx as DemoPbx).phone;
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    expect(call.pbxSrtp).toBe('AES_CM_128_HMAC_SHA1_80'); // on the call record (GET /v1/calls/{id})
    expect((await s.api('GET', '/v1/trunks')).body).toMatchObject({ trunks: [{ name: 'pbx', transport: 'tls', srtp: 'mandatory' }] });
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);
    expect((await phoneHeard(phone, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
    expect(phone.log()).toMatch(SRTP_ON);
    expectSecure(pbxLegStats(s, call));

    // the re-INVITEs carry a=crypto again (baresip re-offers its key): answered with ours, SRTP goes on
    await phone.command('hold');
    const legs = s.media.app.get(PbxLegRegistry);
    await eventually('the hold applied', async () => (legs.mediaChanges.hold === 1 ? true : undefined), 15_000, 100);
    const before = pbxLegStats(s, call).packetsReceived;
    await phone.command('resume');
    await eventually('the resume applied', async () => (legs.mediaChanges.resume === 1 ? true : undefined), 15_000, 100);
    const after = await eventually('authenticated RTP from the phone after the resume', async () => {
      const st = pbxLegStats(s, call);
      return st.packetsReceived > before + 50 && st.sendsOnHold > 0 && st.packetsSent > 0 ? st : undefined;
    }, 15_000, 100);
    expect(legs.mediaChanges.refused).toBe(0);
    expectSecure(after);

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
  });

  it('a phone without SRTP refuses the RTP/SAVP offer (488): the call ends with that cause and WhatsApp is told', async () => {
    const s = await start(undefined);
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const ended = await eventually('the refused call ended', async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((c) => c.waCallId === waCallId && c.state === 'ended');
    }, 20_000);
    expect(ended).toMatchObject({ endedBy: 'pbx' });
    expect(ended.sipCause).toMatch(/^488/);
    await eventually('the WhatsApp call ended', async () => {
      const c = await s.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`);
      return c.state === 'ended' ? c : undefined;
    });
  });
  it('a route falls back from an SRTP trunk the phone refuses to a plain trunk with a new, plain offer', async () => {
    const s = await start(undefined, true);
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    const call = await activeCall(s, waCallId);
    expect(call.pbxSrtp).toBeUndefined();
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);
    expect((await phoneHeard((t.pbx as DemoPbx).phone, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
    expect(pbxLegStats(s, call).srtp).toBe(false);
    expect(s.media.app.get(PbxLegRegistry).size).toBe(1); // the SRTP offer's leg was closed
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
  });
});

describe('a desk phone with SRTP (baresip srtp-mand) calls a WhatsApp user', () => {
  const t = e2eScope<PbxToWhatsApp>('wagw-srtp-pbx-');

  const start = async (srtp: 'off' | 'optional'): Promise<Stack> => {
    const pbx = (t.pbx = await startPbxToWhatsApp({ waIds: [USER], dir: t.dir, phoneToneHz: 400, phoneMediaEncryption: 'srtp-mand' }));
    const stack = (t.stack = await startStack({ name: 'srtp-pbx-originated', env: pbx.gatewayEnv({ srtp }) }));
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Wes' });
    await stack.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'ignore', permissionRequest: 'none' });
    await grantPermanently(stack, USER);
    return stack;
  };

  it('the gateway answers its RTP/SAVP offer with its own key (trunk srtp: optional) and the tones pass both ways', async () => {
    const s = await start('optional');
    const phone = (t.pbx as PbxToWhatsApp).phone;
    const call = await phoneCallsUser(s, phone, USER);
    expect(call.pbxSrtp).toBe('AES_CM_128_HMAC_SHA1_80');
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    expect(await userHeard(s, USER, 400)).toBeGreaterThanOrEqual(25);
    expect((await phoneHeard(phone, 1000)).framesWithTone).toBeGreaterThanOrEqual(25);
    expect(phone.log()).toMatch(SRTP_ON);
    expectSecure(pbxLegStats(s, call));

    await phone.hangup();
    await callClosed(phone);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'pbx' });
  });

  it('a trunk with srtp off answers the RTP/SAVP offer 488 and places no WhatsApp call', async () => {
    const s = await start('off');
    const phone = (t.pbx as PbxToWhatsApp).phone;
    await phone.dial(USER);
    const closed = await callClosed(phone);
    expect(closed.param).toMatch(/488/);
    const cdr = await eventually('the refused call\'s record', async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((c) => c.userWaId === USER && c.state === 'ended');
    });
    expect(cdr.endCause).toMatch(/srtp is off/);
    expect((await graphRequests(s)).filter((r) => r.action === 'connect')).toEqual([]);
  });
});
