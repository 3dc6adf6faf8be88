import { silentLogger } from '@wagw/logging';
import { TypedEmitter, type CallFailedEvent, type InviteOptions, type OutboundCall, type OutboundCallEvents } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';
import { FailoverInviter, isHostFailure, type ChannelLimiter, type HostRanking } from './failover-inviter';
import type { ChannelGrant } from './trunk-channels';

/** Stands in for an OutboundCall: the test drives its events. */
class FakeLeg extends TypedEmitter<OutboundCallEvents> {
  state: OutboundCall['state'] = 'calling';
  readonly hangups: unknown[] = [];
  disposed = false;
  constructor(
    readonly options: InviteOptions,
    readonly callId: string,
  ) {
    super(silentLogger());
  }
  emit<K extends keyof OutboundCallEvents>(event: K, ...args: OutboundCallEvents[K]): void {
    if (event === 'progress') this.state = 'proceeding';
    if (event === 'answered') this.state = 'confirmed';
    if (event === 'failed') this.state = 'terminated';
    this.safeEmit(event, ...args);
  }
  fail(status: number, reason: string, cause: CallFailedEvent['cause']): void {
    this.emit('failed', { status, reason, cause });
  }
  dispose(): void {
    this.disposed = true;
    this.fail(503, 'Stack Closed', 'unreachable');
  }
  readonly infos: string[] = [];
  async sendDtmf(digit: string, durationMs = 160): Promise<number> {
    this.infos.push(`${digit}/${durationMs}`);
    return 200;
  }
  async hangup(reason?: unknown): Promise<void> {
    this.hangups.push(reason);
    if (this.state === 'proceeding') this.fail(487, 'Request Terminated', 'cancelled');
  }
}

class FakeSender {
  readonly legs: FakeLeg[] = [];
  invite = (options: InviteOptions): OutboundCall => {
    const leg = new FakeLeg(options, options.callId ?? `call-${this.legs.length + 1}`);
    this.legs.push(leg);
    return leg as unknown as OutboundCall;
  };
}

const trunk = {
  name: 'pbx',
  hosts: ['10.0.0.1:5060', '10.0.0.2:5060', '10.0.0.3:5060'],
  transport: 'tcp',
  fromDomain: '',
  failoverTimeoutMs: 2000,
} as TrunkConfig;

const invite = { target: 'sip:1001@pbx.example.com', from: { user: '15551234567' }, sdp: 'v=0', ringTimeoutMs: 20_000 };

describe('FailoverInviter', () => {
  let sender: FakeSender;
  let ranking: HostRanking & { failures: [string, string, string][]; order: string[] };
  let inviter: FailoverInviter;

  beforeEach(() => {
    jest.useFakeTimers();
    sender = new FakeSender();
    ranking = {
      failures: [],
      order: [...trunk.hosts],
      hostsInOrder() {
        return this.order;
      },
      reportFailure(t, h, r) {
        this.failures.push([t, h, r]);
      },
    };
    inviter = new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger() });
  });

  afterEach(() => jest.useRealTimers());

  function record(call: ReturnType<FailoverInviter['invite']>): string[] {
    const events: string[] = [];
    call.on('progress', (p) => void events.push(`progress ${p.status}`));
    call.on('answered', () => void events.push('answered'));
    call.on('failed', (f) => void events.push(`failed ${f.status} ${f.cause}`));
    return events;
  }

  it("passes the trunk's maxRedirects, and a redirect counts as the host answering (no failover on its timer)", () => {
    const call = inviter.invite({ ...trunk, maxRedirects: 2 }, invite);
    expect(sender.legs[0]?.options).toMatchObject({ maxRedirects: 2, outboundProxy: '10.0.0.1:5060' });
    const redirected: string[] = [];
    call.on('redirected', (r) => void redirected.push(r.target));
    sender.legs[0]?.emit('redirected', { status: 302, target: 'sip:2002@pbx.example.com' });
    expect(redirected).toEqual(['sip:2002@pbx.example.com']); // passed on: the call's record names it
    jest.advanceTimersByTime(5000);
    expect(sender.legs).toHaveLength(1);
  });

  it('sends the INVITE to the first host in the monitor order with the trunk transport and From domain of that host', () => {
    ranking.order = ['10.0.0.2:5060', '10.0.0.1:5060', '10.0.0.3:5060'];
    const call = inviter.invite(trunk, invite);
    expect(sender.legs).toHaveLength(1);
    expect(sender.legs[0]?.options).toMatchObject({ outboundProxy: '10.0.0.2:5060', transport: 'tcp', from: { user: '15551234567', host: '10.0.0.2' } });
    expect(call.callId).toBe('call-1');
    expect(call.host).toBe('10.0.0.2:5060');
  });

  it("names the configured domain in From when the host is one of that domain's SRV targets", () => {
    const srvTrunk = { ...trunk, hosts: ['example.com'] } as TrunkConfig;
    ranking.order = ['sip-a.example.com:5070', '10.0.0.9:5060'];
    ranking.srvDomain = (_t, host) => (host === 'sip-a.example.com:5070' ? 'example.com' : undefined);
    const call = inviter.invite(srvTrunk, invite);
    expect(sender.legs[0]?.options).toMatchObject({ outboundProxy: 'sip-a.example.com:5070', from: { host: 'example.com' } });
    sender.legs[0]?.fail(503, 'Service Unavailable', 'unreachable');
    expect(sender.legs[1]?.options).toMatchObject({ outboundProxy: '10.0.0.9:5060', from: { host: '10.0.0.9' }, callId: call.callId });
  });

  it("over TLS lets an SRV target's certificate name the domain (tlsIdentity), and only for SRV targets", () => {
    const tlsTrunk = { ...trunk, hosts: ['example.com'], transport: 'tls' } as TrunkConfig;
    ranking.order = ['sip-a.example.com:5061', '10.0.0.9:5061'];
    ranking.srvDomain = (_t, host) => (host === 'sip-a.example.com:5061' ? 'example.com' : undefined);
    inviter.invite(tlsTrunk, invite);
    expect(sender.legs[0]?.options).toMatchObject({ outboundProxy: 'sip-a.example.com:5061', transport: 'tls', tlsIdentity: 'example.com' });
    sender.legs[0]?.fail(503, 'Service Unavailable', 'unreachable');
    expect(sender.legs[1]?.options).not.toHaveProperty('tlsIdentity');

    const udpTrunk = { ...trunk, hosts: ['example.com'], transport: 'udp' } as TrunkConfig;
    ranking.order = ['sip-a.example.com:5061'];
    inviter.invite(udpTrunk, invite);
    expect(sender.legs[2]?.options).not.toHaveProperty('tlsIdentity');
  });

  it.each([
    [503, 'Service Unavailable', 'unreachable'],
    [408, 'Request Timeout', 'timeout'],
    [503, 'Service Unavailable', 'unreachable'], // transport error (synthesised locally)
    [408, 'No Response', 'unreachable'], // Timer B
  ] as const)('tries the next host with the same Call-ID after %s %s', (status, reason, cause) => {
    const call = inviter.invite(trunk, invite);
    const events = record(call);
    sender.legs[0]?.fail(status, reason, cause);
    expect(sender.legs).toHaveLength(2);
    expect(sender.legs[1]?.options).toMatchObject({ outboundProxy: '10.0.0.2:5060', callId: 'call-1' });
    expect(ranking.failures).toEqual([['pbx', '10.0.0.1:5060', `${status} ${reason}`]]);
    sender.legs[1]?.emit('progress', { status: 180, reason: 'Ringing' });
    sender.legs[1]?.emit('answered', { sdp: 'v=0 answer', headers: {} });
    expect(events).toEqual(['progress 180', 'answered']);
    expect(call.host).toBe('10.0.0.2:5060');
  });

  it('does not fail over on an answer such as busy or decline', () => {
    const events = record(inviter.invite(trunk, invite));
    sender.legs[0]?.fail(486, 'Busy Here', 'busy');
    expect(sender.legs).toHaveLength(1);
    expect(events).toEqual(['failed 486 busy']);
    expect(ranking.failures).toEqual([]);
  });

  it('gives up on a host that sends nothing within failoverTimeoutMs and tries the next one', () => {
    const events = record(inviter.invite(trunk, invite));
    jest.advanceTimersByTime(1999);
    expect(sender.legs).toHaveLength(1);
    jest.advanceTimersByTime(1);
    expect(sender.legs[0]?.disposed).toBe(true);
    expect(sender.legs).toHaveLength(2);
    expect(ranking.failures[0]).toEqual(['pbx', '10.0.0.1:5060', 'no response within 2000 ms']);
    expect(events).toEqual([]); // the abandoned attempt's own failure is not forwarded
  });

  it('keeps waiting on a host that sent 100 Trying', () => {
    inviter.invite(trunk, invite);
    sender.legs[0]?.emit('trying');
    jest.advanceTimersByTime(10_000);
    expect(sender.legs).toHaveLength(1);
  });

  it('reports the last failure once every host failed', () => {
    const events = record(inviter.invite(trunk, invite));
    sender.legs[0]?.fail(503, 'Service Unavailable', 'unreachable');
    sender.legs[1]?.fail(503, 'Service Unavailable', 'unreachable');
    jest.advanceTimersByTime(60_000); // no timer on the last host: it waits for the transaction
    expect(sender.legs).toHaveLength(3);
    sender.legs[2]?.fail(408, 'Request Timeout', 'timeout');
    expect(events).toEqual(['failed 408 timeout']);
    expect(ranking.failures.map((f) => f[1])).toEqual(trunk.hosts);
  });

  it('a hangup stops the failover: the call fails as cancelled', () => {
    const call = inviter.invite(trunk, invite);
    const events = record(call);
    void call.hangup({ protocol: 'SIP', cause: 487, text: 'caller left' });
    jest.advanceTimersByTime(2000); // the first host never answered: abandoned, no next host tried
    expect(sender.legs).toHaveLength(1);
    expect(events).toEqual(['failed 487 cancelled']);
  });

  it('forwards a cancel of a ringing attempt and nothing from an abandoned one', async () => {
    const call = inviter.invite(trunk, invite);
    const events = record(call);
    sender.legs[0]?.emit('progress', { status: 180, reason: 'Ringing' });
    await call.hangup();
    expect(sender.legs[0]?.hangups).toHaveLength(1);
    expect(events).toEqual(['progress 180', 'failed 487 cancelled']);
  });

  it('ends a ringing call with a CANCEL saying SIP 487, an answered one with a BYE saying Q.850 16 (normal clearing)', async () => {
    const ringing = inviter.invite(trunk, invite);
    sender.legs[0]?.emit('progress', { status: 180, reason: 'Ringing' });
    await ringing.end('the user hung up');
    expect(sender.legs[0]?.hangups).toEqual([{ protocol: 'SIP', cause: 487, text: 'the user hung up' }]);

    const answered = inviter.invite(trunk, invite);
    sender.legs[1]?.emit('answered', { sdp: 'v=0', headers: {} });
    await answered.end(`completed ${'x'.repeat(200)}`);
    expect(sender.legs[1]?.hangups).toEqual([{ protocol: 'Q.850', cause: 16, text: `completed ${'x'.repeat(90)}` }]);
  });

  it('sends in-dialog DTMF on the leg of the host that answered', async () => {
    const call = inviter.invite(trunk, invite);
    sender.legs[0]?.fail(503, 'Service Unavailable', 'unreachable');
    sender.legs[1]?.emit('answered', { sdp: 'v=0', headers: {} });
    await expect(call.sendDtmf('5', 200)).resolves.toBe(200);
    expect(sender.legs[1]?.infos).toEqual(['5/200']);
    expect(sender.legs[0]?.infos).toEqual([]);
  });

  it('fails the call when a later INVITE cannot be sent (stack closing), and throws for the first one', () => {
    const events = record(inviter.invite(trunk, invite));
    sender.invite = () => {
      throw new Error('cannot invite in state closed');
    };
    sender.legs[0]?.fail(503, 'Stack Closed', 'unreachable');
    expect(events).toEqual(['failed 503 unreachable']);
    expect(() => inviter.invite(trunk, invite)).toThrow('cannot invite in state closed');
  });

  it('shortens the ring timeout of a later attempt by the time already spent', () => {
    inviter.invite(trunk, invite);
    jest.advanceTimersByTime(2000);
    expect(sender.legs[1]?.options.ringTimeoutMs).toBe(18_000);
  });
});

describe('isHostFailure', () => {
  it('is true for unreachable, 408 and 503, false for answers and our own cancel', () => {
    expect(isHostFailure({ status: 503, reason: '', cause: 'unreachable' })).toBe(true);
    expect(isHostFailure({ status: 504, reason: '', cause: 'unreachable' })).toBe(true);
    expect(isHostFailure({ status: 408, reason: '', cause: 'timeout' })).toBe(true);
    expect(isHostFailure({ status: 480, reason: '', cause: 'no-answer' })).toBe(false);
    expect(isHostFailure({ status: 404, reason: '', cause: 'rejected' })).toBe(false);
    expect(isHostFailure({ status: 408, reason: 'No Final Response After CANCEL', cause: 'cancelled' })).toBe(false);
  });
});

describe('FailoverInviter toward a trunk whose PBX registers to us', () => {
  const registrar = { name: 'reg', hosts: [], transport: 'udp', fromDomain: 'pbx.example', failoverTimeoutMs: 2000, registrar: true } as unknown as TrunkConfig;

  it('sends to the registered address with its Contact as Request-URI and the destination in To', () => {
    const sender = new FakeSender();
    const ranking: HostRanking = { hostsInOrder: () => ['192.0.2.7:40123'], reportFailure: () => undefined, registeredContact: () => 'sip:pbx-1@10.1.1.1:5060' };
    const inviter = new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger() });
    inviter.invite(registrar, invite);
    expect(sender.legs[0]?.options).toMatchObject({ target: 'sip:pbx-1@10.1.1.1:5060', to: 'sip:1001@pbx.example.com', outboundProxy: '192.0.2.7:40123', transport: 'udp' });
  });

  it('fails with 480 (not registered) without sending when no PBX is registered', async () => {
    const sender = new FakeSender();
    const ranking: HostRanking = { hostsInOrder: () => [], reportFailure: () => undefined, registeredContact: () => undefined };
    const call = new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger() }).invite(registrar, invite);
    expect(call.callId).toMatch(/@unsent$/);
    const failed = await new Promise<CallFailedEvent>((resolve) => call.on('failed', resolve));
    expect(failed).toEqual({ status: 480, reason: 'Temporarily Unavailable (PBX not registered)', cause: 'unreachable' });
    expect(sender.legs).toHaveLength(0);
  });
});

describe('FailoverInviter on a trunk with maxCalls', () => {
  const limited = { name: 'pbx', hosts: ['10.0.0.1:5060', '10.0.0.2:5060'], transport: 'udp', fromDomain: '', failoverTimeoutMs: 0, maxCalls: 1 } as unknown as TrunkConfig;

  /** A limiter with `free` channels; every acquire and release is logged, grants resolve when the test says. */
  function limiter(free: number) {
    const log: string[] = [];
    let pending: (() => void)[] = [];
    const held = new Set<string>();
    const channels: ChannelLimiter = {
      acquire: (t, member, direction) =>
        new Promise<ChannelGrant>((resolve) =>
          pending.push(() => {
            log.push(`acquire ${t.name} ${direction}`);
            if (held.size >= free) return resolve({ granted: false, inUse: held.size });
            held.add(member);
            resolve({ granted: true, inUse: held.size });
          }),
        ),
      release: async (t, member) => {
        log.push(`release ${t}${held.delete(member) ? '' : ' (not held)'}`);
      },
    };
    const grant = async (): Promise<void> => {
      const now = pending;
      pending = [];
      now.forEach((p) => p());
      await new Promise((r) => setImmediate(r));
    };
    return { channels, log, held, grant };
  }

  const ranking: HostRanking = { hostsInOrder: (t) => [...t.hosts], reportFailure: () => undefined };
  const record = (call: ReturnType<FailoverInviter['invite']>): string[] => {
    const events: string[] = [];
    call.on('answered', () => void events.push('answered'));
    call.on('failed', (f) => void events.push(`failed ${f.status} ${f.reason}`));
    call.on('ended', (e) => void events.push(`ended ${e.by}`));
    return events;
  };

  it('takes a channel before the INVITE, under the Call-ID it then sends, and gives it back when the answered call ends', async () => {
    const sender = new FakeSender();
    const l = limiter(1);
    const call = new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger(), channels: l.channels }).invite(limited, invite);
    const events = record(call);
    expect(call.callId).toMatch(/@wagw$/); // known at once, before any INVITE
    expect(sender.legs).toHaveLength(0);
    await l.grant();
    expect(sender.legs[0]?.options.callId).toBe(call.callId);
    expect(l.held).toEqual(new Set([call.callId]));
    sender.legs[0]?.emit('answered', { sdp: 'v=0', headers: {} });
    sender.legs[0]?.emit('ended', { by: 'remote', cause: 'bye' });
    expect(events).toEqual(['answered', 'ended remote']);
    expect(l.log).toEqual(['acquire pbx to-pbx', 'release pbx']);
  });

  it('fails with 503 without an INVITE when the trunk has no free channel', async () => {
    const sender = new FakeSender();
    const l = limiter(0);
    const call = new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger(), channels: l.channels }).invite(limited, invite);
    const events = record(call);
    await l.grant();
    expect(events).toEqual(['failed 503 Service Unavailable (trunk pbx at its limit of 1 calls)']);
    expect(sender.legs).toHaveLength(0);
    expect(l.log).toEqual(['acquire pbx to-pbx']); // nothing taken, nothing given back
  });

  it('gives the channel back when the call fails after failing over, and when it is hung up before the grant', async () => {
    const sender = new FakeSender();
    const l = limiter(5);
    const inviter = new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger(), channels: l.channels });
    const failing = record(inviter.invite(limited, invite));
    await l.grant();
    sender.legs[0]?.fail(503, 'Service Unavailable', 'unreachable');
    sender.legs[1]?.fail(486, 'Busy Here', 'busy');
    expect(failing).toEqual(['failed 486 Busy Here']);
    expect(l.held.size).toBe(0);

    const early = inviter.invite(limited, invite);
    const events = record(early);
    void early.hangup();
    await l.grant();
    expect(events).toEqual(['failed 487 Request Terminated']);
    expect(sender.legs).toHaveLength(2); // no INVITE for the call hung up while its channel was asked for
    expect(l.log).toEqual(['acquire pbx to-pbx', 'release pbx', 'acquire pbx to-pbx', 'release pbx']);
  });

  it('fails with 503 without an INVITE when the limiter cannot answer', async () => {
    const sender = new FakeSender();
    const channels: ChannelLimiter = { acquire: async () => Promise.reject(new Error('limiter down')), release: async () => undefined };
    const call = new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger(), channels }).invite(limited, invite);
    const failed = await new Promise<CallFailedEvent>((resolve) => call.on('failed', resolve));
    expect(failed).toEqual({ status: 503, reason: 'Service Unavailable (trunk channel limit not checked)', cause: 'unreachable' });
    expect(sender.legs).toHaveLength(0);
  });

  it('asks for no channel on a trunk without maxCalls', () => {
    const sender = new FakeSender();
    const l = limiter(0);
    new FailoverInviter({ sender: () => sender, ranking, logger: silentLogger(), channels: l.channels }).invite({ ...limited, maxCalls: 0 }, invite);
    expect(sender.legs).toHaveLength(1); // sent at once, as before
    expect(l.log).toEqual([]);
  });
});
