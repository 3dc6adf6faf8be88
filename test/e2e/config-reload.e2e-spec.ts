import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { startBaresip, writeSineWav, type BaresipHandle } from '@wagw/testing';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { GW_PASSWORD, GW_USER, startDemoPbx, type DemoPbx } from '../support/pbx';

/**
 * Config reload without dropping calls (issue: trunk operations, item 4): the gateway reads its trunk and
 * route from a CONFIG_FILE; the file is rewritten to send calls to another phone and POST /v1/admin/reload
 * applies it while a call is up. The call in progress keeps its media (the user still hears desk phone
 * 1001's 400 Hz); the next call rings phone 2001 (700 Hz). A broken file is refused with the key named,
 * and nothing changes.
 */

const BUSINESS = '15550001111';

describe('config reload while a call is active', () => {
  let dir: string;
  let file: string;
  let pbx: DemoPbx;
  let phone2001: BaresipHandle | undefined;
  let stack: Stack;

  /** The site file: trunk to the demo PBX, the route to `extension`, plus extra top-level YAML. */
  function writeConfig(extension: string, extra = ''): void {
    const trunk = {
      name: 'pbx',
      hosts: [`${pbx.kamailio.host}:${pbx.kamailio.port}`],
      transport: 'udp',
      username: GW_USER,
      password: GW_PASSWORD,
      fromUser: GW_USER,
      fromDomain: pbx.kamailio.host,
      codecs: ['PCMU', 'PCMA'],
      allowFrom: [],
    };
    const route = { businessNumber: BUSINESS, destinations: [{ uri: `sip:${extension}@${pbx.kamailio.host}`, trunk: 'pbx', ringTimeoutMs: 20000 }], onFailure: 'reject' };
    writeFileSync(file, `pbx:\n  trunks: ${JSON.stringify([trunk])}\n  routes: ${JSON.stringify([route])}\n${extra}`);
  }

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-reload-'));
    file = join(dir, 'site.yaml');
    pbx = await startDemoPbx({ transport: 'udp', phoneToneHz: 400, dir });
    const wavPath = join(dir, 'phone-700.wav');
    writeSineWav({ path: wavPath, frequencyHz: 700, sampleRate: 8000, seconds: 30 });
    phone2001 = await startBaresip({ user: '2001', registrar: { host: pbx.kamailio.host, port: pbx.kamailio.port }, transport: 'udp', wavPath });
    writeConfig('1001');
    stack = await startStack({ name: 'config-reload', env: { CONFIG_FILE: file } });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await phone2001?.stop();
    phone2001 = undefined;
    await pbx?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function call(user: string): Promise<CallRecord> {
    await stack.emu('POST', '/emulator/users', { waId: user, name: `Caller ${user}` });
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    return eventually(
      `call ${waCallId} active`,
      async () => {
        const res = await stack.api('GET', `/v1/calls/${waCallId}`);
        return res.status === 200 && (res.body as CallRecord).state === 'active' ? (res.body as CallRecord) : undefined;
      },
      25_000,
    );
  }

  /** Frames of `frequencyHz` the user has heard so far in the call, once at least `atLeast`. */
  async function heard(user: string, frequencyHz: number, atLeast: number): Promise<number> {
    return eventually(
      `${atLeast} frames of ${frequencyHz} Hz at ${user}`,
      async () => {
        const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${user}/media/analysis?frequencyHz=${frequencyHz}`);
        return a.tone && a.tone.framesWithTone >= atLeast ? a.tone.framesWithTone : undefined;
      },
      15_000,
      250,
    );
  }

  async function hangUp(user: string, callId: string): Promise<void> {
    await stack.emu('POST', `/emulator/users/${user}/hangup`);
    await eventually('call ended', async () => ((await stack.api('GET', `/v1/calls/${callId}`)).body as CallRecord).state === 'ended', 15_000);
  }

  it('applies a new route to the next call while the active call keeps going; refuses a broken file', async () => {
    const first = await call('15554440001');
    expect(first.destination).toBe(`sip:1001@${pbx.kamailio.host}`);
    const before = await heard('15554440001', 400, 25);

    writeConfig('2001', 'media:\n  testToneHz: 500\n');
    const reload = await stack.api('POST', '/v1/admin/reload');
    expect(reload).toEqual({ status: 200, body: { applied: ['pbx.routes'], restartNeeded: ['media.testToneHz'], trunks: 1, routes: 1 } });

    // the call in progress still has its media: the user keeps hearing desk phone 1001
    await heard('15554440001', 400, before + 50);
    expect(((await stack.api('GET', `/v1/calls/${first.callId}`)).body as CallRecord).state).toBe('active');

    const second = await call('15554440002');
    expect(second.destination).toBe(`sip:2001@${pbx.kamailio.host}`);
    await heard('15554440002', 700, 25);
    await hangUp('15554440002', second.callId);
    await hangUp('15554440001', first.callId);

    // a broken file is refused, naming the key, and the route stays as it was
    writeFileSync(file, `pbx:\n  routes: [{ businessNumber: "${BUSINESS}", destinations: [{ uri: "sip:1001@x", trunk: pbx, ringTimeoutMs: soon }], onFailure: reject }]\n`);
    const refused = await stack.api('POST', '/v1/admin/reload');
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ error: { code: 'CONFIG_INVALID' } });
    const problems = (refused.body as { error: { problems: string[] } }).error.problems;
    expect(problems.join('\n')).toMatch(/config key "pbx\.routes\.0\.destinations\.0\.ringTimeoutMs" = "soon"/);

    const third = await call('15554440003');
    expect(third.destination).toBe(`sip:2001@${pbx.kamailio.host}`);
    await hangUp('15554440003', third.callId);
  });
});
