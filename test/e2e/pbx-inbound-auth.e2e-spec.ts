import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import { analyseTone, type AudioBridgeStats, type ToneReport } from '@wagw/media-bridge';
import { freeTcpUdpPort, readWav, type BaresipHandle } from '@wagw/testing';
import { BridgeRegistry } from '../../apps/media/src/sessions/bridge-registry';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { phoneHeard } from '../support/pbx';
import { callClosed, grantPermanently, graphRequests, pbxTrunkEnv, expectSippPassed, runSippUac, sippOutcome, startPbxToWhatsApp, userHeard, type PbxToWhatsApp } from '../support/pbx-to-whatsapp';

/**
 * Who may send the gateway INVITEs ("done when"): a source on no trunk's allow-list gets 403 and nothing
 * reaches Meta (the emulator's Graph request log stays empty); a trunk with inbound credentials challenges
 * (407), a wrong password is challenged again and the client gives up, the right one reaches the call logic;
 * a flood of unauthenticated INVITEs from a foreign address leaves a bridged call's audio intact.
 * SIPp bound to 127.0.0.2 plays the stranger: the allow-list holds only 127.0.0.1.
 */
const USER = '15557650003';
const STRANGER = '127.0.0.2';
const INBOUND = { inboundUsername: 'pbx-in', inboundPassword: 'right-secret' };

describe('inbound INVITE authorisation on the PBX trunk', () => {
  let dir: string;
  let stack: Stack | undefined;
  let pbx: PbxToWhatsApp | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-pbx-auth-'));
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    stack = undefined;
    pbx = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function boot(env: Env): Promise<Stack> {
    stack = await startStack({ name: 'pbx-inbound-auth', env });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Ines' });
    return stack;
  }

  /** A trunk whose allow-list is 127.0.0.1 (its PBX at a port nobody listens on: no call goes out). */
  async function sippTrunkEnv(extra: { inboundUsername?: string; inboundPassword?: string } = {}): Promise<Env> {
    return pbxTrunkEnv({ sipPort: await freeTcpUdpPort(), host: '127.0.0.1:5060', allowFrom: ['127.0.0.1'], ...extra });
  }

  it('an INVITE from an address on no allow-list gets 403 and nothing reaches Meta', async () => {
    const s = await boot(await sippTrunkEnv());
    await grantPermanently(s, USER);
    const graphBefore = await graphRequests(s);

    const result = await runSippUac({ scenario: 'uac-not-allowed-expect-403.xml', gatewayPort: s.config.pbx.udpPort, service: USER, dir, localHost: STRANGER });

    expectSippPassed(result);
    expect(await graphRequests(s)).toEqual(graphBefore);
    expect((await s.emu<{ state: string }>('GET', `/emulator/users/${USER}`)).state).toBe('idle');
    expect(((await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] }).recent).toEqual([]);
  });

  it('a wrong digest password is challenged again (407) and the client gives up; nothing reaches Meta', async () => {
    const s = await boot(await sippTrunkEnv(INBOUND));
    const result = await runSippUac({
      scenario: 'uac-bad-digest-expect-407.xml',
      gatewayPort: s.config.pbx.udpPort,
      service: USER,
      dir,
      auth: { user: INBOUND.inboundUsername, password: 'wrong-secret' },
    });

    expectSippPassed(result);
    // nothing but the gateway's look at the calling settings when it started
    expect((await graphRequests(s)).filter((r) => r.action !== 'settings')).toEqual([]);
    expect(((await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] }).recent).toEqual([]);
  });

  it('the right digest password passes the challenge and reaches the call logic (480 and a permission request without a grant)', async () => {
    const s = await boot(await sippTrunkEnv(INBOUND));
    const result = await runSippUac({
      scenario: 'uac-auth-no-grant-expect-480.xml',
      gatewayPort: s.config.pbx.udpPort,
      service: USER,
      dir,
      auth: { user: INBOUND.inboundUsername, password: INBOUND.inboundPassword },
    });

    expectSippPassed(result);
    const sent = await eventually('the permission request at Meta', async () => {
      const log = await graphRequests(s);
      return log.some((r) => r.action === 'messages') ? log : undefined;
    });
    expect(sent.filter((r) => r.action === 'messages')).toMatchObject([{ to: USER, httpStatus: 200 }]);
    expect(sent.filter((r) => r.action === 'connect')).toEqual([]);
  });

  it('a flood of INVITEs from a foreign address gets 403s while a bridged call keeps its audio both ways', async () => {
    pbx = await startPbxToWhatsApp({ waIds: [USER], dir, phoneToneHz: 400 });
    const s = await boot(pbx.gatewayEnv());
    await s.emu('PUT', `/emulator/users/${USER}/behaviour`, { incomingCall: 'accept', answerAfterMs: 300, permissionRequest: 'none' });
    await grantPermanently(s, USER);
    const phone = pbx.phone;
    await phone.dial(USER);
    await phone.waitEvent('CALL_ESTABLISHED', 20_000);
    const call = await eventually('call active', async () => {
      const { active } = (await s.api('GET', '/v1/calls')).body as { active: CallRecord[] };
      return active.find((c) => c.userWaId === USER && c.state === 'active');
    }, 20_000);
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: 1000 });
    await userHeard(s, USER, 400);
    await phoneHeard(phone, 1000);

    const bridges = s.media.app.get(BridgeRegistry);
    const before = { bridge: bridges.statsOf(call.callId) as AudioBridgeStats, user: await userTone(s), phone: phoneTone(phone) };
    const graphBefore = await graphRequests(s);
    const flood = await runSippUac({
      scenario: 'uac-not-allowed-expect-403.xml',
      gatewayPort: s.config.pbx.udpPort,
      service: USER,
      dir,
      localHost: STRANGER,
      rate: 200,
      calls: 2000,
      timeoutMs: 120_000,
    });
    const after = { bridge: bridges.statsOf(call.callId) as AudioBridgeStats, user: await userTone(s), phone: phoneTone(phone) };

    expectSippPassed(flood);
    expect(sippOutcome(flood).stats).toBe('created 2000, successful 2000, failed 0');
    expect(await graphRequests(s)).toEqual(graphBefore);
    // the tones kept dominating what each side heard while the flood ran
    expect(toneShare(before.user, after.user)).toBeGreaterThanOrEqual(0.9);
    expect(toneShare(before.phone, after.phone)).toBeGreaterThanOrEqual(0.9);
    // and the bridge lost (almost) nothing in either direction
    for (const dir of ['waToPbx', 'pbxToWa'] as const) {
      const received = after.bridge[dir].packetsIn - before.bridge[dir].packetsIn;
      expect(received).toBeGreaterThan(0);
      expect(after.bridge[dir].lost - before.bridge[dir].lost).toBeLessThanOrEqual(Math.ceil(received * 0.01));
    }

    await phone.hangup();
    await callClosed(phone);
  });
});

/** The WhatsApp user's recording so far, analysed for the phone's 400 Hz. */
async function userTone(s: Stack): Promise<ToneReport> {
  const a = await s.emu<{ tone: ToneReport }>('GET', `/emulator/users/${USER}/media/analysis?frequencyHz=400`);
  return a.tone;
}

/** The phone's recording of this call so far, analysed for the user's 1 kHz. */
function phoneTone(phone: BaresipHandle): ToneReport {
  const dec = phone.recordings().dec;
  const wav = readWav(dec[dec.length - 1] as string);
  return analyseTone(wav.samples, 1000, wav.sampleRate);
}

/** Share of the analysis windows recorded between two reports that carried the tone. */
function toneShare(before: ToneReport, after: ToneReport): number {
  const frames = after.frames - before.frames;
  if (frames <= 0) throw new Error(`nothing was recorded in between (${before.frames} -> ${after.frames} windows)`);
  return (after.framesWithTone - before.framesWithTone) / frames;
}
