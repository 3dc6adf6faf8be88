import { freeTcpUdpPort } from '@wagw/testing';
import { assertIncomingInviteSnapshot, SipError, SipStack, type InboundCall } from '@wagw/sip';
import { nextEvent, testLogger, testSdp } from './helpers';
import { expectSippPassed, SippRun, type SippOptions } from './sipp-runner';

/** SIPp playing the PBX calls our UAS leg (test/sipp/uac-*.xml). */

const logger = testLogger(process.env['SIP_TEST_LOG']);
const keepSipp = process.env['SIP_TEST_KEEP_SIPP'] === '1';

describe.each(['udp', 'tcp'] as const)('a SIPp PBX calling our UAS over %s', (transport) => {
  let stack: SipStack;
  let sipp: SippRun | undefined;
  let incoming: Promise<InboundCall>;

  beforeEach(async () => {
    stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 }, logger });
    incoming = new Promise((resolve) => stack.onInvite((call) => resolve(call)));
  });
  afterEach(async () => {
    await sipp?.stop();
    sipp = undefined;
    await stack.close();
  });

  async function runSipp(scenario: string, extra: Partial<SippOptions> = {}): Promise<SippRun> {
    const port = await freeTcpUdpPort();
    const remote = `127.0.0.1:${stack.ports[transport]}`;
    sipp = new SippRun({ scenario, transport, port, remote, service: 'agent', keepDir: keepSipp, traceMessages: keepSipp, ...extra });
    return sipp;
  }


  it('retransmits the 200 until the ACK, then ends on the PBX BYE', async () => {
    const run = await runSipp('uac-late-ack-expect-200.xml');
    const call = await incoming;
    expect(call.callId).toContain(run.callIdToken);
    expect(call.from).toMatchObject({ user: '1001', displayName: 'PBX 1001' });
    expect(call.requestUri).toMatch(/^sip:agent@127\.0\.0\.1:/);
    expect(call.sdp).toContain('a=rtpmap:8 PCMA/8000');
    const acked = nextEvent(call, 'acked');
    call.ringing();
    call.answer(testSdp(42000));
    await acked;
    expect(call.answerRetransmissions).toBeGreaterThanOrEqual(1);
    const [ended] = await nextEvent(call, 'ended');
    expect(ended).toEqual({ by: 'remote', cause: 'bye', reason: { protocol: 'Q.850', cause: 16, text: 'Normal call clearing' } });
    await expectSippPassed(run);
  });

  it('sends its 183 reliably to a PBX requiring 100rel: RSeq, retransmitted until the PRACK, the 200 after it', async () => {
    const run = await runSipp('uac-100rel-expect-200.xml');
    const call = await incoming;
    const acked = nextEvent(call, 'acked');
    call.progress(testSdp(42000));
    call.answer(testSdp(42000)); // held until the PRACK of the 183 with SDP
    expect(call.state).toBe('early');
    await acked;
    expect(call.state).toBe('confirmed');
    await nextEvent(call, 'ended');
    await expectSippPassed(run);
  });

  it('takes a delayed offer requiring 100rel: our offer in the reliable 180, the answer from its PRACK, the 200 after it, an ACK without SDP', async () => {
    const run = await runSipp('uac-delayed-offer-100rel-expect-200.xml');
    const call = await incoming;
    expect(call.sdp).toBeUndefined();
    expect(call.reliableProvisionals).toBe(true);
    const prackAnswer = nextEvent(call, 'prackAnswer');
    const acked = nextEvent(call, 'acked');
    call.ringing(testSdp(42000)); // the offer, in the first reliable response
    call.answer(testSdp(42000)); // held until that 180 is PRACKed
    expect(call.state).toBe('early');
    expect((await prackAnswer)[0].sdp).toMatch(/^m=audio \d+ RTP\/AVP 0 101$/m);
    expect((await acked)[0]).toEqual({});
    expect(call.state).toBe('confirmed');
    await nextEvent(call, 'ended');
    await expectSippPassed(run);
  });

  it('answers a CANCEL with 200 and the INVITE with 487', async () => {
    const run = await runSipp('uac-cancel-expect-487.xml');
    const call = await incoming;
    const cancelled = nextEvent(call, 'cancelled');
    call.ringing();
    expect((await cancelled)[0]).toEqual({ reason: { protocol: 'SIP', cause: 200, text: 'Call completed elsewhere' } });
    expect(call.state).toBe('terminated');
    await expectSippPassed(run);
  });

  it('rejects with 486, Retry-After, Warning and a Q.850 Reason', async () => {
    const run = await runSipp('uac-busy-expect-486.xml');
    const call = await incoming;
    call.reject(486, 'Busy Here', { headers: { 'Retry-After': '30', Warning: '399 wagw "Agent busy"' }, reason: { protocol: 'Q.850', cause: 17 } });
    await expectSippPassed(run);
  });

  it('receives DTMF INFO and hangs up with a BYE carrying a Reason', async () => {
    const run = await runSipp('uac-info-bye-expect-200.xml');
    const call = await incoming;
    const info = nextEvent(call, 'info');
    const acked = nextEvent(call, 'acked');
    call.answer(testSdp(42000));
    await acked;
    expect((await info)[0]).toMatchObject({ contentType: 'application/dtmf-relay', dtmf: { digit: '5', durationMs: 160 } });
    expect(await call.bye({ protocol: 'Q.850', cause: 16, text: 'Normal call clearing' })).toBe(200);
    await expectSippPassed(run);
  });

  it('challenges the INVITE with 401 and takes the call once the digest verifies', async () => {
    stack.onInviteAuth(() => ({ action: 'digest', realm: 'gw.test', password: (user) => (user === 'pbx' ? 'secret' : undefined) }));
    const run = await runSipp('uac-auth-expect-200.xml', { args: ['-au', 'pbx', '-ap', 'secret'] });
    const call = await incoming;
    expect(call.headers['authorization']).toBeUndefined(); // parsed, not a generic header
    const ended = nextEvent(call, 'ended');
    call.answer(testSdp(42000));
    expect((await ended)[0]).toMatchObject({ by: 'remote' });
    await expectSippPassed(run);
  });

  it('answers session refreshes (re-INVITE and UPDATE) with 200 and the same SDP', async () => {
    const run = await runSipp('uac-reinvite-expect-200.xml');
    const call = await incoming;
    const ended = nextEvent(call, 'ended');
    const answer = testSdp(42000);
    call.answer(answer);
    expect((await ended)[0]).toMatchObject({ by: 'remote', cause: 'bye' });
    await expectSippPassed(run);
  });

  it('answers OPTIONS with 200 and an Allow header', async () => {
    const run = await runSipp('uac-options-expect-200.xml');
    await expectSippPassed(run);
  });
});

describe('a SIPp PBX changing the media mid-call (re-INVITE with and without SDP)', () => {
  it('hands each new offer to the SDP handler and answers with its answer, 488 on its refusal, and the ACK answer to our offer', async () => {
    const stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger });
    const incoming = new Promise<InboundCall>((resolve) => stack.onInvite((call) => resolve(call)));
    const run = new SippRun({
      scenario: 'uac-pbx-moves-holds-resumes-expect-200.xml',
      transport: 'udp',
      port: await freeTcpUdpPort(),
      remote: `127.0.0.1:${stack.ports.udp}`,
      service: 'agent',
      keys: { first_port: '40000', moved_port: '41000' },
      keepDir: keepSipp,
      traceMessages: keepSipp,
    });
    try {
      const call = await incoming;
      const offers: string[] = [];
      const answers: string[] = [];
      call.setSdpHandler({
        offer: async (sdp) => {
          offers.push(sdp);
          if (!/PCMU/.test(sdp)) throw new SipError(488, 'Not Acceptable Here', { warning: '305 wagw "no codec of the call"' });
          return testSdp(42000).replace('a=sendrecv', /a=sendonly/.test(sdp) ? 'a=recvonly' : 'a=sendrecv');
        },
        answer: async (sdp) => void answers.push(sdp),
      });
      const ended = nextEvent(call, 'ended', 30_000); // the scenario's pauses take ~11 s
      call.answer(testSdp(42000));
      expect((await ended)[0]).toMatchObject({ by: 'remote', cause: 'bye' });
      await expectSippPassed(run);
      const summary = (sdp: string) => [/m=audio (\d+) RTP\/AVP ([\d ]+)/.exec(sdp)?.slice(1, 3).join(' '), /a=(sendrecv|sendonly|recvonly|inactive)/.exec(sdp)?.[1]];
      // move, hold, resume, G.729 (refused); the re-INVITE without SDP got our offer and its ACK the answer
      expect(offers.map(summary)).toEqual([
        ['41000 0 8 101', 'sendrecv'],
        ['41000 0 8 101', 'sendonly'],
        ['41000 0 8 101', 'sendrecv'],
        ['41000 18', 'sendrecv'],
      ]);
      expect(answers.map(summary)).toEqual([['41000 0 8 101', 'sendrecv']]);
    } finally {
      await run.stop();
      await stack.close();
    }
  }, 45_000);
});

describe('a SIPp PBX the allow-list refuses', () => {
  it('gets 403 and never reaches onInvite', async () => {
    const stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger });
    let offered = 0;
    stack.onInvite(() => void offered++);
    stack.onInviteAuth((req) => (req.source.address === '10.9.9.9' ? { action: 'accept' } : { action: 'reject', status: 403, reason: 'Not On Allow-List' }));
    const run = new SippRun({ scenario: 'uac-busy-expect-486.xml', transport: 'udp', port: await freeTcpUdpPort(), remote: `127.0.0.1:${stack.ports.udp}`, service: 'agent' });
    try {
      const result = await run.result();
      expect(result.code).toBe(1); // the scenario expected 486 and got 403
      expect(offered).toBe(0);
    } finally {
      await run.stop();
      await stack.close();
    }
  });
});

describe('session timers (RFC 4028) with a SIPp PBX calling our UAS', () => {
  // RFC 4028 puts Min-SE at 90 s or more; 2 s keeps each expiry test to a few seconds
  let stack: SipStack;
  let run: SippRun | undefined;
  let incoming: Promise<InboundCall>;

  beforeEach(async () => {
    stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger, sessionTimer: { expiresS: 2, minSeS: 2 } });
    incoming = new Promise((resolve) => stack.onInvite((call) => resolve(call)));
  });
  afterEach(async () => {
    await run?.stop();
    run = undefined;
    await stack.close();
  });

  async function sipp(scenario: string): Promise<SippRun> {
    run = new SippRun({ scenario, transport: 'udp', port: await freeTcpUdpPort(), remote: `127.0.0.1:${stack.ports.udp}`, service: 'agent', keepDir: keepSipp, traceMessages: keepSipp });
    return run;
  }


  it('refreshes with UPDATE when the PBX names us the refresher, and the call lives past the interval', async () => {
    const r = await sipp('uac-session-timer-gateway-refreshes-expect-update.xml');
    const call = await incoming;
    const acked = nextEvent(call, 'acked');
    call.answer(testSdp(42000));
    await acked;
    expect(call.sessionTimer).toEqual({ intervalS: 2, refresher: 'local' });
    // SIPp hangs up after two refreshes, 2 s into a 2 s session: had they not restarted it, we would have hung up first
    const [ended] = await nextEvent(call, 'ended', 10_000);
    expect(ended).toMatchObject({ by: 'remote', cause: 'bye' });
    await expectSippPassed(r);
  });

  it('hangs up with BYE (Q.850 102) when the PBX, the refresher, never refreshes', async () => {
    const r = await sipp('uac-session-timer-no-refresh-expect-bye.xml');
    const call = await incoming;
    const ended = nextEvent(call, 'ended', 10_000);
    call.answer(testSdp(42000));
    expect((await ended)[0]).toEqual({ by: 'local', cause: 'session-expired', reason: { protocol: 'Q.850', cause: 102, text: 'Session timer expired' } });
    expect(call.sessionTimer).toBeUndefined();
    await expectSippPassed(r);
  });

  it('refuses a session interval below its Min-SE with 422 and never offers the call', async () => {
    let offered = 0;
    stack.onInvite(() => void offered++);
    const r = await sipp('uac-session-timer-too-small-expect-422.xml');
    await expectSippPassed(r);
    expect(offered).toBe(0);
  });

  it('with session timers off, answers 420 to an INVITE that requires them', async () => {
    const off = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger, sessionTimer: false });
    try {
      const calls: InboundCall[] = [];
      off.onInvite((call) => void calls.push(call));
      const a = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger });
      try {
        const [failed] = await nextEvent(
          a.invite({ target: `sip:agent@127.0.0.1:${off.ports.udp}`, from: { user: 'pbx' }, sdp: testSdp(41000), headers: { Require: 'timer' } }),
          'failed',
        );
        expect(failed).toMatchObject({ status: 420 });
        expect(calls).toHaveLength(0);
      } finally {
        await a.close();
      }
    } finally {
      await off.close();
    }
  });
});

describe('a SIPp PBX requiring 100rel that never PRACKs', () => {
  let stack: SipStack | undefined;
  let sipp: SippRun | undefined;

  afterEach(async () => {
    await sipp?.stop();
    await stack?.close();
  });

  it('gets the reliable 180 retransmitted, then 504 after 64*T1, and the leg ends as no-prack', async () => {
    stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger });
    const incoming = new Promise<InboundCall>((resolve) => stack?.onInvite((call) => resolve(call)));
    sipp = new SippRun({ scenario: 'uac-100rel-no-prack-expect-504.xml', transport: 'udp', port: await freeTcpUdpPort(), remote: `127.0.0.1:${stack.ports.udp}`, service: 'agent', keepDir: keepSipp, traceMessages: keepSipp, deadlineMs: 45_000 });
    const call = await incoming;
    const ended = nextEvent(call, 'ended', 40_000);
    const started = Date.now();
    call.ringing();
    expect((await ended)[0]).toEqual({ by: 'local', cause: 'no-prack' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(31_000);
    expect(call.state).toBe('terminated');
    await expectSippPassed(sipp);
  }, 50_000);
});

/**
 * A stack that dies with a PBX call ringing (180 sent) leaves the PBX waiting for a final response: another
 * stack (the signalling process that takes over, on the same port as a restarted one is) sends it from the
 * INVITE's snapshot, as the call record keeps it. Over UDP, retransmitted until the ACK.
 */
describe('a final response from an incoming INVITE snapshot, by another stack over udp', () => {
  let first: SipStack | undefined;
  let second: SipStack | undefined;
  let sipp: SippRun | undefined;
  afterEach(async () => {
    await sipp?.stop();
    sipp = undefined;
    await first?.close();
    await second?.close();
  });

  it('answers the ringing INVITE 503 in its early dialog with the Reason, and sees the ACK', async () => {
    const sipPort = await freeTcpUdpPort();
    first = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: sipPort, tcpPort: 0 }, logger });
    const incoming = new Promise<InboundCall>((resolve) => first?.onInvite((call) => resolve(call)));
    sipp = new SippRun({ scenario: 'uac-ringing-then-lost-expect-503.xml', transport: 'udp', port: await freeTcpUdpPort(), remote: `127.0.0.1:${sipPort}`, service: 'agent', keepDir: keepSipp, traceMessages: keepSipp });
    const call = await incoming;
    call.ringing();
    const snapshot: unknown = JSON.parse(JSON.stringify(call.incomingInviteSnapshot()));
    await first.close(); // its transactions and timers die with it, as with a killed process
    first = undefined;
    assertIncomingInviteSnapshot(snapshot);
    second = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: sipPort, tcpPort: 0 }, logger });
    expect(await second.rejectFromSnapshot(snapshot, 503, { protocol: 'Q.850', cause: 41, text: 'signalling instance lost' })).toBe(true);
    await expectSippPassed(sipp); // 503 in the 180's early dialog with the Reason, then the ACK
  });

  it('refuses a snapshot that cannot be an incoming INVITE, naming what is wrong', async () => {
    second = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 }, logger });
    await expect(second.rejectFromSnapshot({ via: [] } as never, 503)).rejects.toThrow(/incoming INVITE snapshot: via/);
  });

  it('gives up waiting for the ACK when it closes (a shutdown is not held up)', async () => {
    second = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0, tcpPort: 0 }, logger });
    const nobody = await freeTcpUdpPort();
    const pending = second.rejectFromSnapshot({
      via: [{ version: '2.0', protocol: 'UDP', host: '127.0.0.1', port: nobody, params: { branch: 'z9hG4bKnobody' } }],
      from: { uri: 'sip:1001@127.0.0.1', params: { tag: 'a' } },
      to: { uri: 'sip:agent@127.0.0.1', params: { tag: 'b' } },
      callId: 'nobody@test',
      cseq: 1,
      source: { protocol: 'udp', address: '127.0.0.1', port: nobody },
    }, 503);
    await second.close();
    second = undefined;
    await expect(pending).resolves.toBe(false);
  });
});
