import { startStack, eventually, type Stack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { expectNoLeaks } from '../support/leaks';
import { scrapedSample } from '../support/metrics';
import { callClosed, grantPermanently, phoneCallsUser, startPbxToWhatsApp, userHeard, type PbxToWhatsApp } from '../support/pbx-to-whatsapp';

/**
 * The gateway registering to the PBX (trunk `register: true`), as a phone or a registering trunk does:
 * Kamailio is the registrar (digest challenge on REGISTER) and delivers calls for WhatsApp numbers to the
 * gateway's registered Contact, the way a PBX calls a registered device: with the number as the Contact's
 * user (Asterisk's Dial(PJSIP/<number>@<endpoint>)), or the Contact as registered with the number only in
 * To. A baresip desk phone dials each user; audio is checked both ways. At shutdown the gateway removes
 * its registration. Wrong credentials: the registration fails and the API and /metrics say so.
 */
const NUMBER_IN_URI = '15553330101';
const NUMBER_IN_TO = '15553330202';
const REG_USER = 'wagw-trunk';

interface TrunkRow {
  name: string;
  outboundRegistration?: { state: string; lastStatus?: number; lastError?: string; expiresAt?: number };
}

async function trunkRow(s: Stack): Promise<TrunkRow | undefined> {
  return ((await s.api('GET', '/v1/trunks')).body as { trunks: TrunkRow[] }).trunks.find((t) => t.name === 'pbx');
}

describe('the gateway registers to the PBX', () => {
  const t = e2eScope<PbxToWhatsApp>('wagw-gw-registers-');

  it('registers with digest, takes the calls the PBX sends to its registration, and unregisters at shutdown', async () => {
    const pbx = (t.pbx = await startPbxToWhatsApp({
      waIds: [NUMBER_IN_URI, NUMBER_IN_TO],
      dir: t.dir,
      phoneToneHz: 400,
      gatewayRegisters: { user: REG_USER, password: 'reg-s3cret', numberInTo: [NUMBER_IN_TO] },
    }));
    const s = (t.stack = await startStack({ name: 'gateway-registers', env: pbx.gatewayEnv({ register: { username: REG_USER, password: 'reg-s3cret' } }) }));
    const contacts = await pbx.kamailio.waitRegistered(REG_USER, 10_000);
    expect(contacts).toEqual([expect.stringContaining(`sip:${REG_USER}@127.0.0.1:${pbx.gatewaySipPort}`)]);
    const row = await eventually('the registration in GET /v1/trunks', async () => ((await trunkRow(s))?.outboundRegistration?.state === 'registered' ? trunkRow(s) : undefined));
    expect(row?.outboundRegistration).toMatchObject({ state: 'registered', lastStatus: 200 });
    expect(await scrapedSample(s.signalling.baseUrl, 'wagw_trunk_registered', { trunk: 'pbx' })).toBe(1);

    for (const waId of [NUMBER_IN_URI, NUMBER_IN_TO]) {
      await s.emu('POST', '/emulator/users', { waId, name: `User ${waId.slice(-4)}` });
      await s.emu('PUT', `/emulator/users/${waId}/behaviour`, { incomingCall: 'ignore', permissionRequest: 'none' });
      await grantPermanently(s, waId);
      const call = await phoneCallsUser(s, pbx.phone, waId);
      expect(call).toMatchObject({ direction: 'outbound', userWaId: waId });
      expect(await userHeard(s, waId, 400)).toBeGreaterThanOrEqual(25);
      await s.emu('POST', `/emulator/users/${waId}/hangup`);
      await callClosed(pbx.phone);
      await eventually(`the call to ${waId} ended`, async () => ((await s.api('GET', `/v1/calls/${call.callId}`)).body as { state: string }).state === 'ended');
    }

    await expectNoLeaks(s);
    t.stack = undefined;
    await s.close();
    expect(await pbx.kamailio.registered(REG_USER)).toBe(false); // Expires: 0 before the SIP stack closed
  });

  it('reports a registration the PBX refuses (wrong password) as failed, in the API and /metrics', async () => {
    const pbx = (t.pbx = await startPbxToWhatsApp({ waIds: [NUMBER_IN_URI], dir: t.dir, gatewayRegisters: { user: REG_USER, password: 'reg-s3cret' } }));
    const s = (t.stack = await startStack({ name: 'gateway-registers-refused', env: pbx.gatewayEnv({ register: { username: REG_USER, password: 'not-it' } }) }));
    const row = await eventually('the failed registration in GET /v1/trunks', async () => ((await trunkRow(s))?.outboundRegistration?.state === 'failed' ? trunkRow(s) : undefined));
    expect(row?.outboundRegistration).toMatchObject({ state: 'failed', lastStatus: 401, lastError: expect.stringMatching(/^401/) });
    expect(await scrapedSample(s.signalling.baseUrl, 'wagw_trunk_registered', { trunk: 'pbx' })).toBe(0);
    expect(await pbx.kamailio.registered(REG_USER)).toBe(false);
  });
});
