import { silentLogger } from '@wagw/logging';
import { parseArgs } from './cli-args';
import { readCliEnv } from './cli-env';
import { runCli } from './cli';
import { errorText } from './http-client';
import { parseOptionsTarget } from './sip-options';
import { age, table } from './table';
import { registrationRow, type TrunkView } from './commands';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => void out.push(t), stderr: (t: string) => void err.push(t), logger: silentLogger() } };
}

const env = readCliEnv({});

describe('parseArgs', () => {
  it('reads positionals, --name value, --name=value and flags', () => {
    const a = parseArgs(['test-call', '1555', '--agent', '1001', '--url=http://x:1', '--json', '-h']);
    expect(a.positionals).toEqual(['test-call', '1555']);
    expect(Object.fromEntries(a.options)).toEqual({ agent: '1001', url: 'http://x:1' });
    expect([...a.flags].sort()).toEqual(['help', 'json']);
  });

  it('refuses unknown options, a value option without a value and a flag with one', () => {
    expect(() => parseArgs(['calls', '--verbose'])).toThrow('unknown option --verbose');
    expect(() => parseArgs(['test-call', '1', '--agent'])).toThrow('--agent needs a value');
    expect(() => parseArgs(['calls', '--json=yes'])).toThrow('--json takes no value');
  });
});

describe('readCliEnv', () => {
  it('defaults to the local gateway and emulator and takes WAGW_* variables', () => {
    expect(readCliEnv({})).toEqual({ url: 'http://127.0.0.1:8080', token: undefined, emulatorUrl: 'http://127.0.0.1:8090' });
    expect(readCliEnv({ WAGW_URL: 'https://gw.example.com/', WAGW_TOKEN: 't0k', WAGW_EMULATOR_URL: 'http://emu:1' })).toEqual({
      url: 'https://gw.example.com',
      token: 't0k',
      emulatorUrl: 'http://emu:1',
    });
  });

  it('names the variable of a bad URL', () => {
    expect(() => readCliEnv({ WAGW_URL: 'gw:8080' })).toThrow(/WAGW_URL must be an http:\/\/ or https:\/\/ URL/);
  });
});

describe('parseOptionsTarget', () => {
  it('takes host:port, a host alone (5060) and SIP URIs with a transport parameter', () => {
    expect(parseOptionsTarget('10.0.0.5:5070', undefined)).toEqual({ uri: 'sip:10.0.0.5:5070', host: '10.0.0.5', port: 5070, transport: 'udp' });
    expect(parseOptionsTarget('pbx.example.com', 'tcp')).toEqual({ uri: 'sip:pbx.example.com:5060', host: 'pbx.example.com', port: 5060, transport: 'tcp' });
    expect(parseOptionsTarget('sip:1001@pbx.example.com:5080;transport=tcp', undefined)).toEqual({
      uri: 'sip:1001@pbx.example.com:5080;transport=tcp',
      host: 'pbx.example.com',
      port: 5080,
      transport: 'tcp',
    });
  });

  it('refuses what is not a target and transports other than udp/tcp', () => {
    expect(() => parseOptionsTarget('http://x', undefined)).toThrow(/not a SIP URI or host:port/);
    expect(() => parseOptionsTarget('x:99999', undefined)).toThrow(/port out of range/);
    expect(() => parseOptionsTarget('x:5060', 'tls')).toThrow(/transport must be udp or tcp/);
  });
});

describe('output helpers', () => {
  it('aligns table columns', () => {
    expect(table(['A', 'LONGER'], [['xyz', '1'], ['q', '22']])).toBe('A    LONGER\nxyz  1\nq    22');
  });

  it('prints ages in s, m and h', () => {
    expect(age(0, 12_000)).toBe('12s');
    expect(age(0, 184_000)).toBe('3m04s');
    expect(age(0, 7_500_000)).toBe('2h05m');
  });

  it("shows our API's error code, message and problems", () => {
    expect(errorText({ error: { code: 'CONFIG_INVALID', message: 'refused', problems: ['a: bad', 'b: worse'] } })).toBe('CONFIG_INVALID: refused\n  - a: bad\n  - b: worse');
    expect(errorText('<html>oops</html>')).toBe('<html>oops</html>');
  });
});

describe('runCli', () => {
  it('prints the help with exit 0', async () => {
    const h = io();
    expect(await runCli(['--help'], env, h.io)).toBe(0);
    expect(h.out.join('')).toMatch(/Usage: wagw <command>/);
  });

  it('exits 2 with the usage on an unknown command, a missing command or a bad option', async () => {
    for (const argv of [['frobnicate'], [], ['calls', '--nope']]) {
      const h = io();
      expect(await runCli(argv, env, h.io)).toBe(2);
      expect(h.err.join('')).toMatch(/Usage: wagw/);
    }
  });

  it('exits 2 when an API command has no token, and when an operand is missing', async () => {
    let h = io();
    expect(await runCli(['trunks'], env, h.io)).toBe(2);
    expect(h.err.join('')).toMatch(/no API token: set WAGW_TOKEN/);
    h = io();
    expect(await runCli(['test-call', '15551234567'], { ...env, token: 't' }, h.io)).toBe(2);
    expect(h.err.join('')).toMatch(/missing --agent/);
  });
});

describe('trunks: registering trunks (either way)', () => {
  const base: TrunkView = { name: 'pbx', transport: 'udp', optionsIntervalMs: 0, hosts: [], srtp: 'optional', codecs: ['G722', 'PCMU'], maxCalls: 30, channelsInUse: 4 };
  it('shows where the PBX registered from and how long is left, or that it is not registered; nothing for other trunks', () => {
    const now = 1_000_000;
    expect(registrationRow({ ...base, registration: { source: { address: '192.0.2.7', port: 40123 }, registeredAt: now - 90_000, expiresAt: now + 300_000 } }, now)).toEqual([
      ['pbx', '192.0.2.7:40123', 'udp', 'registered, 300 s left', '1m30s', '-', '-', 'optional', 'G722,PCMU', '4/30'],
    ]);
    expect(registrationRow({ ...base, registration: null, maxCalls: 0 }, now)).toEqual([['pbx', '(PBX registers)', 'udp', 'not registered', '-', '-', '-', 'optional', 'G722,PCMU', '-']]);
    expect(registrationRow({ ...base, registration: null, channelsInUse: null }, now)[0]?.at(-1)).toBe('?/30'); // Redis did not answer
    expect(registrationRow(base, now)).toEqual([]);
  });

  it('shows the registration of a trunk the gateway registers to, or why it failed and when it retries', () => {
    const now = 1_000_000;
    expect(registrationRow({ ...base, outboundRegistration: { state: 'registered', registeredAt: now - 60_000, expiresAt: now + 540_000, lastStatus: 200 } }, now)).toEqual([
      ['pbx', '(gateway registers)', 'udp', 'registered, 540 s left', '1m00s', '-', '-', 'optional', 'G722,PCMU', '4/30'],
    ]);
    expect(registrationRow({ ...base, outboundRegistration: { state: 'failed', registrar: '10.0.0.2:5060', lastStatus: 403, lastError: '403 Forbidden', nextAttemptAt: now + 30_000 } }, now)).toEqual([
      ['pbx', '(gateway registers) 10.0.0.2:5060', 'udp', 'not registered, retry in 30 s', '-', '-', '403 Forbidden', 'optional', 'G722,PCMU', '4/30'],
    ]);
  });
});
