import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { expectSippPassed, grantPermanently, runSippUac } from '../support/pbx-to-whatsapp';
import { startRtpEchoPeer, type RtpEchoPeer } from '../support/rtp-echo-peer';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';

/**
 * media.maxCalls: a media app carrying its limit refuses new calls before anything is allocated, so the calls
 * it carries keep their quality. With a limit of 1 and a WhatsApp user's call bridged to the PBX (SIPp and an
 * echoing RTP peer), a second user's call is rejected at once (no INVITE, the CDR says why), a desk phone's
 * call to a user who allowed calls gets 503 with the reason (SIPp checks it), /health and /metrics show the
 * count; once the first call ends the next one goes through.
 */
const BUSINESS = '15550001111';
const FIRST = '15552229090';
const SECOND = '15552229191';
const CALLED_BY_PHONE = '15552229292';

interface GraphRequest {
  action: string;
}

describe('media maxCalls', () => {
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

  const mediaMetric = async (s: Stack, name: string): Promise<number | undefined> => {
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(await (await fetch(`${s.media.httpUrl}/metrics`)).text());
    return m ? Number(m[1]) : undefined;
  };

  async function userCallActive(s: Stack, waId: string): Promise<CallRecord> {
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${waId}/call`, {});
    await s.emu('POST', `/emulator/users/${waId}/media/tone`, { frequencyHz: 1000 });
    return activeCall(s, waCallId);
  }

  it('refuses new calls while the media app carries its limit, and takes them again once one ends', async () => {
    echo = await startRtpEchoPeer();
    pbx = await startSippPbx('uas-answer-rtp-peer-expect-200.xml', {
      transport: 'udp',
      calls: 2,
      keys: { rtp_peer_host: echo.host, rtp_peer_port: String(echo.port), answer_pt: '0', answer_rtpmap: 'PCMU/8000' },
    });
    const s = (stack = await startStack({ name: 'media-max-calls', env: { ...trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }), MEDIA_MAX_CALLS: '1' } }));
    for (const [waId, name] of [[FIRST, 'Ida'], [SECOND, 'Jo'], [CALLED_BY_PHONE, 'Kai']] as const) await s.emu('POST', '/emulator/users', { waId, name });
    await grantPermanently(s, CALLED_BY_PHONE);

    const first = await userCallActive(s, FIRST);
    expect(await (await fetch(`${s.media.httpUrl}/health`)).json()).toMatchObject({ calls: 1, maxCalls: 1 });

    // a second user: refused before any leg or INVITE, WhatsApp rejected
    const { waCallId: secondWaCall } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${SECOND}/call`, {});
    const refused = await eventually('the second call ended', async () => {
      const { recent } = (await s.api('GET', '/v1/calls?limit=50')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === secondWaCall);
    });
    expect(refused).toMatchObject({ state: 'ended', endedBy: 'system', endCause: 'set-up failed: the media app carries its maximum of 1 calls (media.maxCalls)' });
    expect((await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(secondWaCall)}`)).map((g) => g.action)).toEqual(['reject']);
    expect(pbx.inviteCallIds()).toHaveLength(1);

    // a desk phone calls a user who allowed calls: 503 with the reason (the scenario checks it)
    dir = await mkdtemp(join(tmpdir(), 'wagw-media-full-'));
    expectSippPassed(await runSippUac({ scenario: 'uac-pbx-media-full-expect-503.xml', gatewayPort: s.config.pbx.udpPort, service: CALLED_BY_PHONE, dir }));
    expect(await mediaMetric(s, 'wagw_media_calls_refused_total')).toBeGreaterThanOrEqual(2);
    expect(await mediaMetric(s, 'wagw_media_calls')).toBe(1);

    // the first call ends: the next one is taken
    await s.emu('POST', `/emulator/users/${FIRST}/hangup`);
    await endedCall(s, first.callId);
    await eventually('the media app empty', async () => (await mediaMetric(s, 'wagw_media_calls')) === 0);
    const again = await userCallActive(s, SECOND);
    await s.emu('POST', `/emulator/users/${SECOND}/hangup`);
    await endedCall(s, again.callId);
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });
});
