import type { SipMessage } from 'sip';
import { parseReferTo, referToUri } from './refer-to';

describe('Refer-To (RFC 3515, with Replaces: RFC 3891)', () => {
  it('takes a plain target as a blind transfer', () => {
    expect(parseReferTo('sip:1002@pbx.example.com')).toEqual({ uri: 'sip:1002@pbx.example.com' });
    expect(parseReferTo('sips:1002@pbx.example.com;transport=tls')).toEqual({ uri: 'sips:1002@pbx.example.com;transport=tls' });
  });

  it('splits an escaped Replaces header off the URI (attended transfer)', () => {
    const uri = 'sip:1002@pbx.example.com?Replaces=a84b4c76e66710%40pc33.example.com%3Bto-tag%3D1928301774%3Bfrom-tag%3D314159';
    expect(parseReferTo(uri)).toEqual({ uri: 'sip:1002@pbx.example.com', replaces: 'a84b4c76e66710@pc33.example.com;to-tag=1928301774;from-tag=314159' });
    // case of the header name, other embedded headers, early-only
    expect(parseReferTo('sip:1002@h?Require=replaces&replaces=x%3Bfrom-tag%3D1%3Bto-tag%3D2%3Bearly-only')).toEqual({ uri: 'sip:1002@h', replaces: 'x;from-tag=1;to-tag=2;early-only' });
    expect(parseReferTo('sip:1002@h?Subject=hello')).toEqual({ uri: 'sip:1002@h' });
  });

  it.each([
    ['tel:+15551234', 'not a SIP URI'],
    ['sip:1002@h?Replaces=abc%3Bto-tag%3D1', 'without call-id, to-tag and from-tag'],
    ['sip:1002@h?Replaces=%3Bto-tag%3D1%3Bfrom-tag%3D2', 'without call-id'],
    ['sip:1002@h?Replaces=abc%ZZ', 'badly escaped'],
    // found by the hostile-input e2e: accepted with 202, then the transfer's INVITE threw TypeError
    ['sip:@127.0.0.1:16582', 'not a SIP URI with a host'],
    ['sip:1002@', 'not a SIP URI with a host'],
    ['sip:', 'not a SIP URI with a host'],
  ])('refuses %s (%s)', (uri, why) => {
    expect(parseReferTo(uri)).toEqual(expect.stringContaining(why));
  });

  it('reads the URI from a parsed name-addr or a compact header', () => {
    const parsed = { method: 'REFER', uri: 'sip:gw', headers: { 'refer-to': { uri: 'sip:1002@h?Replaces=c%3Bto-tag%3D1%3Bfrom-tag%3D2', params: {} } } } as unknown as SipMessage;
    expect(referToUri(parsed)).toBe('sip:1002@h?Replaces=c%3Bto-tag%3D1%3Bfrom-tag%3D2');
    const compact = { method: 'REFER', uri: 'sip:gw', headers: { r: '<sip:1002@h>;x=1' } } as unknown as SipMessage;
    expect(referToUri(compact)).toBe('sip:1002@h');
  });
});
