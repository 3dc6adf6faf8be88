import { silentLogger } from '@wagw/logging';
import type { OptionsResult } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';
import { TrunkHealthMonitor, type HostStateChanged } from './trunk-health-monitor';

function trunk(over: Partial<TrunkConfig> = {}): TrunkConfig {
  return {
    name: 'pbx',
    hosts: ['10.0.0.1:5060', '10.0.0.2:5060'],
    transport: 'udp',
    username: '',
    password: '',
    fromUser: '',
    fromDomain: '',
    codecs: ['PCMU'],
    allowFrom: [],
    inboundUsername: '',
    inboundPassword: '',
    optionsIntervalMs: 1000,
    downAfterFailures: 2,
    upAfterSuccesses: 2,
    failoverTimeoutMs: 3000,
    ...over,
  } as TrunkConfig;
}

/** A prober whose answer per target is set by the test; `pending` targets never answer until released. */
class FakeProber {
  readonly answers = new Map<string, number>();
  readonly sent: string[] = [];
  readonly #pending = new Map<string, ((r: OptionsResult) => void)[]>();
  hold = new Set<string>();

  probe = (target: string): Promise<OptionsResult> => {
    this.sent.push(target);
    if (this.hold.has(target)) {
      return new Promise((resolve) => this.#pending.set(target, [...(this.#pending.get(target) ?? []), resolve]));
    }
    const status = this.answers.get(target) ?? 200;
    return Promise.resolve({ status, reason: status === 200 ? 'OK' : 'Service Unavailable', rttMs: 3 });
  };

  release(target: string, status: number): void {
    this.hold.delete(target);
    for (const r of this.#pending.get(target) ?? []) r({ status, reason: '', rttMs: 900 });
    this.#pending.delete(target);
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

describe('TrunkHealthMonitor', () => {
  let prober: FakeProber;
  let monitor: TrunkHealthMonitor;
  let changes: HostStateChanged[];

  beforeEach(() => {
    jest.useFakeTimers();
    prober = new FakeProber();
    monitor = new TrunkHealthMonitor({ probe: prober.probe, logger: silentLogger() });
    changes = [];
    monitor.on('hostStateChanged', (c) => void changes.push(c));
  });

  afterEach(() => {
    monitor.stop();
    jest.useRealTimers();
  });

  const stateOf = (host: string): string | undefined => monitor.snapshot()[0]?.hosts.find((h) => h.host === host)?.state;

  it('probes every host at start and marks answering hosts up', async () => {
    monitor.setTrunks([trunk()]);
    monitor.start();
    await flush();
    expect(prober.sent).toEqual(['sip:10.0.0.1:5060', 'sip:10.0.0.2:5060']);
    expect(stateOf('10.0.0.1:5060')).toBe('up');
    expect(changes.map((c) => [c.host, c.from, c.to])).toEqual([
      ['10.0.0.1:5060', 'unknown', 'up'],
      ['10.0.0.2:5060', 'unknown', 'up'],
    ]);
  });

  it('marks a host down after downAfterFailures failed probes and up again after upAfterSuccesses answers', async () => {
    const t = trunk();
    prober.answers.set('sip:10.0.0.1:5060', 503);
    monitor.setTrunks([t]);
    monitor.start();
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('unknown');
    jest.advanceTimersByTime(1000);
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('down');
    expect(monitor.hostsInOrder(t)).toEqual(['10.0.0.2:5060', '10.0.0.1:5060']);

    prober.answers.set('sip:10.0.0.1:5060', 200);
    jest.advanceTimersByTime(1000);
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('down'); // one answer is not enough
    jest.advanceTimersByTime(1000);
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('up');
    expect(monitor.hostsInOrder(t)).toEqual(['10.0.0.1:5060', '10.0.0.2:5060']);
    expect(changes.filter((c) => c.host === '10.0.0.1:5060').map((c) => c.to)).toEqual(['down', 'up']);
  });

  it('orders the hosts it was given (SRV targets) for a trunk asked about by its configured hosts', () => {
    monitor.setTrunks([trunk({ hosts: ['sip-a.example.com:5060', 'sip-b.example.com:5070'] })]);
    expect(monitor.hostsInOrder(trunk({ hosts: ['example.com'] }))).toEqual(['sip-a.example.com:5060', 'sip-b.example.com:5070']);
    expect(monitor.hostsInOrder(trunk({ name: 'unknown', hosts: ['192.0.2.1:5060'] }))).toEqual(['192.0.2.1:5060']);
  });

  it('counts any final answer but 408/503 as alive (a 404 proves the host is there)', async () => {
    prober.answers.set('sip:10.0.0.1:5060', 404);
    prober.answers.set('sip:10.0.0.2:5060', 408);
    monitor.setTrunks([trunk({ downAfterFailures: 1 })]);
    monitor.start();
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('up');
    expect(stateOf('10.0.0.2:5060')).toBe('down');
  });

  it('counts a probe still unanswered when the next is due as a failure, sends no second one, and takes its late answer', async () => {
    prober.hold.add('sip:10.0.0.1:5060');
    monitor.setTrunks([trunk()]);
    monitor.start();
    await flush();
    jest.advanceTimersByTime(2000);
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('down');
    expect(prober.sent.filter((s) => s === 'sip:10.0.0.1:5060')).toHaveLength(1);
    expect(monitor.snapshot()[0]?.hosts[0]?.lastFailure?.reason).toBe('no response to OPTIONS');

    prober.release('sip:10.0.0.1:5060', 200); // a retransmission finally reached a host that came back
    await flush();
    expect(monitor.snapshot()[0]?.hosts[0]).toMatchObject({ consecutiveSuccesses: 1, lastProbe: { status: 200, rttMs: 900 } });
    jest.advanceTimersByTime(1000);
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('up');
  });

  it('counts a probe that cannot be sent as a failure', async () => {
    const failing = new TrunkHealthMonitor({ probe: () => Promise.reject(new Error('transport tcp not enabled')), logger: silentLogger() });
    failing.setTrunks([trunk({ downAfterFailures: 1 })]);
    failing.start();
    await flush();
    expect(failing.snapshot()[0]?.hosts[0]).toMatchObject({ state: 'down', lastFailure: { reason: 'OPTIONS not sent: transport tcp not enabled' } });
    failing.stop();
  });

  it('sends nothing for a trunk with optionsIntervalMs 0 and keeps its hosts in configured order', async () => {
    const t = trunk({ optionsIntervalMs: 0 });
    monitor.setTrunks([t]);
    monitor.start();
    monitor.reportFailure('pbx', '10.0.0.1:5060', 'no response');
    monitor.reportFailure('pbx', '10.0.0.1:5060', 'no response');
    jest.advanceTimersByTime(10_000);
    await flush();
    expect(prober.sent).toEqual([]);
    expect(stateOf('10.0.0.1:5060')).toBe('unknown');
    expect(monitor.hostsInOrder(t)).toEqual(t.hosts);
  });

  it('counts call failures reported for a probed trunk', async () => {
    const t = trunk({ optionsIntervalMs: 60_000 });
    monitor.setTrunks([t]);
    monitor.start();
    await flush();
    monitor.reportFailure('pbx', '10.0.0.1:5060', '408 No Response');
    monitor.reportFailure('pbx', '10.0.0.1:5060', '408 No Response');
    expect(stateOf('10.0.0.1:5060')).toBe('down');
    expect(monitor.hostsInOrder(t)[0]).toBe('10.0.0.2:5060');
  });

  it('keeps the state of hosts that stay across a reload and forgets removed ones', async () => {
    prober.answers.set('sip:10.0.0.1:5060', 503);
    monitor.setTrunks([trunk({ downAfterFailures: 1 })]);
    monitor.start();
    await flush();
    expect(stateOf('10.0.0.1:5060')).toBe('down');
    monitor.setTrunks([trunk({ hosts: ['10.0.0.1:5060', '10.0.0.3:5060'], downAfterFailures: 1, optionsIntervalMs: 60_000 })]);
    expect(monitor.snapshot()[0]?.hosts.map((h) => [h.host, h.state])).toEqual([
      ['10.0.0.1:5060', 'down'],
      ['10.0.0.3:5060', 'unknown'],
    ]);
    await flush();
    expect(stateOf('10.0.0.3:5060')).toBe('up');
  });

  it('stop() clears the timers: no probe afterwards', async () => {
    monitor.setTrunks([trunk()]);
    monitor.start();
    await flush();
    monitor.stop();
    const sent = prober.sent.length;
    jest.advanceTimersByTime(5000);
    await flush();
    expect(prober.sent.length).toBe(sent);
    expect(jest.getTimerCount()).toBe(0);
  });
});
