import { findConfigDir, loadConfig, type AppConfig, type Env } from '@wagw/config';
import { silentLogger } from '@wagw/logging';
import { TrunkDirectory } from '../sip/trunk-directory';
import type { SipStackService } from '../sip/sip-stack.service';
import type { TrunkHealthService } from '../trunks/trunk-health.service';
import { planReload } from './config-reload';
import { ConfigReloadRefusedError, ConfigReloadService } from './config-reload.service';

const trunk = { name: 'pbx', hosts: ['127.0.0.1:5060'], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU'], allowFrom: [] };
const route = (uri: string) => ({ businessNumber: '15550001111', destinations: [{ uri, trunk: 'pbx', ringTimeoutMs: 20000 }], onFailure: 'reject' });

function load(env: Env): Readonly<AppConfig> {
  return loadConfig({ env, configDir: findConfigDir() });
}

const bootEnv: Env = { PBX_TRUNKS: JSON.stringify([trunk]), PBX_ROUTES: JSON.stringify([route('sip:1001@pbx')]), SIGNALLING_API_TOKEN: 'a-very-secret-token-123' };

describe('planReload', () => {
  it('applies changed trunks/routes and reports other changed keys as restart needed, by path only', () => {
    const boot = load(bootEnv);
    const next = load({ ...bootEnv, PBX_ROUTES: JSON.stringify([route('sip:2002@pbx')]), PBX_UDP_PORT: '5099', REDIS_URL: 'redis://10.0.0.9:6379', SIGNALLING_API_TOKEN: 'another-secret-token-456' });
    const plan = planReload(boot, boot, next);
    expect(plan.apply).toEqual(['pbx.routes']);
    expect(plan.restartNeeded).toEqual(['redis.url', 'signalling.apiToken', 'pbx.udpPort']);
    expect(JSON.stringify(plan)).not.toContain('another-secret');
  });

  it('compares reloadable keys with the last applied config and the others with the boot one', () => {
    const boot = load(bootEnv);
    const current = load({ ...bootEnv, PBX_ROUTES: JSON.stringify([route('sip:2002@pbx')]) });
    expect(planReload(boot, current, current)).toEqual({ apply: [], restartNeeded: [] });
    expect(planReload(boot, current, boot)).toEqual({ apply: ['pbx.routes'], restartNeeded: [] });
  });
});

describe('ConfigReloadService', () => {
  let env: Env;
  let directory: TrunkDirectory;
  let trunkSets: unknown[];
  let service: ConfigReloadService;
  let dnsServers: (readonly string[])[];

  beforeEach(() => {
    const boot = load(bootEnv);
    env = bootEnv;
    directory = new TrunkDirectory(boot.pbx);
    trunkSets = [];
    const health = { setTrunks: (t: unknown) => void trunkSets.push(t) } as unknown as TrunkHealthService;
    dnsServers = [];
    const sip = {
      dns: {
        setServers: (servers: readonly string[]) => {
          dnsServers.push(servers);
          expect(trunkSets).toHaveLength(0); // before the trunks (and their hosts' resolution)
        },
      },
    } as unknown as SipStackService;
    service = new ConfigReloadService(boot as AppConfig, () => load(env), silentLogger(), directory, health, sip);
  });

  it('gives the SIP stack the new DNS servers before the trunks are set again (their hosts are resolved with them)', () => {
    env = { ...bootEnv, PBX_DNS_SERVERS: JSON.stringify(['127.0.0.53:5353']) };
    expect(service.reload()).toEqual({ applied: ['pbx.dnsServers'], restartNeeded: [], trunks: 1, routes: 1 });
    expect(dnsServers).toEqual([['127.0.0.53:5353']]);
    expect(trunkSets).toHaveLength(1);
    // a reload that leaves them as they are does not touch them
    env = { ...env, PBX_ROUTES: JSON.stringify([route('sip:2002@pbx')]) };
    expect(service.reload().applied).toEqual(['pbx.routes']);
    expect(dnsServers).toHaveLength(1);
  });

  it('swaps the routes: a call holding the old route keeps it, a new lookup gets the new one', () => {
    const held = directory.routeFor('15550001111');
    env = { ...bootEnv, PBX_ROUTES: JSON.stringify([route('sip:2002@pbx')]) };
    expect(service.reload()).toEqual({ applied: ['pbx.routes'], restartNeeded: [], trunks: 1, routes: 1 });
    expect(held?.destinations[0]?.uri).toBe('sip:1001@pbx');
    expect(directory.routeFor('15550001111')?.destinations[0]?.uri).toBe('sip:2002@pbx');
    expect(trunkSets).toHaveLength(1);
  });

  it('refuses an invalid configuration with the key named and changes nothing', () => {
    env = { ...bootEnv, PBX_ROUTES: JSON.stringify([{ ...route('sip:2002@pbx'), destinations: [{ uri: 'sip:2002@pbx', trunk: 'missing', ringTimeoutMs: 20000 }] }]) };
    let refused: unknown;
    try {
      service.reload();
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(ConfigReloadRefusedError);
    expect((refused as ConfigReloadRefusedError).details.problems.join('\n')).toMatch(/pbx\.routes\.0\.destinations\.0\.trunk/);
    expect((refused as ConfigReloadRefusedError).httpStatus).toBe(422);
    expect(directory.routeFor('15550001111')?.destinations[0]?.uri).toBe('sip:1001@pbx');
    expect(trunkSets).toHaveLength(0);
  });

  it('reports restart-only changes without applying anything', () => {
    env = { ...bootEnv, SIGNALLING_HTTP_PORT: '9999' };
    expect(service.reload()).toEqual({ applied: [], restartNeeded: ['signalling.httpPort'], trunks: 1, routes: 1 });
    expect(trunkSets).toHaveLength(0);
  });
});
