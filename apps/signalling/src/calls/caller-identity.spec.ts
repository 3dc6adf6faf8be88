import { headerSafePayload, pbxCallerIdentity } from './caller-identity';

const trunk = { fromUser: '', fromDomain: 'pbx.example.com', hosts: ['10.0.0.5:5060'], assertIdentity: false };
const rec = { userWaId: '15552223333', userName: 'Ana', waCallId: 'wacid.1' };

describe('pbxCallerIdentity', () => {
  it('calls as the WhatsApp user with the headers naming the WhatsApp call, and no P-Asserted-Identity by default', () => {
    expect(pbxCallerIdentity(rec, trunk)).toEqual({
      caller: { user: '15552223333', displayName: 'Ana' },
      headers: { 'X-WA-Call-Id': 'wacid.1', 'X-WA-User': '15552223333' },
    });
    expect(pbxCallerIdentity(rec, { ...trunk, fromUser: 'gw' }).caller.user).toBe('gw');
  });

  it('asserts the user as +E.164 on the trunk domain when the trunk says so (RFC 3325), quoting the name safely', () => {
    expect(pbxCallerIdentity(rec, { ...trunk, assertIdentity: true }).headers['P-Asserted-Identity']).toBe('"Ana" <sip:+15552223333@pbx.example.com;user=phone>');
    const odd = pbxCallerIdentity({ ...rec, userName: 'A "B" \\ C\r\n' }, { ...trunk, fromDomain: '', assertIdentity: true });
    expect(odd.headers['P-Asserted-Identity']).toBe('"A \\"B\\" \\\\ C" <sip:+15552223333@10.0.0.5;user=phone>');
    expect(pbxCallerIdentity({ waCallId: 'wacid.2' }, { ...trunk, assertIdentity: true }).headers['P-Asserted-Identity']).toBeUndefined();
  });

  it('names the call button or deep link the call came from, with its payload made header-safe', () => {
    expect(pbxCallerIdentity({ ...rec, entryPoint: 'call_button', entryPayload: 'queue=billing' }, trunk).headers).toEqual({
      'X-WA-Call-Id': 'wacid.1',
      'X-WA-User': '15552223333',
      'X-WA-Entry-Point': 'call_button',
      'X-WA-Entry-Payload': 'queue=billing',
    });
    const link = pbxCallerIdentity({ ...rec, entryPoint: 'deep_link', entryPayload: 'promo 50%\r\nVia: evil' }, trunk).headers;
    expect(link['X-WA-Entry-Point']).toBe('deep_link');
    expect(link['X-WA-Entry-Payload']).toBe('promo%2050%25%0D%0AVia:%20evil');
    expect(pbxCallerIdentity({ ...rec, entryPoint: 'deep_link' }, trunk).headers['X-WA-Entry-Payload']).toBeUndefined();
    expect(pbxCallerIdentity(rec, trunk).headers['X-WA-Entry-Point']).toBeUndefined();
  });
});

describe('headerSafePayload', () => {
  it('keeps visible ASCII and percent-encodes space, %, controls and non-ASCII as UTF-8', () => {
    expect(headerSafePayload('queue=billing&lang=en;x,y"z\\')).toBe('queue=billing&lang=en;x,y"z\\');
    expect(headerSafePayload('café ☎\t%')).toBe('caf%C3%A9%20%E2%98%8E%09%25');
    expect(headerSafePayload('😀')).toBe('%F0%9F%98%80');
  });
});
