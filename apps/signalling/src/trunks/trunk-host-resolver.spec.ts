import { silentLogger } from '@wagw/logging';
import { DnsLookupError, type SrvTarget, type TransportProtocol } from '@wagw/sip';
import type { TrunkConfig } from '../sip/trunk-directory';
import { configuredHosts, TrunkHostResolver, type TrunkDns } from './trunk-host-resolver';

function trunk(over: Partial<TrunkConfig> = {}): TrunkConfig {
  return { name: 'pbx', hosts: ['example.com'], transport: 'udp', allowFrom: [], registrar: false, ...over } as TrunkConfig;
}

/** DNS whose SRV and A answers the test sets (and changes); a name without an answer: none published. */
class FakeDns implements TrunkDns {
  srvAnswers = new Map<string, SrvTarget[] | Error>();
  aAnswers = new Map<string, string | Error>();
  readonly asked: string[] = [];

  async srv(domain: string, transport: TransportProtocol): Promise<SrvTarget[]> {
    this.asked.push(`SRV ${transport} ${domain}`);
    const r = this.srvAnswers.get(domain);
    if (r instanceof Error) throw r;
    return r ?? [];
  }

  async address(host: string): Promise<string> {
    this.asked.push(`A ${host}`);
    const r = this.aAnswers.get(host);
    if (r instanceof Error) throw r;
    if (r === undefined) throw new DnsLookupError(`cannot resolve ${host}: ENOTFOUND`, 'ENOTFOUND');
    return r;
  }
}

function resolver(dns: FakeDns, onChange: () => void = () => undefined): TrunkHostResolver {
  return new TrunkHostResolver({ dns, logger: silentLogger(), refreshMs: 60_000, onChange });
}

afterEach(() => jest.useRealTimers());

describe('configuredHosts (before DNS)', () => {
  it('adds the default port to entries without one and lists address literals', () => {
    expect(configuredHosts(trunk({ hosts: ['example.com', '192.0.2.1:5070', '192.0.2.2'] }))).toMatchObject({
      hosts: ['example.com:5060', '192.0.2.1:5070', '192.0.2.2:5060'],
      addresses: ['192.0.2.1', '192.0.2.2'],
    });
    expect(configuredHosts(trunk({ hosts: ['example.com'], transport: 'tls' })).hosts).toEqual(['example.com:5061']);
  });
});

describe('TrunkHostResolver', () => {
  it('expands a bare domain into its SRV targets in order, and resolves their addresses', async () => {
    const dns = new FakeDns();
    dns.srvAnswers.set('example.com', [
      { host: 'a.example.com', port: 5060 },
      { host: 'b.example.com', port: 5070 },
    ]);
    dns.aAnswers.set('a.example.com', '192.0.2.1').set('b.example.com', '192.0.2.2');
    const onChange = jest.fn();
    const r = resolver(dns, onChange);
    const t = trunk({ hosts: ['example.com', '198.51.100.1:5060'] });
    expect(r.resolved(t).hosts).toEqual(['example.com:5060', '198.51.100.1:5060']); // not resolved yet
    await r.setTrunks([t]);
    const got = r.resolved(t);
    expect(got.hosts).toEqual(['a.example.com:5060', 'b.example.com:5070', '198.51.100.1:5060']);
    expect(got.addresses).toEqual(['192.0.2.1', '192.0.2.2', '198.51.100.1']);
    expect(got.srvDomain.get('b.example.com:5070')).toBe('example.com');
    expect(got.srvDomain.has('198.51.100.1:5060')).toBe(false);
    expect(onChange).toHaveBeenCalledTimes(1);
    expect(dns.asked).toContain('SRV udp example.com');
    r.stop();
  });

  it('uses the domain itself on the default port when it publishes no SRV, and resolves host:port names', async () => {
    const dns = new FakeDns();
    dns.aAnswers.set('example.com', '192.0.2.9').set('pbx.example.net', '192.0.2.10');
    const r = resolver(dns);
    const t = trunk({ hosts: ['example.com', 'pbx.example.net:5080'], transport: 'tcp' });
    await r.setTrunks([t]);
    expect(r.resolved(t)).toMatchObject({ hosts: ['example.com:5060', 'pbx.example.net:5080'], addresses: ['192.0.2.9', '192.0.2.10'] });
    expect(dns.asked).toEqual(['SRV tcp example.com', 'A example.com', 'A pbx.example.net']);
    r.stop();
  });

  it('asks DNS nothing for trunks of addresses only, and does not report them as changed', async () => {
    const dns = new FakeDns();
    const onChange = jest.fn();
    const r = resolver(dns, onChange);
    const t = trunk({ hosts: ['192.0.2.1:5060'] });
    await r.setTrunks([t]);
    expect(dns.asked).toEqual([]);
    expect(onChange).not.toHaveBeenCalled();
    expect(r.resolved(t).addresses).toEqual(['192.0.2.1']);
    r.stop();
  });

  it('resolves again every refreshMs, reports new targets, and keeps the old ones while DNS fails', async () => {
    jest.useFakeTimers();
    const dns = new FakeDns();
    dns.srvAnswers.set('example.com', [{ host: 'a.example.com', port: 5060 }]);
    dns.aAnswers.set('a.example.com', '192.0.2.1').set('c.example.com', '192.0.2.3');
    const onChange = jest.fn();
    const r = resolver(dns, onChange);
    const t = trunk();
    await r.setTrunks([t]);
    expect(onChange).toHaveBeenCalledTimes(1);

    dns.srvAnswers.set('example.com', [{ host: 'c.example.com', port: 5062 }]);
    await jest.advanceTimersByTimeAsync(60_000);
    expect(r.resolved(t)).toMatchObject({ hosts: ['c.example.com:5062'], addresses: ['192.0.2.3'] });
    expect(onChange).toHaveBeenCalledTimes(2);

    dns.srvAnswers.set('example.com', new DnsLookupError('SRV lookup failed: ETIMEOUT', 'ETIMEOUT'));
    dns.aAnswers.set('c.example.com', new DnsLookupError('cannot resolve c.example.com: ETIMEOUT', 'ETIMEOUT'));
    await jest.advanceTimersByTimeAsync(60_000);
    expect(r.resolved(t)).toMatchObject({ hosts: ['c.example.com:5062'], addresses: ['192.0.2.3'] }); // kept
    expect(onChange).toHaveBeenCalledTimes(2);

    r.stop();
    dns.asked.length = 0;
    await jest.advanceTimersByTimeAsync(120_000);
    expect(dns.asked).toEqual([]); // stopped: no more lookups
  });

  it('forgets what a trunk resolved to once its hosts change (a config reload)', async () => {
    const dns = new FakeDns();
    dns.srvAnswers.set('example.com', [{ host: 'a.example.com', port: 5060 }]);
    const r = resolver(dns);
    await r.setTrunks([trunk()]);
    expect(r.resolved(trunk()).hosts).toEqual(['a.example.com:5060']);
    const changed = trunk({ hosts: ['example.org'] });
    expect(r.resolved(changed).hosts).toEqual(['example.org:5060']);
    expect(r.resolved(trunk({ transport: 'tls' })).hosts).toEqual(['example.com:5061']); // another transport, other SRV
    r.stop();
  });

  it('a resolution overtaken by newer trunks is dropped', async () => {
    const dns = new FakeDns();
    dns.srvAnswers.set('example.com', [{ host: 'old.example.com', port: 5060 }]);
    const r = resolver(dns);
    const first = r.setTrunks([trunk()]);
    dns.srvAnswers.set('example.com', [{ host: 'new.example.com', port: 5060 }]);
    const second = r.setTrunks([trunk()]);
    await Promise.all([first, second]);
    expect(r.resolved(trunk()).hosts).toEqual(['new.example.com:5060']);
    r.stop();
  });
});
