import type { CallRecord } from '@wagw/call-state';
import { freeTcpUdpPort } from '@wagw/testing';
import { activeCall, endedCall, eventually, startStack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';
import { expectSippPassed, grantPermanently, graphRequests, pbxTrunkEnv, runSippUac } from '../support/pbx-to-whatsapp';

/**
 * Session timers (RFC 4028) through the whole gateway: a PBX that stops refreshing a call's SIP session
 * (it restarted, or the link to it died, without a BYE) no longer leaves the WhatsApp user in a dead call.
 * The gateway ends it when the session expires: BYE with Reason Q.850 102 (SIPp's scenarios check it),
 * WhatsApp terminated, the CDR naming the session timer. 2 s sessions (pbx.sessionExpiresS, Min-SE 1 s)
 * keep each case to seconds; RFC 4028 wants 90 s at least, the default is 1800.
 */
const BUSINESS = '15550001111';
const USER = '15552229090';
const SESSION_ENV = { PBX_SESSION_EXPIRES_S: '2', PBX_SESSION_MIN_SE_S: '1' };

describe('session timers through the gateway', () => {
  const t = e2eScope<SippPbx>('wagw-session-timer-');

  it("a user's call: the PBX raises the interval with 422, then never refreshes: the gateway hangs up both sides", async () => {
    const pbx = (t.pbx = await startSippPbx('uas-session-timer-422-expires-expect-bye.xml', { transport: 'udp' }));
    const s = (t.stack = await startStack({ name: 'session-timer-user-call', env: { ...trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }), ...SESSION_ENV } }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Sue' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await activeCall(s, waCallId);
    const ended = await endedCall(s, call.callId);
    expect(ended).toMatchObject({ endedBy: 'pbx', sipCause: 'session timer expired', endCause: expect.stringContaining('session timer, RFC 4028') });
    expect((await graphRequests(s)).filter((r) => r.action === 'terminate')).toHaveLength(1);
    const result = await pbx.result();
    expect({ exit: result.exitCode, errors: result.errors }).toEqual({ exit: 0, errors: '' }); // 422 honoured, BYE with Q.850 102
    expect(pbx.inviteCallIds()).toHaveLength(1); // the retry after 422 is the same call
  });

  it('a desk phone calls a user and never refreshes the session it asked to refresh: the gateway hangs up both sides', async () => {
    const s = (t.stack = await startStack({
      name: 'session-timer-pbx-call',
      env: { ...pbxTrunkEnv({ sipPort: await freeTcpUdpPort(), host: '127.0.0.1:5060', allowFrom: ['127.0.0.1'] }), ...SESSION_ENV },
    }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Sue' });
    await grantPermanently(s, USER);
    expectSippPassed(await runSippUac({ scenario: 'uac-session-timer-no-refresh-expect-bye.xml', gatewayPort: s.config.pbx.udpPort, service: USER, dir: t.dir }));
    const cdr = await eventually('the expired call\'s record', async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((c) => c.userWaId === USER && c.state === 'ended');
    });
    expect(cdr).toMatchObject({ direction: 'outbound', endedBy: 'pbx', sipCause: 'session timer expired', endCause: expect.stringContaining('RFC 4028') });
    expect((await graphRequests(s)).filter((r) => r.action === 'terminate')).toHaveLength(1);
  });
});
