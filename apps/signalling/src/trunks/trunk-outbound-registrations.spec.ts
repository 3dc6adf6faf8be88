import { silentLogger } from '@wagw/logging';
import type { Registration, RegistrationOptions, RegistrationStatus } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';
import { TrunkOutboundRegistrations } from './trunk-outbound-registrations';

function trunk(over: Partial<TrunkConfig> = {}): TrunkConfig {
  return {
    name: 'pbx',
    hosts: ['10.0.0.1:5060', '10.0.0.2:5060'],
    transport: 'udp',
    username: 'wagw',
    password: 'pw',
    fromUser: '',
    fromDomain: 'pbx.example',
    codecs: ['PCMU'],
    allowFrom: [],
    register: true,
    registerExpiresS: 600,
    ...over,
  } as TrunkConfig;
}

/** A registration that records what was asked of it (the real one is tested against SIPp). */
class FakeRegistration {
  started = 0;
  stopped = 0;
  status: RegistrationStatus = { state: 'registering' };
  constructor(readonly options: RegistrationOptions) {}
  start(): void {
    this.started++;
  }
  stop(): Promise<void> {
    this.stopped++;
    this.status = { state: 'stopped' };
    return Promise.resolve();
  }
}

describe('TrunkOutboundRegistrations', () => {
  let made: FakeRegistration[];
  let order: string[] | undefined;
  let regs: TrunkOutboundRegistrations;

  beforeEach(() => {
    made = [];
    order = undefined;
    regs = new TrunkOutboundRegistrations({
      registration: (o) => {
        const r = new FakeRegistration(o);
        made.push(r);
        return r as unknown as Registration;
      },
      hostsInOrder: (t) => order ?? t.hosts,
      logger: silentLogger(),
    });
  });

  it('registers each trunk with register: true as username@domain at its hosts, with its credentials', () => {
    regs.setTrunks([trunk(), trunk({ name: 'plain', register: false })]);
    expect(made).toHaveLength(1);
    expect(made[0]?.options).toEqual({ registrar: ['10.0.0.1:5060', '10.0.0.2:5060'], transport: 'udp', user: 'wagw', domain: 'pbx.example', auth: { username: 'wagw', password: 'pw' }, expiresS: 600 });
    expect(made[0]?.started).toBe(1);
    expect(regs.status('pbx')).toEqual({ state: 'registering' });
    expect(regs.status('plain')).toBeUndefined();
    expect(regs.registeredUser(trunk())).toBe('wagw');
    expect(regs.registeredUser(trunk({ name: 'plain' }))).toBeUndefined();
  });

  it('takes the hosts in health order, the first host as domain without fromDomain, no auth without a password', () => {
    order = ['10.0.0.2:5060', '10.0.0.1:5060'];
    regs.setTrunks([trunk({ fromDomain: '', password: '' })]);
    expect(made[0]?.options).toEqual({ registrar: ['10.0.0.2:5060', '10.0.0.1:5060'], transport: 'udp', user: 'wagw', domain: '10.0.0.1', expiresS: 600 });
  });

  it('on reload keeps an unchanged registration, redoes a changed one and removes one no longer wanted', () => {
    regs.setTrunks([trunk(), trunk({ name: 'b' })]);
    regs.setTrunks([trunk({ codecs: ['PCMA'] }), trunk({ name: 'b', password: 'new' })]);
    expect(made.map((r) => [r.options.auth?.password, r.started, r.stopped])).toEqual([
      ['pw', 1, 0], // pbx: only its codecs changed
      ['pw', 1, 1], // b: its password changed
      ['new', 1, 0],
    ]);
    regs.setTrunks([trunk({ name: 'b', password: 'new' })]);
    expect(made[0]?.stopped).toBe(1);
    expect(regs.status('pbx')).toBeUndefined();
    expect(regs.states()).toEqual([{ trunk: 'b', registered: false }]);
  });

  it('stop removes every registration and starts none afterwards', async () => {
    regs.setTrunks([trunk(), trunk({ name: 'b' })]);
    await regs.stop();
    expect(made.map((r) => r.stopped)).toEqual([1, 1]);
    regs.setTrunks([trunk({ name: 'c' })]);
    expect(made).toHaveLength(2);
    expect(regs.states()).toEqual([]);
  });
});
