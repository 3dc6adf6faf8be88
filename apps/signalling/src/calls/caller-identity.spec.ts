import { pbxCallerIdentity } from './caller-identity';

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
});
