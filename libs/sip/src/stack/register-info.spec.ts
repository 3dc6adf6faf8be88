import { parse, type SipMessage } from 'sip';
import { registerInfo } from './incoming-request-router';

const REMOTE = { protocol: 'udp' as const, address: '192.0.2.7', port: 40123 };

function register(headers: string): SipMessage {
  const m = parse(
    ['REGISTER sip:gw.example SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.7:40123;branch=z9hG4bK1', 'From: <sip:acme@gw.example>;tag=1', 'To: <sip:acme@gw.example>', 'Call-ID: r1', 'CSeq: 1 REGISTER', headers, 'Content-Length: 0', '', ''].join('\r\n'),
  );
  if (!m) throw new Error('unparseable test message');
  return m;
}

describe('registerInfo (REGISTER as the registrar sees it)', () => {
  it('reads contacts with their expires parameters, the Expires header and the source', () => {
    const info = registerInfo(register('Contact: <sip:acme@10.1.1.1:5060>;expires=120, <sip:acme@10.1.1.2>\r\nExpires: 600'), REMOTE);
    expect(info).toMatchObject({
      method: 'REGISTER',
      to: { uri: 'sip:acme@gw.example' },
      contacts: [{ uri: 'sip:acme@10.1.1.1:5060', expires: 120 }, { uri: 'sip:acme@10.1.1.2' }],
      wildcard: false,
      expires: 600,
      source: { address: '192.0.2.7', port: 40123 },
      transport: 'udp',
    });
  });

  it('reads Contact: * as the wildcard, a query without Contact, and ignores an unusable Expires', () => {
    expect(registerInfo(register('Contact: *\r\nExpires: 0'), REMOTE)).toMatchObject({ contacts: [], wildcard: true, expires: 0 });
    const query = registerInfo(register('Expires: soon'), REMOTE);
    expect(query).toMatchObject({ contacts: [], wildcard: false });
    expect(query.expires).toBeUndefined();
  });

  describe('regressions found by register-info.fuzz.spec.ts', () => {
    it('ignores an empty Expires and a valueless expires parameter instead of reading 0 (remove the binding)', () => {
      const info = registerInfo(register('Contact: <sip:acme@10.1.1.1:5060>;expires, <sip:acme@10.1.1.2>;expires=-0\r\nExpires:'), REMOTE);
      expect(info.contacts).toEqual([{ uri: 'sip:acme@10.1.1.1:5060' }, { uri: 'sip:acme@10.1.1.2' }]);
      expect(info.expires).toBeUndefined();
    });

    it('takes only delta-seconds: not 1e3, 0x10, 1.0 or more than 10 digits', () => {
      expect(registerInfo(register('Contact: <sip:acme@10.1.1.1>;expires=1e3\r\nExpires: 0x10'), REMOTE)).toMatchObject({ contacts: [{ uri: 'sip:acme@10.1.1.1' }] });
      expect(registerInfo(register('Expires: 1.0'), REMOTE).expires).toBeUndefined();
      expect(registerInfo(register(`Contact: <sip:acme@10.1.1.1>;expires=${'9'.repeat(400)}`), REMOTE).contacts).toEqual([{ uri: 'sip:acme@10.1.1.1' }]);
      expect(registerInfo(register('Expires: 4294967295 '), REMOTE).expires).toBe(4294967295);
    });

    it('reads a REGISTER whose From user has a broken %-escape instead of throwing URIError', () => {
      const m = parse(
        ['REGISTER sip:gw.example SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.7:40123;branch=z9hG4bK1', 'From: <sip:acme%@gw.example>;tag=1>', 'To: <sip:acme@gw.example>', 'Call-ID: r1', 'CSeq: 1 REGISTER', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      if (!m) throw new Error('unparseable test message');
      expect(registerInfo(m, REMOTE).from).toMatchObject({ user: 'acme%', host: 'gw.example' });
    });
  });
});
