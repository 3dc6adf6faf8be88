import { freeTcpUdpPort } from '@wagw/testing';
import { SipStack, type Registration, type RegistrationStatus } from '@wagw/sip';
import { testLogger } from './helpers';
import { expectSippPassed, SippRun } from './sipp-runner';

/** Our stack registering to SIPp playing a registrar (test/sipp/uas-registrar-expect-200.xml). */

const logger = testLogger(process.env['SIP_TEST_LOG']);
const keepSipp = process.env['SIP_TEST_KEEP_SIPP'] === '1';

function nextStatus(r: Registration, state: RegistrationStatus['state'], timeoutMs = 10_000): Promise<RegistrationStatus> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`registration not ${state} within ${timeoutMs} ms (now ${r.status.state})`)), timeoutMs);
    const listener = (s: RegistrationStatus): void => {
      if (s.state !== state) return;
      clearTimeout(timer);
      r.off('status', listener);
      resolve(s);
    };
    r.on('status', listener);
  });
}

describe('registering to a SIPp registrar', () => {
  let stack: SipStack;
  let sipp: SippRun | undefined;
  let port: number;

  beforeEach(async () => {
    stack = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger });
    port = await freeTcpUdpPort();
  });
  afterEach(async () => {
    await sipp?.stop();
    sipp = undefined;
    await stack.close();
  });

  async function registrar(): Promise<SippRun> {
    sipp = new SippRun({ scenario: 'uas-registrar-expect-200.xml', transport: 'udp', port, keys: { user: 'gw', password: 'gwpass' }, keepDir: keepSipp, traceMessages: keepSipp });
    await sipp.listening();
    return sipp;
  }

  const register = (password: string): Registration =>
    stack.registration({ registrar: `127.0.0.1:${port}`, transport: 'udp', user: 'gw', domain: 'pbx.example', auth: { username: 'gw', password }, expiresS: 2, retryS: 1 });

  it('answers the challenge, takes the Min-Expires of a 423, refreshes before expiry and unregisters on stop', async () => {
    const run = await registrar();
    const r = register('gwpass');
    const statuses: RegistrationStatus[] = [];
    r.on('status', (s) => void statuses.push(s));
    const registered = nextStatus(r, 'registered');
    r.start();
    const first = await registered;
    expect(first).toMatchObject({ state: 'registered', lastStatus: 200 });
    expect((first.expiresAt ?? 0) - (first.registeredAt ?? 0)).toBe(3000); // the 423's Min-Expires, granted
    const refreshed = await nextStatus(r, 'registered'); // SIPp's fourth REGISTER: the refresh, same Call-ID
    expect(refreshed.registeredAt).toBeGreaterThan(first.registeredAt ?? 0);
    await r.stop(); // the fifth: Expires 0
    expect(r.status.state).toBe('stopped');
    await expectSippPassed(run);
    expect(statuses.map((s) => s.state)).toEqual(['registering', 'registered', 'registered', 'stopped']);
  });

  it('reports a refused registration as failed with the status and retries it after the back-off', async () => {
    const run = await registrar();
    const r = register('wrong');
    const failed = nextStatus(r, 'failed');
    r.start();
    expect(await failed).toMatchObject({ state: 'failed', lastStatus: 403, lastError: '403 Bad Credentials' });
    await nextStatus(r, 'registering'); // the retry, 1 s later (SIPp's bad-credentials branch fails on it)
    await r.stop();
    expect((await run.result()).code).toBe(1);
  });

  it('moves to the next registrar after a failed attempt, and stays where it registered', async () => {
    const run = await registrar();
    const quick = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger, transactionTimeoutMs: 1000 });
    try {
      const dead = `127.0.0.1:${await freeTcpUdpPort()}`; // nothing listens there: no answer, 408
      const r = quick.registration({ registrar: [dead, `127.0.0.1:${port}`], transport: 'udp', user: 'gw', domain: 'pbx.example', auth: { username: 'gw', password: 'gwpass' }, expiresS: 2, retryS: 1 });
      const failed = nextStatus(r, 'failed');
      const registered = nextStatus(r, 'registered');
      r.start();
      expect(await failed).toMatchObject({ registrar: dead, lastStatus: 408 });
      expect(await registered).toMatchObject({ registrar: `127.0.0.1:${port}`, lastStatus: 200 });
      await nextStatus(r, 'registered'); // the refresh, at the same registrar
      await r.stop();
      await expectSippPassed(run);
    } finally {
      await quick.close();
    }
  });

  it('reports a registrar that never answers as failed, and the stack closing stops its timers', async () => {
    const quick = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: 0 }, logger, transactionTimeoutMs: 1000 });
    try {
      const r = quick.registration({ registrar: `127.0.0.1:${port}`, transport: 'udp', user: 'gw', domain: 'pbx.example', expiresS: 60, retryS: 60 });
      const failed = nextStatus(r, 'failed');
      r.start();
      expect(await failed).toMatchObject({ state: 'failed', lastStatus: 408, lastError: expect.stringMatching(/^no answer from the registrar/) });
    } finally {
      await quick.close();
    }
  });
});
