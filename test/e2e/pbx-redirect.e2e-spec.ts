import { activeCall, endedCall, endedWaCall, startStack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';

/**
 * A PBX that forwards the called extension by redirection: SIPp answers the gateway's INVITE to 1001 with
 * 302 and two Contacts (2002 q=0.9, 3003 q=0.5) and checks that the next INVITE goes to 2002 on the same
 * trunk (CSeq one higher, same Call-ID), rings, answers and gets the BYE when the user hangs up. When 2002
 * is busy (486), the INVITE goes on to 3003. With the trunk's maxRedirects at 0 the 302 ends the user's call.
 */
const BUSINESS = '15550001111';
const USER = '15552227070';

describe('a PBX that redirects the call (302)', () => {
  const t = e2eScope<SippPbx>('wagw-pbx-redirect-');

  it("is followed through the trunk to the Contact of highest q, and the user's call is answered there", async () => {
    const pbx = (t.pbx = await startSippPbx('uas-redirect-302-expect-200.xml', { transport: 'udp' }));
    const s = (t.stack = await startStack({ name: 'pbx-redirect', env: trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }) }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Rex' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await activeCall(s, waCallId);
    expect(call.destination).toBe(`sip:1001@${pbx.hostPort}`); // the route's destination
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    // the record names where it rang in the end: the Contact of highest q
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa', redirectedTo: expect.stringMatching(/^sip:2002@/) });
    const result = await pbx.result();
    expect({ exit: result.exitCode, errors: result.errors }).toEqual({ exit: 0, errors: '' });
    expect(pbx.inviteCallIds()).toHaveLength(1); // the redirected INVITE is the same call
  });

  it("tries the 302's next Contact when the first is busy, and the user's call is answered there", async () => {
    const pbx = (t.pbx = await startSippPbx('uas-redirect-302-first-busy-expect-200.xml', { transport: 'udp' }));
    const s = (t.stack = await startStack({ name: 'pbx-redirect-next', env: trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }) }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Rex' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await activeCall(s, waCallId);
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    // the record names where it was answered: the second Contact, 2002 having been busy
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa', redirectedTo: expect.stringMatching(/^sip:3003@/) });
    const result = await pbx.result();
    expect({ exit: result.exitCode, errors: result.errors }).toEqual({ exit: 0, errors: '' });
    expect(pbx.inviteCallIds()).toHaveLength(1);
  });

  it('fails the call on a 302 when the trunk follows no redirects (maxRedirects: 0)', async () => {
    const pbx = (t.pbx = await startSippPbx('uas-redirect-302-expect-200.xml', { transport: 'udp' }));
    const env = trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' });
    const trunks = JSON.parse(env['PBX_TRUNKS'] ?? '[]') as Record<string, unknown>[];
    const s = (t.stack = await startStack({ name: 'pbx-no-redirect', env: { ...env, PBX_TRUNKS: JSON.stringify(trunks.map((tr) => ({ ...tr, maxRedirects: 0 }))) } }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Rex' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const ended = await endedWaCall(s, waCallId);
    expect(ended.sipCause).toMatch(/^302 /);
  });
});
