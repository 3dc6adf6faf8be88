import type { SipMessage } from 'sip';
import { sipMessage } from '@wagw/testing';
import { redirectTargets, sameHostPort } from './outbound-call';

function moved(contacts: string): SipMessage {
  const text = `SIP/2.0 302 Moved Temporarily\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\nFrom: <sip:gw@10.0.0.1>;tag=a\nTo: <sip:1001@pbx>;tag=b\nCall-ID: c1\nCSeq: 1 INVITE\n${contacts}Content-Length: 0\n\n`;
  return sipMessage(text);
}

describe('redirectTargets', () => {
  it('lists the SIP Contacts by q, highest first and in their order among equals, without their header parts', () => {
    expect(redirectTargets(moved('Contact: <sip:3003@pbx>;q=0.5, <sip:2002@pbx:5070>;q=0.9\n'))).toEqual(['sip:2002@pbx:5070', 'sip:3003@pbx']);
    expect(redirectTargets(moved('Contact: <sip:a@pbx>\nContact: <sip:b@pbx>\n'))).toEqual(['sip:a@pbx', 'sip:b@pbx']);
    expect(redirectTargets(moved('Contact: <sip:+15551234567@pbx;user=phone?X-Fwd=1>\n'))).toEqual(['sip:+15551234567@pbx;user=phone']);
    expect(redirectTargets(moved('Contact: <sip:c@pbx>;q=0.1, <sip:a@pbx>, <sip:b@pbx>;q=0.7, <tel:+1555>;q=1\n'))).toEqual(['sip:a@pbx', 'sip:b@pbx', 'sip:c@pbx']);
  });

  it('lists a Contact given twice once', () => {
    expect(redirectTargets(moved('Contact: <sip:a@pbx>;q=0.9, <sip:b@pbx>;q=0.5, <sip:a@pbx?X=1>;q=0.1\n'))).toEqual(['sip:a@pbx', 'sip:b@pbx']);
  });

  it('finds nothing usable without a Contact or with only non-SIP ones', () => {
    expect(redirectTargets(moved(''))).toEqual([]);
    expect(redirectTargets(moved('Contact: <tel:+15551234567>\n'))).toEqual([]);
    expect(redirectTargets(moved('Contact: <mailto:agent@example.com>\n'))).toEqual([]);
  });
});

describe('sameHostPort', () => {
  it('compares host and port, with the default port of the scheme', () => {
    expect(sameHostPort('sip:2002@PBX.example:5060', 'sip:1001@pbx.example')).toBe(true);
    expect(sameHostPort('sip:2002@pbx.example:5070', 'sip:1001@pbx.example')).toBe(false);
    expect(sameHostPort('sip:2002@evil.example', 'sip:1001@pbx.example')).toBe(false);
    expect(sameHostPort('sips:2002@pbx.example', 'sip:1001@pbx.example:5061')).toBe(true);
    expect(sameHostPort('sip:2002@[::1]:5080;transport=tcp', 'sip:1001@[::1]:5080')).toBe(true);
    expect(sameHostPort('nonsense', 'sip:1001@pbx.example')).toBe(false);
  });
});
