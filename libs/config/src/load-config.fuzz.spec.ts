import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dump, load } from 'js-yaml';
import { fuzz, mutateJson, mutateText, type Prng } from '@wagw/testing';
import { ConfigError } from './config.errors';
import { appConfigSchema } from './config.schema';
import { findConfigDir, loadConfig, type Env } from './load-config';

/**
 * Robustness of loadConfig against operator-written YAML and environment values: whatever the input, it
 * returns a valid frozen config or throws ConfigError whose every problem says where (a key path, or the
 * file and the YAML position) and why; never a TypeError, RangeError or other error.
 */

const DEFAULT_YAML = readFileSync(join(findConfigDir(), 'default.yaml'), 'utf8');
const DEFAULTS = load(DEFAULT_YAML) as Record<string, Record<string, unknown>>;

/** default.yaml with the trunk and route of its commented example, so trunks, routes and hours get mutated too. */
const WITH_PBX = {
  ...DEFAULTS,
  pbx: {
    ...DEFAULTS['pbx'],
    trunks: [
      { name: 'pbx', hosts: ['pbx.example.com:5060'], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU', 'PCMA'], srtp: 'off', allowFrom: [], maxCalls: 0 },
      { name: 'reg', hosts: [], transport: 'tcp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['G722'], allowFrom: ['192.0.2.0/24'], registrar: true, inboundUsername: 'acme', inboundPassword: 'pw' },
    ],
    routes: [
      {
        businessNumber: '15550001111',
        destinations: [{ uri: 'sip:1001@pbx.example.com', trunk: 'pbx', ringTimeoutMs: 25000 }],
        onFailure: 'next',
        hours: {
          timezone: 'America/New_York',
          weekly: [
            { day: 'MON', open: '09:00', close: '17:00' },
            { day: 'FRI', open: '09:00', close: '13:00' },
          ],
          holidays: [{ date: '2025-12-25' }, { date: '2025-12-24', open: '09:00', close: '12:00' }],
          afterHours: { action: 'route', destinations: [{ uri: 'sip:2000@pbx.example.com', trunk: 'pbx', ringTimeoutMs: 25000 }] },
        },
        entryPoints: [{ payload: 'queue=billing', destinations: [{ uri: 'sip:2001@pbx.example.com', trunk: 'reg', ringTimeoutMs: 25000 }] }],
      },
    ],
  },
};
const SEED_YAML = [DEFAULT_YAML, dump(WITH_PBX)];

/** YAML constructs a text mutator rarely makes: anchors and aliases (also cyclic), merge keys, tags, special scalars. */
const YAML_VALUES = [
  '&a [*a]',
  '&b { x: *b }',
  '*undefined_alias',
  '!!binary aGVsbG8=',
  '!!set { a, b }',
  '!!omap [ a: 1 ]',
  '!!timestamp 2001-12-14t21:59:43.10-05:00',
  '!!float .nan',
  '.inf',
  '-.inf',
  '~',
  '0x1F',
  '0o17',
  '1e3',
  '1_000',
  '"\\u0000"',
  '"\\x85"',
  '|\n  block',
  '>-\n  folded',
  '[',
  '{',
  '? complex\n: key',
  '!custom tag',
  '2001-12-14',
  '123456789012345678901234567890',
];

function mutateYaml(rng: Prng, text: string): string {
  const lines = text.split('\n');
  const at = rng.int(lines.length);
  const line = lines[at] ?? '';
  const colon = line.indexOf(':');
  switch (rng.int(4)) {
    case 0:
      // a value replaced
      if (colon >= 0) lines[at] = `${line.slice(0, colon + 1)} ${rng.pick(YAML_VALUES)}`;
      break;
    case 1: {
      // an anchor on one key, its alias at another (a merge key, or a plain value)
      const target = rng.int(lines.length);
      const t = lines[target] ?? '';
      if (colon >= 0 && t.indexOf(':') >= 0) {
        lines[at] = `${line.slice(0, colon + 1)} &anchor${line.slice(colon + 1)}`;
        lines[target] = rng.chance(0.5) ? `${t.slice(0, t.indexOf(':') + 1)} *anchor` : `${t.match(/^\s*/)?.[0] ?? ''}<<: *anchor`;
      }
      break;
    }
    case 2:
      // indentation changed
      lines[at] = rng.chance(0.5) ? `  ${line}` : `\t${line.trimStart()}`;
      break;
    default:
      // a duplicated key
      lines.splice(at, 0, line);
  }
  return lines.join('\n');
}

const KEY_PATH = '[A-Za-z0-9_]+(?:\\.[A-Za-z0-9_]+)*';
const KEY_PROBLEM = new RegExp(`^config key "(${KEY_PATH}|\\(root\\))"(?: \\(env [A-Z0-9_]+\\))?(?: = [\\s\\S]*?)?: (\\S[\\s\\S]*)$`);

/** Throws (naming the problem) when `err` is not a ConfigError that says where and why for every problem. */
function expectWellFormedConfigError(err: unknown, file: string): void {
  if (!(err instanceof ConfigError)) throw err;
  if (err.problems.length === 0) throw new Error('ConfigError without any problem');
  for (const problem of err.problems) {
    const key = KEY_PROBLEM.exec(problem);
    if (key) {
      // at the root, the only problem is a key that should not be there: it must be named
      if (key[1] === '(root)' && !/Unrecognized key/i.test(key[2] ?? '')) throw new Error(`root problem naming no key: ${problem}`);
      continue;
    }
    if (problem.startsWith(`${file}: `)) {
      const reason = problem.slice(file.length + 2);
      if (/\(\d+:\d+\)/.test(reason) || reason === 'expected a YAML mapping at the top' || /^\d+ YAML documents \(separated by ---\)/.test(reason)) continue;
    }
    throw new Error(`problem without a key path or YAML position: ${JSON.stringify(problem)}`);
  }
}

function expectValidConfig(cfg: unknown): void {
  const again = appConfigSchema.safeParse(cfg);
  if (!again.success) throw new Error(`returned a config that does not validate: ${again.error.message}`);
  if (!Object.isFrozen(cfg) || !Object.isFrozen((cfg as { pbx: unknown }).pbx)) throw new Error('returned config is not frozen');
}

/** The contract of loadConfig for one input: a valid config, or a ConfigError saying where and why. */
function expectConfigOrConfigError(dir: string, env: Env): void {
  let cfg: unknown;
  try {
    cfg = loadConfig({ env, configDir: dir });
  } catch (err) {
    expectWellFormedConfigError(err, join(dir, 'default.yaml'));
    return;
  }
  expectValidConfig(cfg);
}

const SEED_LINES = new Set(SEED_YAML.flatMap((t) => t.split('\n')));

/** A failing YAML case as its lines that are in no seed (numbered): the whole file would drown the report. */
function changedLines<F extends { input: string }>(failures: F[]): (Omit<F, 'input'> & { lines: number; changed: string[] })[] {
  return failures.map(({ input, ...rest }) => {
    const lines = input.split('\n');
    return { ...rest, lines: lines.length, changed: lines.flatMap((l, i) => (SEED_LINES.has(l) ? [] : [`${i + 1}: ${l}`])) };
  });
}

describe('loadConfig (fuzz)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cfg-fuzz-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function withYaml(text: string, env: Env = {}): void {
    writeFileSync(join(dir, 'default.yaml'), text);
    expectConfigOrConfigError(dir, env);
  }

  it('the seeds themselves load', () => {
    for (const text of SEED_YAML) {
      writeFileSync(join(dir, 'default.yaml'), text);
      expect(() => loadConfig({ env: {}, configDir: dir })).not.toThrow();
    }
  });

  it('mutated YAML text gives a valid config or a ConfigError naming the key or the YAML position', () => {
    const failures = fuzz({
      seed: 0x5eed_c0f1,
      cases: 800,
      make: (rng) => {
        const seed = rng.pick(SEED_YAML);
        return rng.chance(0.3) ? mutateText(rng, mutateYaml(rng, seed), 2) : rng.chance(0.5) ? mutateYaml(rng, seed) : mutateText(rng, seed, 4);
      },
      check: (text) => withYaml(text),
    });
    expect(changedLines(failures)).toEqual([]);
  });

  it('mutated config trees, dumped back to YAML, give a valid config or a ConfigError naming the key', () => {
    const failures = fuzz({
      seed: 0x5eed_c0f2,
      cases: 400,
      make: (rng) => dump(mutateJson(rng, rng.chance(0.5) ? DEFAULTS : WITH_PBX, 4), { lineWidth: -1 }),
      check: (text) => withYaml(text),
    });
    expect(changedLines(failures)).toEqual([]);
  });

  /** Documented variables (README "Configuration") with a realistic value each, mutated. */
  const ENV_SEEDS: Record<string, string> = {
    SIGNALLING_HTTP_PORT: '8080',
    MEDIA_RTP_PORT_MIN: '20000',
    PBX_SESSION_EXPIRES_S: '1800',
    LOG_LEVEL: 'info',
    LOG_PRETTY: 'false',
    REDIS_URL: 'redis://127.0.0.1:6379',
    WHATSAPP_GRAPH_BASE_URL: 'https://graph.facebook.com',
    WHATSAPP_BUSINESS_NUMBER: '15550001111',
    CRM_WEBHOOK_URL: 'https://crm.example.com/hook',
    SIGNALLING_MEDIA_INSTANCES: '["m1", "m2"]',
    PBX_DNS_SERVERS: '["127.0.0.1:5353", "[2001:db8::1]:53"]',
    PBX_TRUNKS: JSON.stringify((WITH_PBX.pbx as { trunks: unknown }).trunks),
    PBX_ROUTES: JSON.stringify((WITH_PBX.pbx as { routes: unknown }).routes),
  };
  const ENV_NAMES = Object.keys(ENV_SEEDS);

  function mutateEnvValue(rng: Prng, name: string): string {
    const seed = ENV_SEEDS[name] as string;
    if (seed.startsWith('[') && rng.chance(0.5)) return JSON.stringify(mutateJson(rng, JSON.parse(seed) as unknown, 3));
    if (rng.chance(0.2)) return rng.pick(YAML_VALUES);
    return mutateText(rng, seed, 3);
  }

  it('mutated environment values give a valid config or a ConfigError naming the key', () => {
    writeFileSync(join(dir, 'default.yaml'), DEFAULT_YAML);
    const failures = fuzz({
      seed: 0x5eed_c0f3,
      cases: 800,
      make: (rng) => {
        const env: Record<string, string> = {};
        const n = 1 + rng.int(3);
        for (let i = 0; i < n; i++) {
          const name = rng.pick(ENV_NAMES);
          env[name] = mutateEnvValue(rng, name);
        }
        // the routes name trunks: give them the seed trunks unless the trunks are being mutated
        if (env['PBX_ROUTES'] !== undefined && env['PBX_TRUNKS'] === undefined) env['PBX_TRUNKS'] = ENV_SEEDS['PBX_TRUNKS'] as string;
        return env;
      },
      check: (env) => expectConfigOrConfigError(dir, env),
    });
    expect(failures).toEqual([]);
  });
});
