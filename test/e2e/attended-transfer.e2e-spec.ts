import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKamailio, type KamailioHandle } from '@wagw/testing';
import { PbxLegRegistry } from '../../apps/media/src/sessions/pbx-leg-registry';
import { CrmEventBus } from '../../apps/signalling/src/events/crm-event-bus';
import type { CrmEvent } from '../../apps/signalling/src/events/crm-event.types';
import { expectNoLeaks } from '../support/leaks';
import { expectSippPassed, userHeard } from '../support/pbx-to-whatsapp';
import { startRtpEchoPeer, type ReceivedRtp, type RtpEchoPeer } from '../support/rtp-echo-peer';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';

/**
 * Attended (consultative) transfer of a WhatsApp user's call (REFER with Replaces, RFC 3515 + RFC 3891), the
 * way an agent hands a customer to a colleague after speaking to them first: Kamailio routes `agent` and
 * `colleague` to two SIPp phones. The agent (test/sipp/uas-pbx-attended-transfer-expect-202.xml) answers,
 * then REFERs the gateway to the colleague with its consultation call in Replaces; the colleague
 * (uas-pbx-replaces-expect-200.xml) must get an INVITE that carries that Replaces and a Referred-By, and
 * answers. The user's tone goes first to the agent's media, then only to the colleague's, and comes back.
 */
const USER = '15552227777';
const BUSINESS = '15550001111';
const TONE_HZ = 1000;

function tonePackets(peer: RtpEchoPeer): ReceivedRtp[] {
  return peer.received().filter((p) => p.payloadType === 0);
}

describe('an agent transfers a WhatsApp user\'s call to a colleague after consulting them (REFER with Replaces)', () => {
  let dir: string;
  let stack: Stack | undefined;
  let kamailio: KamailioHandle | undefined;
  const phones: SippPbx[] = [];
  const peers: RtpEchoPeer[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-attended-'));
  });
  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await Promise.all(phones.splice(0).map((p) => p.stop()));
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await kamailio?.stop();
    stack = undefined;
    kamailio = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('INVITEs the colleague with the Replaces of the REFER, bridges the user to them, and releases the agent', async () => {
    const agentMedia = await startRtpEchoPeer();
    const colleagueMedia = await startRtpEchoPeer({ ssrc: 0x0c0c_0002 });
    peers.push(agentMedia, colleagueMedia);
    const colleague = await startSippPbx('uas-pbx-replaces-expect-200.xml', { transport: 'udp', keys: { rtp_peer_host: '127.0.0.1', first_port: String(colleagueMedia.port) } });
    phones.push(colleague);
    const agent = await startSippPbx('uas-pbx-attended-transfer-expect-202.xml', {
      transport: 'udp',
      keys: { rtp_peer_host: '127.0.0.1', first_port: String(agentMedia.port), colleague: 'colleague', target_domain: 'pbx.example' },
    });
    phones.push(agent);
    // the trunk's proxy routes both extensions, whatever the domain (pbx.example in the agent's Refer-To)
    kamailio = await startKamailio({ routes: { agent: `sip:${agent.hostPort}`, colleague: `sip:${colleague.hostPort}` } });
    stack = await startStack({ name: 'attended-transfer', env: trunkEnv(BUSINESS, `${kamailio.host}:${kamailio.port}`, { transport: 'udp', extension: 'agent' }) });
    const s = stack;
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Ana' });

    const crm: CrmEvent[] = [];
    s.signalling.app.get(CrmEventBus).subscribe((e) => void crm.push(e));
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: TONE_HZ });
    const call = await activeCall(s, waCallId);
    expectSippPassed(await agent.result()); // 202, NOTIFY 100/180/200, then our BYE: the agent is released
    const transferred = await eventually('the call on the colleague', async () => {
      const rec = (await s.api('GET', `/v1/calls/${call.callId}`)).body as typeof call;
      return rec.state === 'active' && rec.pbxLegId !== call.pbxLegId ? rec : undefined;
    });
    expect(transferred.destination).toMatch(/^sip:colleague@/);
    expect(crm.filter((e) => e.type === 'call.transferred').map((e) => e.data)).toEqual([{ callId: call.callId, waId: USER, to: 'sip:colleague@pbx.example', by: 'pbx', attended: true }]);
    expect(s.media.app.get(PbxLegRegistry).size).toBe(1);

    await eventually('the tone at the colleague', async () => (tonePackets(colleagueMedia).length > 100 ? true : undefined), 15_000, 100);
    const atAgent = tonePackets(agentMedia);
    const atColleague = tonePackets(colleagueMedia);
    expect(atAgent.length).toBeGreaterThan(25); // the user spoke to the agent first
    expect((atAgent.at(-1) as ReceivedRtp).at).toBeLessThanOrEqual((atColleague[0] as ReceivedRtp).at + 60);
    expect(colleagueMedia.heard('PCMU', 0, TONE_HZ).framesWithTone).toBeGreaterThanOrEqual(25);
    expect(await userHeard(s, USER, TONE_HZ)).toBeGreaterThanOrEqual(25);

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
    expectSippPassed(await colleague.result()); // its INVITE carried the Replaces and Referred-By, then our BYE
  });
});
