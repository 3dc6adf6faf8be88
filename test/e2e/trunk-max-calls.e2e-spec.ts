import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { expectSippPassed, runSippUac } from '../support/pbx-to-whatsapp';
import { startRtpEchoPeer, type RtpEchoPeer } from '../support/rtp-echo-peer';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';

/**
 * A trunk's `maxCalls` (its channels): with one channel and a WhatsApp user's call up on it, a second user's
 * call fails at once with 503 and no INVITE (WhatsApp gets `reject`, the CDR says why), and an INVITE from
 * the PBX is answered 503 (SIPp's scenario checks the Warning); /metrics and GET /v1/trunks show the channel
 * in use and the refusals. Once the first call ends, its channel is free and the next call goes through.
 */
const BUSINESS = '15550001111';
const FIRST = '15552228080';
const SECOND = '15552228181';
const DIALLED_BY_PBX = '15552228282';

interface GraphRequest {
  action: string;
}

describe('trunk maxCalls', () => {
  let echo: RtpEchoPeer | undefined;
  let pbx: SippPbx | undefined;
  let stack: Stack | undefined;
  let dir: string | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    await echo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    stack = undefined;
    pbx = undefined;
    echo = undefined;
    dir = undefined;
  });

  const metric = async (s: Stack, name: string, labels: string): Promise<number | undefined> => {
    const text = await (await fetch(`${s.signalling.baseUrl}/metrics`)).text();
    const m = new RegExp(`^${name}\\{${labels}\\} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };

  async function userCallActive(s: Stack, waId: string): Promise<CallRecord> {
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${waId}/call`, {});
    await s.emu('POST', `/emulator/users/${waId}/media/tone`, { frequencyHz: 1000 });
    return activeCall(s, waCallId);
  }

  it('refuses calls both ways with 503 while the trunk is full, and takes them again once a channel is free', async () => {
    echo = await startRtpEchoPeer();
    pbx = await startSippPbx('uas-answer-rtp-peer-expect-200.xml', {
      transport: 'udp',
      calls: 2,
      keys: { rtp_peer_host: echo.host, rtp_peer_port: String(echo.port), answer_pt: '0', answer_rtpmap: 'PCMU/8000' },
    });
    const s = (stack = await startStack({ name: 'trunk-max-calls', env: trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp', maxCalls: 1 }) }));
    for (const [waId, name] of [[FIRST, 'Ada'], [SECOND, 'Bo'], [DIALLED_BY_PBX, 'Cy']] as const) await s.emu('POST', '/emulator/users', { waId, name });

    const first = await userCallActive(s, FIRST);
    expect(await metric(s, 'wagw_trunk_channels_in_use', 'trunk="pbx"')).toBe(1);
    expect(await metric(s, 'wagw_trunk_channels_max', 'trunk="pbx"')).toBe(1);

    // a second user's call: no channel, no INVITE; WhatsApp is rejected at once
    const { waCallId: secondWaCall } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${SECOND}/call`, {});
    const refused = await eventually('the second call ended', async () => {
      // an ended call is no longer found by its WhatsApp call id: its CDR is in the recent list
      const { recent } = (await s.api('GET', '/v1/calls?limit=50')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === secondWaCall);
    });
    expect(refused.state).toBe('ended');
    expect(refused.sipCause).toBe('503 Service Unavailable (trunk pbx at its limit of 1 calls)');
    expect((await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(secondWaCall)}`)).map((g) => g.action)).toEqual(['pre_accept', 'reject']);
    expect(pbx.inviteCallIds()).toHaveLength(1);

    // the PBX calls a WhatsApp user over the full trunk: 503 with the Warning, before any permission check
    dir = await mkdtemp(join(tmpdir(), 'wagw-trunk-full-'));
    expectSippPassed(await runSippUac({ scenario: 'uac-pbx-trunk-full-expect-503.xml', gatewayPort: s.config.pbx.udpPort, service: DIALLED_BY_PBX, dir }));
    expect(await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests`).then((all) => all.map((g) => g.action))).not.toContain('connect');
    expect(await metric(s, 'wagw_trunk_calls_refused_total', 'trunk="pbx",direction="to-pbx"')).toBe(1);
    expect(await metric(s, 'wagw_trunk_calls_refused_total', 'trunk="pbx",direction="from-pbx"')).toBe(1);
    const trunks = (await s.api('GET', '/v1/trunks')).body as { trunks: { name: string; maxCalls: number; channelsInUse?: number | null }[] };
    expect(trunks.trunks).toEqual([expect.objectContaining({ name: 'pbx', maxCalls: 1, channelsInUse: 1 })]);

    // the first call ends: its channel is free, and the second user gets through
    await s.emu('POST', `/emulator/users/${FIRST}/hangup`);
    await endedCall(s, first.callId);
    await eventually('the channel given back', async () => (await metric(s, 'wagw_trunk_channels_in_use', 'trunk="pbx"')) === 0);
    const again = await userCallActive(s, SECOND);
    expect(await metric(s, 'wagw_trunk_channels_in_use', 'trunk="pbx"')).toBe(1);
    await s.emu('POST', `/emulator/users/${SECOND}/hangup`);
    await endedCall(s, again.callId);
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect(pbx.inviteCallIds()).toHaveLength(2);
  });
});
