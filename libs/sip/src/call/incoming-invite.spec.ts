import { stringify } from 'sip';
import { makeResponse } from 'sip';
import { assertIncomingInviteSnapshot, inviteForResponse, type IncomingInviteSnapshot } from './incoming-invite';

const SNAPSHOT: IncomingInviteSnapshot = {
  via: [
    { version: '2.0', protocol: 'UDP', host: '10.0.0.9', port: 5060, params: { branch: 'z9hG4bKpbx1', received: '10.0.0.9', rport: '5062' } },
    { version: '2.0', protocol: 'UDP', host: '10.0.0.20', port: 5060, params: { branch: 'z9hG4bKphone' } },
  ],
  from: { name: '"Desk 1001"', uri: 'sip:1001@pbx.example.com', params: { tag: 'phone-tag' } },
  to: { uri: 'sip:15552223333@gw.example.com', params: { tag: 'our-tag' } },
  callId: 'abc@pbx',
  cseq: 3,
  source: { protocol: 'udp', address: '10.0.0.9', port: 5062 },
};

describe('incoming INVITE snapshots (another process answering a ringing PBX call)', () => {
  it('rebuilds what a final response copies: every Via in order, From, our To tag, Call-ID, the INVITE CSeq', () => {
    const back: unknown = JSON.parse(JSON.stringify(SNAPSHOT));
    assertIncomingInviteSnapshot(back);
    const wire = stringify(makeResponse(inviteForResponse(back), 503, 'Service Unavailable'));
    expect(wire).toMatch(/^SIP\/2\.0 503 Service Unavailable\r\n/);
    expect(wire).toMatch(/\r\nVia: SIP\/2\.0\/UDP 10\.0\.0\.9:5060;branch=z9hG4bKpbx1;received=10\.0\.0\.9;rport=5062\r\nVia: SIP\/2\.0\/UDP 10\.0\.0\.20:5060;branch=z9hG4bKphone\r\n/);
    expect(wire).toMatch(/\r\nTo: +<sip:15552223333@gw\.example\.com>;tag=our-tag\r\n/);
    expect(wire).toMatch(/\r\nCSeq: 3 INVITE\r\n/);
    expect(wire).toMatch(/\r\nCall-ID: abc@pbx\r\n/);
  });

  it('refuses a snapshot that lacks what a response needs, naming it', () => {
    const good = JSON.parse(JSON.stringify(SNAPSHOT)) as Record<string, unknown>;
    expect(() => assertIncomingInviteSnapshot({ ...good, via: [] })).toThrow(/via/);
    expect(() => assertIncomingInviteSnapshot({ ...good, via: [{ host: 'h', params: {} }] })).toThrow(/via branch/);
    expect(() => assertIncomingInviteSnapshot({ ...good, to: { uri: 'sip:x@y', params: {} } })).toThrow(/our tag/);
    expect(() => assertIncomingInviteSnapshot({ ...good, callId: '' })).toThrow(/callId/);
    expect(() => assertIncomingInviteSnapshot({ ...good, cseq: 0 })).toThrow(/cseq/);
    expect(() => assertIncomingInviteSnapshot({ ...good, source: { protocol: 'udp', address: '10.0.0.9', port: 0 } })).toThrow(/source/);
    expect(() => assertIncomingInviteSnapshot(null)).toThrow(/not an object/);
  });
});
