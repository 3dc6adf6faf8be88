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
});
