import { endedCall, endedWaCall, eventually, startStack, type Stack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { scrapedSample, type Labels } from '../support/metrics';
import { expectSippPassed, runSippUac } from '../support/pbx-to-whatsapp';
import { startEchoPbx, userCallsWithTone, type EchoPbx } from '../support/echo-pbx';

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
  const t = e2eScope<EchoPbx>('wagw-trunk-full-');

  const metric = (s: Stack, name: string, labels: Labels): Promise<number | undefined> => scrapedSample(s.signalling.baseUrl, name, labels);

  it('refuses calls both ways with 503 while the trunk is full, and takes them again once a channel is free', async () => {
    const pbx = (t.pbx = await startEchoPbx({ calls: 2 }));
    const s = (t.stack = await startStack({ name: 'trunk-max-calls', env: pbx.env(BUSINESS, { maxCalls: 1 }) }));
    for (const [waId, name] of [[FIRST, 'Ada'], [SECOND, 'Bo'], [DIALLED_BY_PBX, 'Cy']] as const) await s.emu('POST', '/emulator/users', { waId, name });

    const first = await userCallsWithTone(s, FIRST);
    expect(await metric(s, 'wagw_trunk_channels_in_use', { trunk: 'pbx' })).toBe(1);
    expect(await metric(s, 'wagw_trunk_channels_max', { trunk: 'pbx' })).toBe(1);

    // a second user's call: no channel, no INVITE; WhatsApp is rejected at once
    const { waCallId: secondWaCall } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${SECOND}/call`, {});
    const refused = await endedWaCall(s, secondWaCall);
    expect(refused.sipCause).toBe('503 Service Unavailable (trunk pbx at its limit of 1 calls)');
    expect((await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(secondWaCall)}`)).map((g) => g.action)).toEqual(['pre_accept', 'reject']);
    expect(pbx.sipp.inviteCallIds()).toHaveLength(1);

    // the PBX calls a WhatsApp user over the full trunk: 503 with the Warning, before any permission check
    expectSippPassed(await runSippUac({ scenario: 'uac-pbx-trunk-full-expect-503.xml', gatewayPort: s.config.pbx.udpPort, service: DIALLED_BY_PBX, dir: t.dir }));
    expect(await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests`).then((all) => all.map((g) => g.action))).not.toContain('connect');
    expect(await metric(s, 'wagw_trunk_calls_refused_total', { trunk: 'pbx', direction: 'to-pbx' })).toBe(1);
    expect(await metric(s, 'wagw_trunk_calls_refused_total', { trunk: 'pbx', direction: 'from-pbx' })).toBe(1);
    const trunks = (await s.api('GET', '/v1/trunks')).body as { trunks: { name: string; maxCalls: number; channelsInUse?: number | null }[] };
    expect(trunks.trunks).toEqual([expect.objectContaining({ name: 'pbx', maxCalls: 1, channelsInUse: 1 })]);

    // the first call ends: its channel is free, and the second user gets through
    await s.emu('POST', `/emulator/users/${FIRST}/hangup`);
    await endedCall(s, first.callId);
    await eventually('the channel given back', async () => (await metric(s, 'wagw_trunk_channels_in_use', { trunk: 'pbx' })) === 0);
    const again = await userCallsWithTone(s, SECOND);
    expect(await metric(s, 'wagw_trunk_channels_in_use', { trunk: 'pbx' })).toBe(1);
    await s.emu('POST', `/emulator/users/${SECOND}/hangup`);
    await endedCall(s, again.callId);
    const sipp = await pbx.sipp.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect(pbx.sipp.inviteCallIds()).toHaveLength(2);
  });
});
