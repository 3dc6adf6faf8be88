import type { Env } from '@wagw/config';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SipStack } from '@wagw/sip';
import { silentLogger } from '@wagw/logging';
import { createSelfSignedCert, freeTcpUdpPort, startDnsmasq, type DnsmasqHandle } from '@wagw/testing';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';
import { e2eScope } from '../support/e2e-scope';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';
import { expectSippPassed, pbxTrunkEnv, runSippUac } from '../support/pbx-to-whatsapp';
import { SilentHost } from '../support/silent-host';

/**
 * A trunk configured as a domain (`hosts: [pbx.wagw.test]`), as SIP providers and hosted PBXs publish
 * themselves: the gateway looks up its SIP SRV records (RFC 3263) on a real DNS server (Debian's dnsmasq,
 * `pbx.dnsServers`), calls the targets in priority order (a silent first target, then a SIPp PBX that
 * answers) and takes INVITEs from the targets' addresses as the trunk's without an allowFrom list.
 */
const BUSINESS = '15550001111';
const USER = '15552228080';
const ZONE = 'wagw.test';
const DOMAIN = 'pbx.wagw.test';
/** SIPp's address: the SRV target's A record (the silent target is at 127.0.0.1). */
const PBX_ADDRESS = '127.0.0.3';

/** The trunk `pbx` of `env` with other fields. */
function withTrunk(env: Env, fields: Record<string, unknown>): Env {
  const [trunk] = JSON.parse(env['PBX_TRUNKS'] ?? '[]') as Record<string, unknown>[];
  return { ...env, PBX_TRUNKS: JSON.stringify([{ ...trunk, ...fields }]) };
}

async function trunkHostViews(s: Stack): Promise<{ host: string; srvDomain?: string }[]> {
  const res = await s.api('GET', '/v1/trunks');
  const [trunk] = (res.body as { trunks: { hosts: { host: string; srvDomain?: string }[] }[] }).trunks;
  return trunk?.hosts ?? [];
}

async function trunkHosts(s: Stack): Promise<string[]> {
  return (await trunkHostViews(s)).map((h) => h.host);
}

describe('a trunk given as a domain: its SIP SRV records', () => {
  const t = e2eScope<SippPbx>('wagw-trunk-srv-');
  let dns: DnsmasqHandle | undefined;
  let silent: SilentHost | undefined;

  afterEach(async () => {
    await dns?.stop();
    await silent?.close();
    dns = undefined;
    silent = undefined;
  });

  it("sends a user's call to the SRV targets in priority order, with the domain in the Request-URI and From", async () => {
    const silentPort = await freeTcpUdpPort();
    const first = (silent = await SilentHost.start(silentPort));
    const pbx = (t.pbx = await startSippPbx('uas-pbx-answers-expect-200.xml', { transport: 'udp', localHost: PBX_ADDRESS }));
    dns = await startDnsmasq({
      zone: ZONE,
      a: { [`sip-a.${ZONE}`]: '127.0.0.1', [`sip-b.${ZONE}`]: PBX_ADDRESS },
      srv: [
        { name: `_sip._udp.${DOMAIN}`, target: `sip-b.${ZONE}`, port: pbx.uas.port, priority: 20, weight: 10 },
        { name: `_sip._udp.${DOMAIN}`, target: `sip-a.${ZONE}`, port: silentPort, priority: 10, weight: 10 },
      ],
    });
    const env = withTrunk(trunkEnv(BUSINESS, DOMAIN, { transport: 'udp' }), { hosts: [DOMAIN], fromDomain: '', failoverTimeoutMs: 1000 });
    const s = (t.stack = await startStack({ name: 'trunk-srv', env: { ...env, PBX_DNS_SERVERS: JSON.stringify([dns.server]) } }));
    expect(await eventually('the trunk resolved to its SRV targets', async () => {
      const hosts = await trunkHosts(s);
      return hosts.length === 2 && hosts;
    })).toEqual([`sip-a.${ZONE}:${silentPort}`, `sip-b.${ZONE}:${pbx.uas.port}`]);
    expect(dns.queries().some((q) => q.includes(`_sip._udp.${DOMAIN}`))).toBe(true);
    expect((await trunkHostViews(s)).map((h) => h.srvDomain)).toEqual([DOMAIN, DOMAIN]);

    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Sam' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
    const call = await activeCall(s, waCallId);
    expect(call.destination).toBe(`sip:1001@${DOMAIN}`);
    // priority 10 first: the INVITE (and its UDP retransmission) until the failover timer gave up on it
    const toFirst = first.invites().map((r) => r.line);
    expect(toFirst.length).toBeGreaterThanOrEqual(1);
    expect(new Set(toFirst)).toEqual(new Set([`INVITE sip:1001@${DOMAIN} SIP/2.0`]));
    const invite = pbx.messages();
    expect(invite).toContain(`INVITE sip:1001@${DOMAIN} SIP/2.0`);
    expect(invite).toMatch(new RegExp(`^From:.*@${DOMAIN.replace(/\./g, '\\.')}>`, 'm'));

    await s.emu('POST', `/emulator/users/${USER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
    expectSippPassed(await pbx.result());
    expect(pbx.inviteCallIds()).toHaveLength(1);
  });

  it("over TLS calls an SRV target whose certificate names the domain alone (RFC 5922), keep-alives included", async () => {
    // the PBX: a SIP stack on the SRV target's address whose certificate names only the domain (as a provider's does)
    const domainCert = await createSelfSignedCert(t.dir, '127.0.0.1', DOMAIN);
    const gatewayCert = await createSelfSignedCert(t.dir);
    const tlsPort = await freeTcpUdpPort();
    const pbxStack = await SipStack.start({
      listen: { host: PBX_ADDRESS, udpPort: 0, tcpPort: 0, tls: { port: tlsPort, key: readFileSync(domainCert.key, 'utf8'), cert: readFileSync(domainCert.cert, 'utf8') } },
      logger: silentLogger(),
    });
    const requestUris: string[] = [];
    pbxStack.onInvite((call) => {
      requestUris.push(call.requestUri);
      call.answer(`v=0\r\no=pbx 1 1 IN IP4 ${PBX_ADDRESS}\r\ns=-\r\nc=IN IP4 ${PBX_ADDRESS}\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n`);
    });
    try {
      dns = await startDnsmasq({ zone: ZONE, a: { [`sip-b.${ZONE}`]: PBX_ADDRESS }, srv: [{ name: `_sips._tcp.${DOMAIN}`, target: `sip-b.${ZONE}`, port: tlsPort, priority: 10, weight: 10 }] });
      const env = withTrunk(trunkEnv(BUSINESS, DOMAIN, { transport: 'tcp' }), { hosts: [DOMAIN], transport: 'tls', fromDomain: '', optionsIntervalMs: 1000 });
      const s = (t.stack = await startStack({
        name: 'trunk-srv-tls',
        env: { ...env, PBX_DNS_SERVERS: JSON.stringify([dns.server]), PBX_TLS_PORT: String(await freeTcpUdpPort()), PBX_TLS_CERT_FILE: gatewayCert.cert, PBX_TLS_KEY_FILE: gatewayCert.key, PBX_TLS_CA_FILE: domainCert.cert },
      }));
      // the OPTIONS keep-alive over TLS passes the certificate check: the host comes up
      const up = await eventually('the SRV target up', async () => {
        const [host] = await trunkHostViews(s);
        return host && (host as { state?: string }).state === 'up' ? host : undefined;
      }, 20_000);
      expect(up).toMatchObject({ host: `sip-b.${ZONE}:${tlsPort}`, srvDomain: DOMAIN });
      expect(dns.queries().some((q) => q.includes(`_sips._tcp.${DOMAIN}`))).toBe(true);

      await s.emu('POST', '/emulator/users', { waId: USER, name: 'Sam' });
      const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${USER}/call`, {});
      const call = await activeCall(s, waCallId);
      expect(requestUris).toEqual([`sip:1001@${DOMAIN}`]);
      await s.emu('POST', `/emulator/users/${USER}/hangup`);
      expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa' });
    } finally {
      await pbxStack.close();
    }
  });

  it("takes INVITEs from the SRV target's address as the trunk's, and refuses other sources", async () => {
    dns = await startDnsmasq({ zone: ZONE, a: { [`sip-b.${ZONE}`]: PBX_ADDRESS }, srv: [{ name: `_sip._udp.${DOMAIN}`, target: `sip-b.${ZONE}`, port: 5060, priority: 10, weight: 10 }] });
    const base = pbxTrunkEnv({ sipPort: await freeTcpUdpPort(), host: DOMAIN, allowFrom: [], inboundUsername: 'pbx-in', inboundPassword: 'right-secret' });
    const env = withTrunk(base, { optionsIntervalMs: 0 });
    const s = (t.stack = await startStack({ name: 'trunk-srv-inbound', env: { ...env, PBX_DNS_SERVERS: JSON.stringify([dns.server]) } }));
    await s.emu('POST', '/emulator/users', { waId: USER, name: 'Sam' });
    await eventually('the trunk resolved to its SRV target', async () => (await trunkHosts(s)).includes(`sip-b.${ZONE}:5060`));

    // the target's address passes the allow-list: challenged, then the call logic answers 480 (no grant)
    const fromTarget = await runSippUac({ scenario: 'uac-auth-no-grant-expect-480.xml', gatewayPort: s.config.pbx.udpPort, service: USER, dir: t.dir, localHost: PBX_ADDRESS, auth: { user: 'pbx-in', password: 'right-secret' } });
    expectSippPassed(fromTarget);
    // any other source is on no trunk's allow-list
    const stranger = await runSippUac({ scenario: 'uac-not-allowed-expect-403.xml', gatewayPort: s.config.pbx.udpPort, service: USER, dir: t.dir, localHost: '127.0.0.2' });
    expectSippPassed(stranger);
  });

  it('resolves the trunk with the DNS servers a configuration reload gives (pbx.dnsServers), at once', async () => {
    const srvOf = (target: string, port: number) => [{ name: `_sip._udp.${DOMAIN}`, target, port, priority: 10, weight: 10 }];
    dns = await startDnsmasq({ zone: ZONE, a: { [`sip-a.${ZONE}`]: '127.0.0.1' }, srv: srvOf(`sip-a.${ZONE}`, 5555) });
    const other = await startDnsmasq({ zone: ZONE, a: { [`sip-b.${ZONE}`]: PBX_ADDRESS }, srv: srvOf(`sip-b.${ZONE}`, 6666) });
    try {
      const file = join(t.dir, 'site.yaml');
      writeFileSync(file, `pbx:\n  dnsServers: ${JSON.stringify([dns.server])}\n`);
      const env = withTrunk(trunkEnv(BUSINESS, DOMAIN, { transport: 'udp' }), { hosts: [DOMAIN], fromDomain: '', optionsIntervalMs: 0 });
      const s = (t.stack = await startStack({ name: 'trunk-srv-reload', env: { ...env, CONFIG_FILE: file } }));
      expect(await eventually('the trunk resolved by the first server', async () => ((await trunkHosts(s)).includes(`sip-a.${ZONE}:5555`) ? true : undefined))).toBe(true);

      writeFileSync(file, `pbx:\n  dnsServers: ${JSON.stringify([other.server])}\n`);
      const reload = await s.api('POST', '/v1/admin/reload');
      expect(reload).toMatchObject({ status: 200, body: { applied: ['pbx.dnsServers'], restartNeeded: [] } });
      // resolved again now (pbx.dnsRefreshS is minutes away), by the new server
      expect(await eventually('the trunk resolved by the new server', async () => {
        const hosts = await trunkHosts(s);
        return hosts.length === 1 && hosts[0] === `sip-b.${ZONE}:6666` ? hosts : undefined;
      }, 5000)).toEqual([`sip-b.${ZONE}:6666`]);
      expect(other.queries().some((q) => q.includes(`_sip._udp.${DOMAIN}`))).toBe(true);
    } finally {
      await other.stop();
    }
  });
});
