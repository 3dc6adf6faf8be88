import { mkdtempSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configKeys, envNameOf, findConfigDir, loadConfig } from './load-config';
import { ConfigError } from './config.errors';

const dir = findConfigDir();

describe('loadConfig', () => {
  it('loads the documented defaults', () => {
    const cfg = loadConfig({ env: {}, configDir: dir });
    expect(cfg.signalling.httpPort).toBe(8080);
    expect(Object.isFrozen(cfg.whatsapp)).toBe(true);
  });

  it('applies environment overrides named after the key path, typed by the schema', () => {
    const cfg = loadConfig({ env: { SIGNALLING_HTTP_PORT: '9099', WHATSAPP_PHONE_NUMBER_ID: '123', LOG_PRETTY: 'true' }, configDir: dir });
    expect(cfg.signalling.httpPort).toBe(9099);
    expect(cfg.whatsapp.phoneNumberId).toBe('123');
    expect(cfg.log.pretty).toBe(true);
  });

  it('stops with a message naming the key, the value and what was expected', () => {
    expect(() => loadConfig({ env: { SIGNALLING_HTTP_PORT: 'eighty' }, configDir: dir })).toThrow(ConfigError);
    try {
      loadConfig({ env: { SIGNALLING_HTTP_PORT: '70000', REDIS_URL: 'http://x' }, configDir: dir });
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain('config key "signalling.httpPort" (env SIGNALLING_HTTP_PORT) = 70000');
      expect(msg).toMatch(/65535/);
      expect(msg).toContain('config key "redis.url" (env REDIS_URL) = "http://x"');
    }
  });

  it('takes trunk hosts as host:port or a bare domain (SRV), and DNS servers as addresses', () => {
    const trunk = (hosts: string[]): string => JSON.stringify([{ name: 'pbx', hosts, transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU'], allowFrom: [] }]);
    const cfg = loadConfig({ env: { PBX_TRUNKS: trunk(['example.com', 'pbx.example.net:5070', '192.0.2.1:5060']), PBX_DNS_SERVERS: '["127.0.0.1:5353", "192.0.2.53"]' }, configDir: dir });
    expect(cfg.pbx.trunks[0]?.hosts).toEqual(['example.com', 'pbx.example.net:5070', '192.0.2.1:5060']);
    expect(cfg.pbx.dnsServers).toEqual(['127.0.0.1:5353', '192.0.2.53']);
    expect(cfg.pbx.dnsRefreshS).toBe(300);
    expect(() => loadConfig({ env: { PBX_TRUNKS: trunk(['pbx example.com']) }, configDir: dir })).toThrow(/pbx\.trunks.*host:port, or a domain name alone/s);
    expect(() => loadConfig({ env: { PBX_TRUNKS: trunk(['-bad.example.com']) }, configDir: dir })).toThrow(/host:port, or a domain name alone/);
    expect(() => loadConfig({ env: { PBX_DNS_SERVERS: '["dns.example.com"]' }, configDir: dir })).toThrow(/pbx\.dnsServers.*IPv4 address/s);
  });

  it('rejects unknown keys in a YAML file and cross-field mistakes', () => {
    const d = mkdtempSync(join(tmpdir(), 'cfg-'));
    copyFileSync(join(dir, 'default.yaml'), join(d, 'default.yaml'));
    const extra = join(d, 'site.yaml');
    writeFileSync(extra, 'media:\n  rtpPortMin: 30000\n  rtpPortMax: 20000\nsignaling:\n  httpPort: 1\n');
    expect(() => loadConfig({ env: { CONFIG_FILE: extra }, configDir: d })).toThrow(/signaling|rtpPortMax/);
    try {
      loadConfig({ env: { CONFIG_FILE: extra }, configDir: d });
    } catch (err) {
      expect((err as Error).message).toContain('media.rtpPortMax');
    }
  });

  it('documents every key', () => {
    for (const key of configKeys()) expect({ key: key.path, description: key.description.length > 10 }).toEqual({ key: key.path, description: true });
    expect(envNameOf('whatsapp.graphBaseUrl')).toBe('WHATSAPP_GRAPH_BASE_URL');
  });

  it('refuses the demo secrets when the Graph base URL is Meta, naming each key', () => {
    const env = { WHATSAPP_GRAPH_BASE_URL: 'https://graph.facebook.com', WHATSAPP_ACCESS_TOKEN: 'EAAG-real' };
    expect(() => loadConfig({ env, configDir: dir })).toThrow(/whatsapp\.appSecret[\s\S]*not the demo default/);
    try {
      loadConfig({ env, configDir: dir });
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain('whatsapp.verifyToken');
      expect(msg).toContain('signalling.apiToken');
      expect(msg).not.toContain('whatsapp.accessToken');
    }
    const own = { ...env, WHATSAPP_APP_SECRET: 'a'.repeat(32), WHATSAPP_VERIFY_TOKEN: 'v'.repeat(20), SIGNALLING_API_TOKEN: 't'.repeat(24) };
    expect(loadConfig({ env: own, configDir: dir }).whatsapp.graphBaseUrl).toBe('https://graph.facebook.com');
  });

  describe('regressions found by load-config.fuzz.spec.ts', () => {
    /** A temporary config dir with the repo's default.yaml (or `defaults`) and, when given, a site file. */
    function siteDir(site?: string, defaults?: string): { dir: string; env: Record<string, string> } {
      const d = mkdtempSync(join(tmpdir(), 'cfg-'));
      if (defaults === undefined) copyFileSync(join(dir, 'default.yaml'), join(d, 'default.yaml'));
      else writeFileSync(join(d, 'default.yaml'), defaults);
      if (site === undefined) return { dir: d, env: {} };
      writeFileSync(join(d, 'site.yaml'), site);
      return { dir: d, env: { CONFIG_FILE: join(d, 'site.yaml') } };
    }

    it('reports a YAML alias inside its own anchor as a ConfigError naming the key, not a TypeError', () => {
      const site = siteDir('signalling:\n  mediaRequestTimeoutMs: &a [*a]\n');
      expect(() => loadConfig({ env: site.env, configDir: site.dir })).toThrow(ConfigError);
      expect(() => loadConfig({ env: site.env, configDir: site.dir })).toThrow(/config key "signalling\.mediaRequestTimeoutMs" = \(a value that contains itself/);
      expect(() => loadConfig({ env: { PBX_TRUNKS: '&b { x: *b }' }, configDir: dir })).toThrow(/config key "pbx\.trunks" \(env PBX_TRUNKS\)/);
    });

    it('reads a YAML file without any document (empty, or comments only) as an empty mapping', () => {
      const commented = siteDir('# site overrides, none yet\n#signalling:\n#  httpPort: 9000\n');
      expect(loadConfig({ env: commented.env, configDir: commented.dir }).signalling.httpPort).toBe(8080);
      const empty = siteDir('');
      expect(loadConfig({ env: empty.env, configDir: empty.dir }).signalling.httpPort).toBe(8080);
      // default.yaml cut after its first comment lines: the missing keys are named, not "the input is empty"
      const cut = siteDir(undefined, '# Gateway configuration. Every key can be overridden by an environment variable named after its path\n# (signalling.httpPort -> SIG');
      expect(() => loadConfig({ env: cut.env, configDir: cut.dir })).toThrow(/config key "log" = \(missing\)/);
    });

    it('refuses a YAML file of several documents, naming the file', () => {
      const two = siteDir('signalling:\n  httpPort: 9000\n---\nmedia:\n  httpPort: 9001\n');
      expect(() => loadConfig({ env: two.env, configDir: two.dir })).toThrow(/site\.yaml: 2 YAML documents \(separated by ---\), expected one/);
    });
  });
});
