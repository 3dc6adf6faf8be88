import { silentLogger } from '@wagw/logging';
import type { RegisterRequestInfo } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';
import { MAX_EXPIRES_S, TrunkRegistrations } from './trunk-registrations';

const trunk = { name: 'pbx', hosts: [], registrar: true, inboundUsername: 'acme', inboundPassword: 's3cret' } as unknown as TrunkConfig;
const other = { name: 'static', hosts: ['10.0.0.1:5060'], registrar: false, inboundUsername: 'static', inboundPassword: 'x' } as unknown as TrunkConfig;

function request(o: Partial<RegisterRequestInfo> & { aor?: string } = {}): RegisterRequestInfo {
  const aor = o.aor ?? 'sip:acme@gw.example';
  return {
    method: 'REGISTER',
    callId: 'reg-1',
    requestUri: 'sip:gw.example',
    from: { uri: aor },
    to: { uri: aor },
    source: { address: '192.0.2.7', port: 40123 },
    transport: 'udp',
    headers: {},
    contacts: [{ uri: 'sip:acme@10.1.1.1:5060' }],
    wildcard: false,
    ...o,
  } as RegisterRequestInfo;
}

describe('TrunkRegistrations (the gateway as registrar for PBX trunks)', () => {
  let now: number;
  let regs: TrunkRegistrations;

  beforeEach(() => {
    jest.useFakeTimers();
    now = 1_000_000;
    regs = new TrunkRegistrations({ logger: silentLogger(), now: () => now });
    regs.setTrunks([trunk, other]);
  });
  afterEach(() => {
    regs.close();
    jest.useRealTimers();
  });

  it('challenges the trunk user with its password and refuses addresses of record on no registrar trunk (404)', async () => {
    const decision = regs.authorize(request(), 'gw.example');
    expect(decision).toMatchObject({ action: 'digest', realm: 'gw.example' });
    if (decision.action !== 'digest') throw new Error('no digest');
    expect(await decision.password('acme')).toBe('s3cret');
    expect(await decision.password('someone')).toBeUndefined();
    expect(regs.authorize(request({ aor: 'sip:static@gw.example' }), 'gw.example')).toMatchObject({ action: 'reject', status: 404 });
  });

  it('binds the contact at the source address for the expiry asked (capped), and lets it lapse', () => {
    expect(regs.register(request({ expires: 600 }))).toEqual({ status: 200, bindings: [{ uri: 'sip:acme@10.1.1.1:5060', expires: 600 }] });
    expect(regs.binding('pbx')).toMatchObject({ contact: 'sip:acme@10.1.1.1:5060', source: { address: '192.0.2.7', port: 40123 }, expiresAt: now + 600_000 });
    expect(regs.register(request({ contacts: [{ uri: 'sip:acme@10.1.1.1:5060', expires: 99_999 }] }))).toMatchObject({ bindings: [{ expires: MAX_EXPIRES_S }] });
    now += MAX_EXPIRES_S * 1000 + 1;
    expect(regs.binding('pbx')).toBeUndefined(); // past its expiry even before the timer ran
    jest.advanceTimersByTime(MAX_EXPIRES_S * 1000 + 1);
    expect(regs.bindings()).toEqual([]);
  });

  it('answers 423 with Min-Expires below 60 s, and a query with the binding held', () => {
    expect(regs.register(request({ expires: 30 }))).toEqual({ status: 423, reason: 'Interval Too Brief', headers: { 'Min-Expires': '60' } });
    regs.register(request({ expires: 300 }));
    now += 100_000;
    expect(regs.register(request({ contacts: [] }))).toEqual({ status: 200, bindings: [{ uri: 'sip:acme@10.1.1.1:5060', expires: 200 }] });
  });

  it('replaces the binding on a REGISTER from a new address, and removes it with expires 0 or Contact: *', () => {
    regs.register(request({ expires: 300 }));
    regs.register(request({ expires: 300, source: { address: '198.51.100.9', port: 5060 }, contacts: [{ uri: 'sip:acme@198.51.100.9:5060' }] }));
    expect(regs.binding('pbx')?.source).toEqual({ address: '198.51.100.9', port: 5060 });
    expect(regs.register(request({ contacts: [{ uri: 'sip:acme@198.51.100.9:5060', expires: 0 }] }))).toEqual({ status: 200, bindings: [] });
    expect(regs.binding('pbx')).toBeUndefined();
    regs.register(request({ expires: 300 }));
    expect(regs.register(request({ wildcard: true, contacts: [], expires: 0 }))).toEqual({ status: 200, bindings: [] });
    expect(regs.binding('pbx')).toBeUndefined();
    expect(regs.register(request({ wildcard: true, contacts: [], expires: 60 }))).toMatchObject({ status: 400 });
  });

  it('drops the binding of a trunk that no longer takes registrations (config reload)', () => {
    regs.register(request({ expires: 300 }));
    regs.setTrunks([{ ...trunk, registrar: false } as TrunkConfig]);
    expect(regs.binding('pbx')).toBeUndefined();
    expect(regs.register(request())).toMatchObject({ status: 404 });
  });
});
