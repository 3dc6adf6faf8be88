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
});
