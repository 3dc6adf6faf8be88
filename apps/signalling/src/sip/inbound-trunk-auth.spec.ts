import type { InboundRequestInfo } from '@wagw/sip';
import { authorizeInvite, ipMatches, trunkForSource } from './inbound-trunk-auth';
import { trunkSchema } from '@wagw/config';
import type { TrunkConfig } from './trunk-directory';

/** A trunk as the config schema completes it (defaults for the keys not given). */
const trunk = (over: Partial<TrunkConfig>): TrunkConfig =>
  trunkSchema.parse({
    name: 'pbx',
    hosts: ['10.0.0.5:5060'],
    transport: 'udp',
    username: '',
    password: '',
    fromUser: '',
    fromDomain: '',
    codecs: ['PCMU'],
    allowFrom: [],
    ...over,
  });

const req = (address: string): InboundRequestInfo => ({
  method: 'INVITE',
  callId: 'c1',
  requestUri: 'sip:15551234567@gw',
  from: { uri: 'sip:1001@pbx', host: 'pbx' },
  to: { uri: 'sip:15551234567@gw', host: 'gw' },
  source: { address, port: 5060 },
  transport: 'udp',
  headers: {},
});

describe('inbound INVITE authorisation', () => {
  it('matches addresses and CIDRs', () => {
    expect(ipMatches('10.0.0.5', '10.0.0.5')).toBe(true);
    expect(ipMatches('10.0.0.0/24', '10.0.0.77')).toBe(true);
    expect(ipMatches('10.0.0.0/24', '10.0.1.1')).toBe(false);
    expect(ipMatches('0.0.0.0/0', '192.168.1.1')).toBe(true);
    expect(ipMatches('10.0.0.0/33', '10.0.0.1')).toBe(false);
  });

  it('falls back to the trunk hosts when allowFrom is empty', () => {
    expect(trunkForSource([trunk({})], '10.0.0.5')?.name).toBe('pbx');
    expect(trunkForSource([trunk({ allowFrom: ['192.0.2.0/24'] })], '10.0.0.5')).toBeUndefined();
  });

  it('refuses an address on no allow-list with 403 and a Warning naming it', () => {
    const d = authorizeInvite([trunk({})], req('127.0.0.2'), 'gw.example');
    expect(d).toMatchObject({ action: 'reject', status: 403 });
    expect(d.action === 'reject' && d.headers?.['Warning']).toContain('127.0.0.2');
  });

  it('challenges when the trunk has inbound credentials, and knows only that user', async () => {
    const d = authorizeInvite([trunk({ inboundUsername: 'pbx', inboundPassword: 's3cret' })], req('10.0.0.5'), 'gw.example');
    expect(d).toMatchObject({ action: 'digest', realm: 'gw.example', proxy: true });
    if (d.action !== 'digest') throw new Error('expected digest');
    expect(await d.password('pbx')).toBe('s3cret');
    expect(await d.password('other')).toBeUndefined();
  });

  it('accepts an allowed source without credentials configured', () => {
    expect(authorizeInvite([trunk({})], req('10.0.0.5'), 'gw')).toEqual({ action: 'accept' });
  });

  it('takes INVITEs of a registrar trunk from where its PBX registered, and from nowhere else', () => {
    const reg = trunk({ name: 'reg', hosts: [], registrar: true, inboundUsername: 'acme', inboundPassword: 's3cret' });
    const registeredAt = { registeredSource: (t: TrunkConfig): string | undefined => (t.name === 'reg' ? '192.0.2.7' : undefined), hostAddresses: () => [] };
    expect(trunkForSource([reg], '192.0.2.7', registeredAt)?.name).toBe('reg');
    expect(trunkForSource([reg], '192.0.2.8', registeredAt)).toBeUndefined();
    expect(trunkForSource([reg], '192.0.2.7')).toBeUndefined(); // not registered
    expect(authorizeInvite([reg], req('192.0.2.7'), 'gw', registeredAt)).toMatchObject({ action: 'digest', proxy: true });
  });

  it("takes a trunk's INVITEs from the addresses its host names resolve to (SRV targets included), without allowFrom", () => {
    const named = trunk({ name: 'named', hosts: ['example.com'] });
    const resolved = { registeredSource: () => undefined, hostAddresses: (t: TrunkConfig) => (t.name === 'named' ? ['192.0.2.10', '192.0.2.11'] : []) };
    expect(trunkForSource([named], '192.0.2.11', resolved)?.name).toBe('named');
    expect(trunkForSource([named], '192.0.2.12', resolved)).toBeUndefined();
    expect(trunkForSource([named], '192.0.2.11')).toBeUndefined(); // a name is no address
    // an allowFrom list still decides alone
    expect(trunkForSource([trunk({ name: 'named', hosts: ['example.com'], allowFrom: ['198.51.100.1'] })], '192.0.2.11', resolved)).toBeUndefined();
  });
});

describe('trunk schema: registrar trunks', () => {
  it('needs hosts unless the PBX registers, and inbound credentials when it does', () => {
    expect(() => trunk({ hosts: [] })).toThrow(/at least one host:port \(or registrar: true/);
    expect(() => trunk({ hosts: [], registrar: true })).toThrow(/registrar: true needs inboundUsername and inboundPassword/);
    expect(trunk({ hosts: [], registrar: true, inboundUsername: 'acme', inboundPassword: 'x' }).registrar).toBe(true);
    expect(trunk({}).registrar).toBe(false);
  });
});
