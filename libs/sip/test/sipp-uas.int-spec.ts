import { freeTcpUdpPort } from '@wagw/testing';
import { assertDialogSnapshot, assertPendingInviteSnapshot, SipStack, type OutboundCall } from '@wagw/sip';
import { nextEvent, testLogger, testSdp } from './helpers';
import { expectSippPassed, SippRun, type SippOptions } from './sipp-runner';

/**
 * Our UAC leg against SIPp playing the PBX (test/sipp/uas-*.xml). SIPp binds 127.0.0.1 like our stack, so
 * every call also exercises routes and Request-URIs that carry our own host with another port.
 */

const logger = testLogger(process.env['SIP_TEST_LOG']);
const keepSipp = process.env['SIP_TEST_KEEP_SIPP'] === '1';

describe.each(['udp', 'tcp'] as const)('our UAC against a SIPp PBX over %s', (transport) => {
  let stack: SipStack;
  let sipp: SippRun | undefined;
  let port: number;

  beforeEach(async () => {
    stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 }, logger });
    port = await freeTcpUdpPort();
  });
  afterEach(async () => {
    await sipp?.stop();
    sipp = undefined;
    await stack.close();
  });

  async function runSipp(scenario: string, extra: Partial<SippOptions> = {}): Promise<SippRun> {
    sipp = new SippRun({ scenario, transport, port, keepDir: keepSipp, traceMessages: keepSipp, ...extra });
    await sipp.listening();
    return sipp;
  }


  function call(extra: Partial<Parameters<SipStack['invite']>[0]> = {}): OutboundCall {
    return stack.invite({ target: `sip:1001@127.0.0.1:${port}`, transport, from: { user: 'gw', displayName: 'WhatsApp 15550001' }, sdp: testSdp(41000), ...extra });
  }

  it('is answered through an outbound proxy, ACKs and hangs up along the Record-Route with a Q.850 Reason', async () => {
    const run = await runSipp('uas-answer-expect-200.xml');
    const leg = call({ target: 'sip:1001@pbx.example.invalid', outboundProxy: `127.0.0.1:${port}` });
    const trying = nextEvent(leg, 'trying');
    const progress = nextEvent(leg, 'progress', 10_000, ['failed']);
    const answered = nextEvent(leg, 'answered', 10_000, ['failed']);
    await trying;
    expect((await progress)[0]).toMatchObject({ status: 180 });
    expect((await answered)[0].sdp).toContain('a=rtpmap:0 PCMU/8000');
    expect(await leg.bye({ protocol: 'Q.850', cause: 16, text: 'Normal call clearing' })).toBe(200);
    await expectSippPassed(run);
  });

  it('PRACKs reliable provisionals in order (not their retransmissions), and its later CSeqs follow the PRACKs', async () => {
    const run = await runSipp('uas-100rel-expect-prack.xml');
    const leg = call({ target: 'sip:1001@pbx.example.invalid', outboundProxy: `127.0.0.1:${port}` });
    const progress: number[] = [];
    leg.on('progress', (p) => void progress.push(p.status));
    const answered = nextEvent(leg, 'answered', 10_000, ['failed']);
    expect((await answered)[0].sdp).toContain('a=rtpmap:0 PCMU/8000');
    expect(progress).toEqual([180, 183]); // the retransmitted 180 is not processed again
    expect(await leg.bye({ protocol: 'Q.850', cause: 16, text: 'Normal call clearing' })).toBe(200);
    await expectSippPassed(run);
  });

  it('fails as busy on 486 with the Retry-After and Reason of the response', async () => {
    const run = await runSipp('uas-busy-expect-486.xml');
    const [failed] = await nextEvent(call(), 'failed');
    expect(failed).toEqual({ status: 486, reason: 'Busy Here', cause: 'busy', retryAfter: 60, sipReason: { protocol: 'Q.850', cause: 17, text: 'User busy' } });
    await expectSippPassed(run);
  });

  it('follows a 302 to the Contact of highest q on the same PBX, and the call is answered there', async () => {
    const run = await runSipp('uas-redirect-302-expect-200.xml');
    const leg = call({ maxRedirects: 1 });
    const [redirected] = await nextEvent(leg, 'redirected', 10_000, ['failed']);
    expect(redirected).toEqual({ status: 302, target: `sip:2002@127.0.0.1:${port}` });
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    expect(await leg.bye()).toBe(200);
    await expectSippPassed(run);
  });

  it("tries the 302's next Contact when the first is busy (486), and the call is answered there", async () => {
    const run = await runSipp('uas-redirect-302-first-busy-expect-200.xml');
    const leg = call({ maxRedirects: 1 });
    const targets: unknown[] = [];
    leg.on('redirected', (r) => targets.push(r));
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    expect(targets).toEqual([
      { status: 302, target: `sip:2002@127.0.0.1:${port}` },
      { status: 302, target: `sip:3003@127.0.0.1:${port}` },
    ]);
    expect(await leg.bye()).toBe(200);
    await expectSippPassed(run);
  });

  it('follows a target refresh (re-INVITE with another Contact): reports it, and a BYE from its dialog snapshot goes to the new target', async () => {
    const run = await runSipp('uas-reinvite-new-contact-expect-bye-there.xml', { traceMessages: true });
    const leg = call();
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    expect(leg.dialogSnapshot()?.remoteTarget).toMatch(/^sip:pbx@/);
    const [refresh] = await nextEvent(leg, 'targetRefresh', 10_000, ['ended']);
    expect(refresh.target).toMatch(/^sip:moved@127\.0\.0\.1:/);
    // what another process would rebuild the dialog from (the call record), through JSON
    const snapshot: unknown = JSON.parse(JSON.stringify(leg.dialogSnapshot()));
    assertDialogSnapshot(snapshot);
    expect(snapshot.remoteTarget).toBe(refresh.target);
    // the event comes as the re-INVITE arrives, before our 200 (its offer is answered first): SIPp takes a
    // BYE only once it has that 200 and has sent its ACK
    await run.sawMessage(/^\s*CSeq: 101 ACK/m, "SIPp's ACK to our 200 for its re-INVITE");
    expect(await stack.byeFromSnapshot(snapshot)).toBe(200);
    await expectSippPassed(run); // the scenario fails unless the BYE's Request-URI is sip:moved@
  });

  it('fails on a 302 when no redirect is allowed', async () => {
    const run = await runSipp('uas-redirect-302-expect-200.xml');
    const [failed] = await nextEvent(call(), 'failed');
    expect(failed).toMatchObject({ status: 302, cause: 'rejected' });
    await run.stop();
  });

  it('cancels a ringing call: CANCEL with the INVITE CSeq, 487 ACKed, failed as cancelled', async () => {
    const run = await runSipp('uas-cancel-expect-487.xml');
    const leg = call();
    await nextEvent(leg, 'progress', 10_000, ['failed']);
    const failed = nextEvent(leg, 'failed');
    leg.cancel({ protocol: 'SIP', cause: 487, text: 'Caller hung up' });
    expect((await failed)[0]).toMatchObject({ status: 487, cause: 'cancelled' });
    await expectSippPassed(run);
  });

  it('ACKs and hangs up a 200 that crosses its CANCEL, and still fails as cancelled', async () => {
    const run = await runSipp('uas-cancel-crossed-200-expect-200.xml');
    const leg = call();
    await nextEvent(leg, 'progress', 10_000, ['failed']);
    const failed = nextEvent(leg, 'failed', 10_000, ['answered']);
    leg.cancel();
    expect((await failed)[0]).toMatchObject({ status: 487, cause: 'cancelled' });
    await expectSippPassed(run);
  });

  it('cancels when the ring timeout expires and fails as no-answer', async () => {
    const run = await runSipp('uas-cancel-expect-487.xml');
    const leg = call({ ringTimeoutMs: 300 });
    await nextEvent(leg, 'progress', 10_000, ['failed']);
    const [failed] = await nextEvent(leg, 'failed');
    expect(failed).toMatchObject({ status: 487, cause: 'no-answer' });
    await expectSippPassed(run);
  });

  it('answers a 407 with a Proxy-Authorization for the challenge (CSeq + 1) and the call is answered', async () => {
    const run = await runSipp('uas-proxy-auth-expect-200.xml');
    const leg = call({ auth: { username: 'gw', password: 'gwpass' } });
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    await leg.bye();
    await expectSippPassed(run);
  });

  it('answers a 401 with an Authorization whose digest SIPp verifies, and the call is answered', async () => {
    const run = await runSipp('uas-auth-expect-200.xml', { keys: { user: 'gw', password: 'gwpass' } });
    const leg = call({ auth: { username: 'gw', password: 'gwpass', realm: 'sipp.test' } });
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    await leg.bye();
    await expectSippPassed(run);
  });

  it('fails when the trunk refuses the credentials (SIPp verifies them and answers 403)', async () => {
    const run = await runSipp('uas-auth-expect-200.xml', { keys: { user: 'gw', password: 'gwpass' } });
    const [failed] = await nextEvent(call({ auth: { username: 'gw', password: 'wrong' } }), 'failed');
    expect(failed).toMatchObject({ status: 403, reason: 'Bad Credentials', cause: 'rejected' });
    const result = await run.result();
    expect(result.code).toBe(1); // the scenario's bad-credentials branch fails the SIPp call
  });

  it('fails as auth-failed without credentials for a 401', async () => {
    const run = await runSipp('uas-auth-expect-200.xml', { keys: { user: 'gw', password: 'gwpass' } });
    const [failed] = await nextEvent(call(), 'failed');
    expect(failed).toMatchObject({ status: 401, cause: 'auth-failed' });
    await run.stop();
  });

  it('ACKs every retransmission of the 200 and ends when the PBX sends BYE', async () => {
    const run = await runSipp('uas-retransmit-200-expect-200.xml');
    const leg = call();
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    const [ended] = await nextEvent(leg, 'ended');
    expect(ended).toEqual({ by: 'remote', cause: 'bye', reason: { protocol: 'Q.850', cause: 16 } });
    await expectSippPassed(run);
  });

  it('sends DTMF as application/dtmf-relay INFO in the dialog', async () => {
    const run = await runSipp('uas-info-expect-200.xml');
    const leg = call();
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    expect(await leg.sendDtmf('7')).toBe(200);
    await leg.hangup();
    await expectSippPassed(run);
  });

  it('sends OPTIONS and reports the status', async () => {
    const run = await runSipp('uas-options-expect-200.xml');
    const result = await stack.sendOptions(`sip:127.0.0.1:${port}`, transport);
    expect(result.status).toBe(200);
    await expectSippPassed(run);
  });
});

describe('our UAC toward nobody', () => {
  it('fails as unreachable over TCP when the connection is refused', async () => {
    const stack = await SipStack.start({ listen: { host: '127.0.0.1', tcpPort: 0 }, logger });
    try {
      const port = await freeTcpUdpPort();
      const [failed] = await nextEvent(stack.invite({ target: `sip:1001@127.0.0.1:${port}`, transport: 'tcp', from: { user: 'gw' }, sdp: testSdp(41000) }), 'failed');
      expect(failed).toMatchObject({ status: 503, cause: 'unreachable' });
    } finally {
      await stack.close();
    }
  });

  it('fails as unreachable over UDP when Timer B (shortened to 1.5 s) fires without any response', async () => {
    const stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger, transactionTimeoutMs: 1500 });
    try {
      const port = await freeTcpUdpPort();
      const leg = stack.invite({ target: `sip:1001@127.0.0.1:${port}`, from: { user: 'gw' }, sdp: testSdp(41000) });
      const [failed] = await nextEvent(leg, 'failed', 10_000);
      expect(failed).toMatchObject({ status: 408, cause: 'unreachable' });
    } finally {
      await stack.close();
    }
  });
});

describe('session timers (RFC 4028): our UAC against a SIPp PBX', () => {
  // RFC 4028 puts Min-SE at 90 s or more; 2 s keeps each test to a few seconds
  let stack: SipStack;
  let run: SippRun | undefined;
  let port: number;

  beforeEach(async () => {
    stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger, sessionTimer: { expiresS: 2, minSeS: 1 } });
    port = await freeTcpUdpPort();
  });
  afterEach(async () => {
    await run?.stop();
    run = undefined;
    await stack.close();
  });

  async function sipp(scenario: string): Promise<SippRun> {
    run = new SippRun({ scenario, transport: 'udp', port, keepDir: keepSipp, traceMessages: keepSipp });
    await run.listening();
    return run;
  }


  const call = (): OutboundCall => stack.invite({ target: `sip:1001@127.0.0.1:${port}`, from: { user: 'gw' }, sdp: testSdp(41000) });

  /** The SDP answers the leg hands to its media owner mid-call (refreshes, ACKs). */
  function recordAnswers(leg: OutboundCall): string[] {
    const answers: string[] = [];
    leg.setSdpHandler({
      offer: () => Promise.reject(new Error('no offer expected')),
      answer: async (sdp) => void answers.push(sdp),
    });
    return answers;
  }

  it.each([
    ['UPDATE, the PBX allowing it', 'uas-session-timer-refresh-update-expect-200.xml'],
    ['a re-INVITE with the same SDP, the PBX not allowing UPDATE', 'uas-session-timer-refresh-reinvite-expect-200.xml'],
  ])('asks for a session timer and, named the refresher, refreshes with %s until the PBX hangs up', async (_how, scenario) => {
    const r = await sipp(scenario);
    const leg = call();
    const answers = recordAnswers(leg);
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    expect(leg.sessionTimer).toEqual({ intervalS: 2, refresher: 'local' });
    const [ended] = await nextEvent(leg, 'ended', 10_000);
    expect(ended).toMatchObject({ by: 'remote', cause: 'bye' });
    await expectSippPassed(r);
    expect(answers).toEqual([]); // the same SDP again: nothing to apply
  });

  it('applies the answer to its refresh re-INVITE when the PBX moved its media in it', async () => {
    const r = await sipp('uas-session-timer-refresh-reinvite-new-media-expect-200.xml');
    const leg = call();
    const answers = recordAnswers(leg);
    const [answered] = await nextEvent(leg, 'answered', 10_000, ['failed']);
    await nextEvent(leg, 'ended', 10_000);
    await expectSippPassed(r);
    const port = (sdp: string | undefined): number => Number(/^m=audio (\d+)/m.exec(sdp ?? '')?.[1]);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatch(/^o=pbx 1 2 /m);
    expect(port(answers[0])).toBe(port(answered.sdp) + 2);
  });

  it('asks again after 422 with the Min-SE given, then hangs up (Q.850 102) when the PBX stops refreshing', async () => {
    const r = await sipp('uas-session-timer-422-expires-expect-bye.xml');
    const leg = call();
    await nextEvent(leg, 'answered', 10_000, ['failed']);
    expect(leg.sessionTimer).toEqual({ intervalS: 3, refresher: 'remote' });
    const [ended] = await nextEvent(leg, 'ended', 10_000);
    expect(ended).toEqual({ by: 'local', cause: 'session-expired', reason: { protocol: 'Q.850', cause: 102, text: 'Session timer expired' } });
    await expectSippPassed(r);
  });
});

/**
 * A stack that dies with a call ringing leaves the PBX ringing: another stack (the signalling process that
 * takes over, on the same port as a restarted one is) CANCELs the INVITE from its snapshot, as the call record
 * keeps it. Over UDP, as most trunks run; the snapshot goes through JSON as it does through Redis.
 */
describe('CANCEL of a ringing INVITE from its snapshot, by another stack over udp', () => {
  let first: SipStack | undefined;
  let second: SipStack | undefined;
  let sipp: SippRun | undefined;
  afterEach(async () => {
    await sipp?.stop();
    sipp = undefined;
    await first?.close();
    await second?.close();
  });

  async function ringThenDie(scenario: string): Promise<{ run: SippRun; snapshot: unknown; sipPort: number }> {
    const port = await freeTcpUdpPort();
    const sipPort = await freeTcpUdpPort();
    sipp = new SippRun({ scenario, transport: 'udp', port, keepDir: keepSipp, traceMessages: keepSipp });
    await sipp.listening();
    first = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: sipPort, tcpPort: 0 }, logger });
    const leg = first.invite({ target: `sip:1001@127.0.0.1:${port}`, transport: 'udp', from: { user: 'gw' }, sdp: testSdp(41000) });
    expect(leg.pendingInviteSnapshot()).toBeUndefined(); // nothing to CANCEL before a provisional (RFC 3261 §9.1)
    await nextEvent(leg, 'progress', 10_000, ['failed']);
    const snapshot: unknown = JSON.parse(JSON.stringify(leg.pendingInviteSnapshot()));
    await first.close(); // its transactions and timers die with it, as with a killed process
    first = undefined;
    return { run: sipp, snapshot, sipPort };
  }

  it('CANCELs with the INVITE CSeq and Via, and ACKs the 487', async () => {
    const { run, snapshot, sipPort } = await ringThenDie('uas-cancel-expect-487.xml');
    assertPendingInviteSnapshot(snapshot);
    second = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: sipPort, tcpPort: 0 }, logger });
    expect(await second.cancelFromSnapshot(snapshot, { protocol: 'Q.850', cause: 41, text: 'signalling instance lost' })).toBe(200);
    await expectSippPassed(run); // the scenario ends with the ACK of its 487
  });

  it('ACKs and hangs up (BYE) a 200 that crosses the CANCEL', async () => {
    const { run, snapshot, sipPort } = await ringThenDie('uas-cancel-crossed-200-expect-200.xml');
    assertPendingInviteSnapshot(snapshot);
    second = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: sipPort, tcpPort: 0 }, logger });
    expect(await second.cancelFromSnapshot(snapshot, { protocol: 'SIP', cause: 487, text: 'Call cancelled' })).toBe(200);
    await expectSippPassed(run); // ACK, then BYE with the Reason
  });

  it('refuses a snapshot that cannot be a pending INVITE, naming what is wrong', async () => {
    second = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 }, logger });
    await expect(second.cancelFromSnapshot({ uri: 'sip:1001@127.0.0.1' } as never)).rejects.toThrow(/pending INVITE snapshot: via/);
  });

  it('stops waiting for an answer when it closes (a shutdown is not held up)', async () => {
    second = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 }, logger });
    const nobody = await freeTcpUdpPort();
    const pending = second.cancelFromSnapshot({
      uri: `sip:1001@127.0.0.1:${nobody}`,
      via: { protocol: 'UDP', host: '127.0.0.1', port: 5060, params: { branch: 'z9hG4bKnobody' } },
      from: { uri: 'sip:gw@127.0.0.1', params: { tag: 'a' } },
      to: { uri: `sip:1001@127.0.0.1:${nobody}`, params: {} },
      callId: 'nobody@test',
      cseq: 1,
      route: [],
      destination: { protocol: 'udp', address: '127.0.0.1', port: nobody },
    });
    await second.close();
    second = undefined;
    await expect(pending).resolves.toBe(0);
  });
});
