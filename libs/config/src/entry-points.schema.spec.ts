import { findConfigDir, loadConfig } from './load-config';
import { ConfigError } from './config.errors';

const trunk = { name: 'pbx', hosts: ['127.0.0.1:5060'], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU'], allowFrom: [] };
const dest = { uri: 'sip:1001@pbx.example.com', trunk: 'pbx', ringTimeoutMs: 20000 };
const billing = { uri: 'sip:2001@pbx.example.com', trunk: 'pbx', ringTimeoutMs: 20000 };

/** Loads the defaults with one route carrying `entryPoints`; the config, or the problems. */
function load(entryPoints: unknown): { routes?: unknown; problems: string[] } {
  const env = {
    PBX_TRUNKS: JSON.stringify([trunk]),
    PBX_ROUTES: JSON.stringify([{ businessNumber: '15550001111', destinations: [dest], onFailure: 'reject', entryPoints }]),
  };
  try {
    return { routes: loadConfig({ env, configDir: findConfigDir() }).pbx.routes, problems: [] };
  } catch (err) {
    if (err instanceof ConfigError) return { problems: [...err.problems] };
    throw err;
  }
}

describe('route entry points (call buttons and deep links)', () => {
  it('accepts entries with a payload and destinations, and a route without any', () => {
    const ok = load([{ payload: 'queue=billing', destinations: [billing] }]);
    expect(ok.problems).toEqual([]);
    expect(ok.routes).toEqual([expect.objectContaining({ entryPoints: [{ payload: 'queue=billing', destinations: [billing] }] })]);
    expect(load(undefined).problems).toEqual([]);
  });

  it('refuses an entry on an unknown trunk, naming the path', () => {
    expect(load([{ payload: 'queue=billing', destinations: [{ ...billing, trunk: 'nope' }] }]).problems.join('\n')).toMatch(
      /pbx\.routes\.0\.entryPoints\.0\.destinations\.0\.trunk.*one of the configured trunks \(pbx\)/,
    );
  });

  it('refuses the same payload twice, an empty or too long payload, and an entry without destinations', () => {
    const twice = load([
      { payload: 'queue=billing', destinations: [billing] },
      { payload: 'queue=billing', destinations: [dest] },
    ]).problems.join('\n');
    expect(twice).toMatch(/entryPoints\.1\.payload.*"queue=billing" is given twice/);
    expect(load([{ payload: '', destinations: [billing] }]).problems.join('\n')).toMatch(/entryPoints\.0\.payload/);
    expect(load([{ payload: 'p'.repeat(513), destinations: [billing] }]).problems.join('\n')).toMatch(/entryPoints\.0\.payload/);
    expect(load([{ payload: 'queue=billing', destinations: [] }]).problems.join('\n')).toMatch(/entryPoints\.0\.destinations/);
    expect(load([{ payload: 'queue=billing', destinations: [billing], extra: 1 }]).problems.join('\n')).toMatch(/entryPoints\.0/);
  });
});
