import { buildKamailioConfig, buildKamailioTlsConfig, parseUlLookup, staticRouteUri } from './kamailio-config';

describe('Kamailio config', () => {
  const base = {
    host: '127.0.0.1', port: 5070, udp: true, tcp: true, authUsers: [], aliases: [], routes: {},
    ctlSocketPath: '/tmp/k/ctl.sock', modulesDir: '/mods', debugLevel: 2,
  };

  it('listens on UDP and TCP on the same port and aliases it', () => {
    const cfg = buildKamailioConfig(base);
    expect(cfg).toContain('listen=udp:127.0.0.1:5070');
    expect(cfg).toContain('listen=tcp:127.0.0.1:5070');
    expect(cfg).toContain('alias="127.0.0.1:5070"');
    expect(cfg).toContain('modparam("ctl", "binrpc", "unix:/tmp/k/ctl.sock")');
    expect(cfg).not.toContain('tls.so');
  });

  it('adds a TLS listener on its own port with the tls module', () => {
    const cfg = buildKamailioConfig({ ...base, tls: { port: 5071, tlsConfigPath: '/tmp/k/tls.cfg' } });
    expect(cfg).toContain('listen=tls:127.0.0.1:5071');
    expect(cfg).toContain('loadmodule "tls.so"');
    expect(cfg).toContain('modparam("tls", "config", "/tmp/k/tls.cfg")');
    expect(buildKamailioTlsConfig('/c.pem', '/k.pem')).toMatch(/certificate = \/c\.pem\nprivate_key = \/k\.pem/);
  });

  it('challenges INVITEs from each auth user with its own password', () => {
    const cfg = buildKamailioConfig({ ...base, authUsers: [{ user: 'gw', password: 's3cret' }] });
    expect(cfg).toContain('$fU == "gw"');
    expect(cfg).toContain('pv_proxy_authenticate("$fd", "s3cret", "0")');
  });

  it('rewrites static routes, keeping the dialled user unless the target names one', () => {
    expect(staticRouteUri('+155501', 'sip:127.0.0.2:5080')).toBe('sip:+155501@127.0.0.2:5080');
    expect(staticRouteUri('7000', 'sip:gw@127.0.0.2:5080;transport=tcp')).toBe('sip:gw@127.0.0.2:5080;transport=tcp');
    const cfg = buildKamailioConfig({ ...base, routes: { '7000': 'sip:127.0.0.2:5080' } });
    expect(cfg).toContain('$ru = "sip:7000@127.0.0.2:5080";');
  });

  it('challenges REGISTERs of each register auth user, and delivers numbers to a registered user', () => {
    const cfg = buildKamailioConfig({
      ...base,
      registerAuthUsers: [{ user: 'wagw', password: 'reg' }],
      registeredRoutes: { '15550001': { aor: 'wagw', keepNumber: true }, '15550002': { aor: 'wagw', keepNumber: false } },
    });
    expect(cfg).toMatch(/if \(is_method\("REGISTER"\)\) \{\n\s+if \(\$tU == "wagw"\) \{\n\s+if \(!pv_www_authenticate\("\$td", "reg", "0"\)\)/);
    expect(cfg).toContain('www_challenge("$td", "0");');
    const routes = cfg.slice(cfg.indexOf('route[REGISTERED]'));
    const first = routes.slice(routes.indexOf('"15550001"'), routes.indexOf('"15550002"'));
    const second = routes.slice(routes.indexOf('"15550002"'));
    expect(first).toContain('$rU = "wagw";');
    expect(first).toContain('$rU = $var(dialled);');
    expect(second).toContain('lookup("location")');
    expect(second).not.toContain('$rU = $var(dialled);');
    expect(cfg.indexOf('route(REGISTERED);')).toBeLessThan(cfg.indexOf('if (lookup("location")) { route(RELAY); exit; }'));
  });

  it('rejects values that would inject config syntax', () => {
    expect(() => buildKamailioConfig({ ...base, authUsers: [{ user: 'gw', password: 'a"b' }] })).toThrow(TypeError);
    expect(() => buildKamailioConfig({ ...base, routes: { 'x"': 'sip:h:1' } })).toThrow(TypeError);
    expect(() => staticRouteUri('u', 'http://h')).toThrow(TypeError);
    expect(() => buildKamailioConfig({ ...base, udp: false, tcp: false })).toThrow(TypeError);
  });

  it('reads contacts from kamcmd ul.lookup output', () => {
    const out = '{\n\tAoR: 1001\n\tContacts: {\n\t\tContact: {\n\t\t\tAddress: sip:1001-0x1@127.0.0.1:5062\n\t\t\tExpires: 299\n';
    expect(parseUlLookup(out)).toEqual(['sip:1001-0x1@127.0.0.1:5062']);
    expect(parseUlLookup('error: 500 - AOR not found in location table\n')).toEqual([]);
    expect(() => parseUlLookup('error: 500 - Not enough parameters\n')).toThrow(/ul.lookup/);
  });
});
