import type { SipMessage } from 'sip';
import { sipMessage } from '@wagw/testing';
import { grantedExpires } from './registration';

function ok(headers: string): SipMessage {
  const text = `SIP/2.0 200 OK\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\nFrom: <sip:gw@pbx>;tag=a\nTo: <sip:gw@pbx>;tag=b\nCall-ID: c1\nCSeq: 2 REGISTER\n${headers}Content-Length: 0\n\n`;
  return sipMessage(text);
}

describe('grantedExpires', () => {
  const ours = 'sip:gw@10.0.0.9:5080';

  it("takes our binding's expires among the AOR's bindings", () => {
    const rs = ok('Contact: <sip:gw@10.0.0.7:5080>;expires=3000\nContact: <sip:gw@10.0.0.9:5080>;expires=120\nExpires: 900\n');
    expect(grantedExpires(rs, 600, ours)).toBe(120);
  });

  it('matches our Contact whatever its parameters and case', () => {
    expect(grantedExpires(ok('Contact: <SIP:GW@10.0.0.9:5080;transport=udp>;expires=300\n'), 600, `${ours};transport=udp`)).toBe(300);
  });

  it('falls back to the Expires header, then to what was asked', () => {
    expect(grantedExpires(ok('Contact: <sip:gw@10.0.0.7:5080>;expires=3000\nExpires: 900\n'), 600, ours)).toBe(900);
    expect(grantedExpires(ok(''), 600, ours)).toBe(600);
    expect(grantedExpires(ok('Expires: soon\n'), 600, ours)).toBe(600);
  });

  describe('regressions found by registration.fuzz.spec.ts', () => {
    it('takes a grant longer than a day as a day, so the refresh timer does not fire at once and loop', () => {
      expect(grantedExpires(ok('Contact: <sip:gw@10.0.0.9:5080>;expires=4294967295\n'), 600, ours)).toBe(86_400);
      expect(grantedExpires(ok('Expires: 2592000\n'), 600, ours)).toBe(86_400);
      // more than 10 digits is no delta-seconds we read: what we asked
      expect(grantedExpires(ok('Contact: <sip:gw@10.0.0.9:5080>;expires=99999999999\n'), 600, ours)).toBe(600);
    });

    it('takes only delta-seconds, not hex or exponents', () => {
      expect(grantedExpires(ok('Contact: <sip:gw@10.0.0.9:5080>;expires=0x10\nExpires: 1e3\n'), 600, ours)).toBe(600);
    });
  });
});
