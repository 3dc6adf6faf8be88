import { freeTcpUdpPort } from '@wagw/testing';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';

/**
 * Inbound calls the PBX does not take (issue 3, "done when"): SIPp plays the PBX behind the trunk. A busy
 * PBX, one that lets the phone ring past the ring timeout, or a trunk that never answers end the WhatsApp
 * call with `reject` (the call was never accepted) and leave the SIP cause in the CDR; a 407 challenge is
 * answered with an authenticated INVITE. The scenarios' own checks (CSeq of the CANCEL, the digest answer)
 * make SIPp's exit code an assertion.
 */
const BUSINESS = '15550001111';
const USER = '15552224444';
const TRANSACTION_TIMEOUT_MS = 2000;

interface GraphRequest {
  action: string;
  callId?: string;
  httpStatus: number;
}

describe('inbound calls the PBX does not answer (SIPp as the PBX)', () => {
  let stack: Stack | undefined;
  let pbx: SippPbx | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    stack = undefined;
    pbx = undefined;
  });

  async function boot(env: Env): Promise<Stack> {
    stack = await startStack({ name: 'inbound-sipp-failures', env: { PBX_TRANSACTION_TIMEOUT_MS: String(TRANSACTION_TIMEOUT_MS), ...env } });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Sam' });
    return stack;
  }

  async function userCalls(s: Stack): Promise<string> {
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    return waCallId;
  }

  /** The call's record once ended (found by its WhatsApp id among the recent calls). */
  async function cdrOf(s: Stack, waCallId: string, timeoutMs = 15_000): Promise<CallRecord> {
    return eventually(`CDR of ${waCallId}`, async () => {
      const { recent } = (await s.api('GET', '/v1/calls')).body as { recent: CallRecord[] };
      return recent.find((r) => r.waCallId === waCallId && r.state === 'ended');
    }, timeoutMs);
  }

  /** Graph actions the gateway sent for the call, in order, once WhatsApp's side of it has ended. */
  async function graphActionsOf(s: Stack, waCallId: string): Promise<string[]> {
    await eventually('WhatsApp call ended', async () => (await s.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`)).state === 'ended');
    const log = await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(waCallId)}`);
    return log.filter((r) => r.httpStatus === 200).map((r) => r.action);
  }

  async function ringingPbx(s: Stack, waCallId: string): Promise<CallRecord> {
    return eventually('the PBX rings', async () => {
      const res = await s.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'ringing-pbx' ? rec : undefined;
    });
  }

  it('a busy PBX (486) ends the WhatsApp call with reject and the CDR says 486', async () => {
    pbx = await startSippPbx('uas-busy-expect-486.xml', { transport: 'udp' });
    const s = await boot(trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp', assertIdentity: true }));

    const waCallId = await userCalls(s);
    const cdr = await cdrOf(s, waCallId);
    // the trunk's assertIdentity: the PBX got the WhatsApp user as P-Asserted-Identity (RFC 3325), +E.164
    expect(pbx.messages()).toMatch(new RegExp(`^P-Asserted-Identity: "Sam" <sip:\\+${USER}@127\\.0\\.0\\.1;user=phone>\\r?$`, 'm'));

    expect(cdr).toMatchObject({ state: 'ended', endedBy: 'pbx', sipCause: '486 Busy Here', destination: `sip:1001@${pbx.hostPort}` });
    expect(cdr.endCause).toMatch(/busy/);
    expect(cdr.answeredAt).toBeUndefined();
    expect(await graphActionsOf(s, waCallId)).toEqual(['pre_accept', 'reject']);
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect(pbx.inviteCallIds()).toHaveLength(1);
  });

  it('a phone that rings past the ring timeout is cancelled, and the WhatsApp call rejected', async () => {
    pbx = await startSippPbx('uas-cancel-expect-487.xml', { transport: 'udp' });
    const s = await boot(trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp', ringTimeoutMs: 1500 }));

    const waCallId = await userCalls(s);
    await ringingPbx(s, waCallId);
    const cdr = await cdrOf(s, waCallId);

    expect(cdr).toMatchObject({ endedBy: 'pbx', sipCause: '487 Request Terminated' });
    expect(cdr.endCause).toMatch(/no-answer/);
    expect(await graphActionsOf(s, waCallId)).toEqual(['pre_accept', 'reject']);
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });

  it('the user hanging up while the phone rings sends CANCEL, and nothing is sent back to WhatsApp', async () => {
    pbx = await startSippPbx('uas-cancel-expect-487.xml', { transport: 'udp' });
    const s = await boot(trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp', ringTimeoutMs: 30_000 }));

    const waCallId = await userCalls(s);
    await ringingPbx(s, waCallId);
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    const cdr = await cdrOf(s, waCallId);

    expect(cdr).toMatchObject({ endedBy: 'wa' });
    expect(await graphActionsOf(s, waCallId)).toEqual(['pre_accept']);
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });

  it.each(['udp', 'tcp'] as const)('answers a 407 challenge with an authenticated INVITE over %s and bridges the call', async (transport) => {
    pbx = await startSippPbx('uas-proxy-auth-expect-200.xml', { transport });
    const s = await boot(trunkEnv(BUSINESS, pbx.hostPort, { transport, auth: { username: 'gw', password: 'gw-secret' } }));

    const waCallId = await userCalls(s);
    const active = await eventually('call active', async () => {
      const res = await s.api('GET', `/v1/calls/${waCallId}`);
      const rec = res.body as CallRecord;
      return res.status === 200 && rec.state === 'active' ? rec : undefined;
    }, 15_000);
    expect(active.codec).toBe('PCMU');
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    const cdr = await cdrOf(s, waCallId);

    expect(cdr).toMatchObject({ endedBy: 'wa' });
    expect(await graphActionsOf(s, waCallId)).toEqual(['pre_accept', 'accept']);
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
    expect(pbx.inviteCallIds()).toHaveLength(1);
  });

  it('a pre_accept Meta holds back (429, Retry-After 2 s) does not hold back the desk phone: it answers meanwhile, and accept follows the pre_accept that went through', async () => {
    pbx = await startSippPbx('uas-answer-expect-200.xml', { transport: 'udp' });
    const s = await boot(trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp' }));
    await s.emu('PUT', '/emulator/faults', { graphFailures: [{ action: 'pre_accept', status: 429, count: 1, when: 'before', retryAfterS: 2 }] });

    const waCallId = await userCalls(s);
    // the PBX has answered (the record is `accepting`) while Meta's side of the call is still only ringing
    const metaState = await eventually('the PBX answered', async () => {
      const res = await s.api('GET', `/v1/calls/${waCallId}`);
      if (res.status !== 200 || (res.body as CallRecord).state !== 'accepting') return undefined;
      return (await s.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`)).state;
    });
    expect(metaState).toBe('ringing');
    await eventually('call active', async () => {
      const res = await s.api('GET', `/v1/calls/${waCallId}`);
      return res.status === 200 && (res.body as CallRecord).state === 'active';
    }, 10_000);
    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    await cdrOf(s, waCallId);

    const log = await s.emu<GraphRequest[]>('GET', `/emulator/graph-requests?callId=${encodeURIComponent(waCallId)}`);
    expect(log.map((r) => `${r.action} ${r.httpStatus}`)).toEqual(['pre_accept 429', 'pre_accept 200', 'accept 200']);
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });

  it('a trunk that never answers (UDP) is given up after the transaction timeout: reject, and the CDR says why', async () => {
    const deadPort = await freeTcpUdpPort();
    const s = await boot(trunkEnv(BUSINESS, `127.0.0.1:${deadPort}`, { transport: 'udp' }));

    const waCallId = await userCalls(s);
    const cdr = await cdrOf(s, waCallId);

    expect(cdr).toMatchObject({ endedBy: 'pbx', sipCause: '408 Request Timeout' });
    expect(cdr.endCause).toMatch(/unreachable/);
    // Timer B: not before the configured transaction timeout (the INVITE left after pre_accept)
    expect(cdr.endedAt as number).toBeGreaterThanOrEqual(cdr.createdAt + TRANSACTION_TIMEOUT_MS);
    expect(await graphActionsOf(s, waCallId)).toEqual(['pre_accept', 'reject']);
  });

  it('a trunk that refuses the TCP connection ends the call with reject at once, and the CDR says why', async () => {
    const deadPort = await freeTcpUdpPort();
    const s = await boot(trunkEnv(BUSINESS, `127.0.0.1:${deadPort}`, { transport: 'tcp' }));

    const waCallId = await userCalls(s);
    const cdr = await cdrOf(s, waCallId);

    expect(cdr).toMatchObject({ endedBy: 'pbx' });
    expect(cdr.sipCause).toMatch(/^503 Service Unavailable \(connect ECONNREFUSED 127\.0\.0\.1:\d+\)$/);
    expect(cdr.endCause).toMatch(/unreachable/);
    expect(await graphActionsOf(s, waCallId)).toEqual(['pre_accept', 'reject']);
  });
});
