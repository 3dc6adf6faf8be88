import { endedCall, endedWaCall, eventually, startStack, type Stack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { scrapedSample } from '../support/metrics';
import { expectSippPassed, grantPermanently, runSippUac } from '../support/pbx-to-whatsapp';
import { startEchoPbx, userCallsWithTone, type EchoPbx } from '../support/echo-pbx';

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
  const t = e2eScope<EchoPbx>('wagw-media-full-');

  const mediaMetric = (s: Stack, name: string): Promise<number | undefined> => scrapedSample(s.media.httpUrl, name);

  it('refuses new calls while the media app carries its limit, and takes them again once one ends', async () => {
    const pbx = (t.pbx = await startEchoPbx({ calls: 2 }));
    const s = (t.stack = await startStack({ name: 'media-max-calls', env: { ...pbx.env(BUSINESS), MEDIA_MAX_CALLS: '1' } }));
    for (const [waId, name] of [[FIRST, 'Ida'], [SECOND, 'Jo'], [CALLED_BY_PHONE, 'Kai']] as const) await s.emu('POST', '/emulator/users', { waId, name });
    await grantPermanently(s, CALLED_BY_PHONE);

    const first = await userCallsWithTone(s, FIRST);
    expect(await (await fetch(`${s.media.httpUrl}/health`)).json()).toMatchObject({ calls: 1, maxCalls: 1 });

    // a second user: refused before any leg or INVITE, WhatsApp rejected
    const { waCallId: secondWaCall } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${SECOND}/call`, {});
    const refused = await endedWaCall(s, secondWaCall);
    expect(refused).toMatchObject({ state: 'ended', endedBy: 'system', endCause: 'set-up failed: the media app carries its maximum of 1 calls (media.maxCalls)' });
    expect((await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(secondWaCall)}`)).map((g) => g.action)).toEqual(['reject']);
    expect(pbx.sipp.inviteCallIds()).toHaveLength(1);

    // a desk phone calls a user who allowed calls: 503 with the reason (the scenario checks it)
    expectSippPassed(await runSippUac({ scenario: 'uac-pbx-media-full-expect-503.xml', gatewayPort: s.config.pbx.udpPort, service: CALLED_BY_PHONE, dir: t.dir }));
    expect(await mediaMetric(s, 'wagw_media_calls_refused_total')).toBeGreaterThanOrEqual(2);
    expect(await mediaMetric(s, 'wagw_media_calls')).toBe(1);

    // the first call ends: the next one is taken
    await s.emu('POST', `/emulator/users/${FIRST}/hangup`);
    await endedCall(s, first.callId);
    await eventually('the media app empty', async () => (await mediaMetric(s, 'wagw_media_calls')) === 0);
    const again = await userCallsWithTone(s, SECOND);
    await s.emu('POST', `/emulator/users/${SECOND}/hangup`);
    await endedCall(s, again.callId);
    const sipp = await pbx.sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });
});
