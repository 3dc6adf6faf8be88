import { DnsLookupError, SipDns, srvOrder, type DnsQueries } from './sip-dns';

type Srv = Awaited<ReturnType<DnsQueries['resolveSrv']>>[number];
const srv = (name: string, port: number, priority: number, weight: number): Srv => ({ name, port, priority, weight });
const dnsError = (code: string): Error => Object.assign(new Error(`query failed ${code}`), { code });

/** A DNS with fixed records; records of a name absent: NXDOMAIN. */
function fakeDns(records: { srv?: Record<string, Srv[] | Error>; a?: Record<string, string[]> }): DnsQueries & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolveSrv: async (name) => {
      asked.push(name);
      const r = records.srv?.[name];
      if (r instanceof Error) throw r;
      if (!r) throw dnsError('ENOTFOUND');
      return r;
    },
    resolve4: async (name) => {
      asked.push(name);
      const r = records.a?.[name];
      if (!r) throw dnsError('ENOTFOUND');
      return r;
    },
  };
}

describe('srvOrder (RFC 2782)', () => {
  it('orders by priority first, whatever the weights', () => {
    const out = srvOrder([srv('c', 1, 30, 100), srv('a', 1, 10, 0), srv('b', 1, 20, 50)], () => 0.99);
    expect(out.map((r) => r.name)).toEqual(['a', 'b', 'c']);
  });

  it('picks within a priority in proportion to weight', () => {
    const records = [srv('heavy', 1, 10, 90), srv('light', 1, 10, 10)];
    let seed = 1;
    const random = (): number => {
      seed = (seed * 16807) % 2147483647; // a fixed pseudo-random sequence
      return (seed - 1) / 2147483646;
    };
    let heavyFirst = 0;
    for (let i = 0; i < 2000; i++) if (srvOrder(records, random)[0]?.name === 'heavy') heavyFirst++;
    expect(heavyFirst / 2000).toBeGreaterThan(0.85);
    expect(heavyFirst / 2000).toBeLessThan(0.95);
  });

  it('keeps every record once, zero weights included', () => {
    const out = srvOrder([srv('z', 1, 5, 0), srv('y', 1, 5, 0), srv('x', 1, 5, 3)], () => 0);
    expect(out.map((r) => r.name).sort()).toEqual(['x', 'y', 'z']);
    expect(out[0]?.name).not.toBe('x'); // random 0 picks a weight-0 record first (they lead the running sum)
  });
});

describe('SipDns', () => {
  it('asks _sip._udp, _sip._tcp or _sips._tcp by transport and returns the targets in order', async () => {
    const queries = fakeDns({
      srv: {
        '_sip._udp.example.com': [srv('b.example.com', 5070, 20, 1), srv('a.example.com', 5060, 10, 1)],
        '_sips._tcp.example.com': [srv('tls.example.com', 5061, 10, 1)],
      },
    });
    const dns = new SipDns({ queries });
    expect(await dns.srv('example.com', 'udp')).toEqual([
      { host: 'a.example.com', port: 5060 },
      { host: 'b.example.com', port: 5070 },
    ]);
    expect(await dns.srv('example.com', 'tls')).toEqual([{ host: 'tls.example.com', port: 5061 }]);
    expect(await dns.srv('example.com', 'tcp')).toEqual([]); // NXDOMAIN: none published
    expect(queries.asked).toEqual(['_sip._udp.example.com', '_sips._tcp.example.com', '_sip._tcp.example.com']);
  });

  it('takes "no such record" as none, and throws with the code when DNS itself fails', async () => {
    const dns = new SipDns({ queries: fakeDns({ srv: { '_sip._udp.nodata.example': dnsError('ENODATA'), '_sip._udp.down.example': dnsError('ETIMEOUT') } }) });
    expect(await dns.srv('nodata.example', 'udp')).toEqual([]);
    await expect(dns.srv('down.example', 'udp')).rejects.toMatchObject({ name: 'DnsLookupError', code: 'ETIMEOUT' });
  });

  it('drops the "." target (service decidedly not available) and targets on port 0', async () => {
    const dns = new SipDns({ queries: fakeDns({ srv: { '_sip._udp.none.example': [srv('.', 0, 0, 0)], '_sip._udp.some.example': [srv('zero.example', 0, 10, 1), srv('ok.example', 5070, 20, 1)] } }) });
    expect(await dns.srv('none.example', 'udp')).toEqual([]);
    expect(await dns.srv('some.example', 'udp')).toEqual([{ host: 'ok.example', port: 5070 }]);
  });

  it('resolves names to their first A record and returns addresses as they are', async () => {
    const dns = new SipDns({ queries: fakeDns({ a: { 'pbx.example.com': ['192.0.2.1', '192.0.2.2'] } }) });
    expect(await dns.address('pbx.example.com')).toBe('192.0.2.1');
    expect(await dns.address('198.51.100.9')).toBe('198.51.100.9');
    const err = await dns.address('missing.example.com').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DnsLookupError);
    expect(err).toMatchObject({ code: 'ENOTFOUND', message: expect.stringMatching(/^cannot resolve missing\.example\.com/) });
  });

  it('uses the system resolver without servers (localhost from /etc/hosts)', async () => {
    expect(await new SipDns().address('localhost')).toMatch(/^127\./);
  });
});
