import { spawn } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { silentLogger } from '@wagw/logging';
import { SipStack } from '@wagw/sip';
import { signWebhookBody } from '@wagw/whatsapp';
import { freeTcpUdpPort } from '@wagw/testing';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';

/**
 * The `wagw` admin CLI, spawned as a process (from source, through apps/cli/dev/register-ts.js) against a
 * booted gateway and emulator. A libs/sip stack stands in for the PBX host: it answers OPTIONS (200) and
 * refuses INVITEs (480), which is all the trunk commands need.
 */

const ROOT = join(__dirname, '..', '..');
const BUSINESS = '15550001111';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wagw <args>` with only the WAGW_* variables given (none inherited); killed after 30 s. */
function wagw(args: string[], vars: Record<string, string>): Promise<Run> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('WAGW_')) env[k] = v;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', './apps/cli/dev/register-ts.js', 'apps/cli/src/main.ts', ...args], { cwd: ROOT, env: { ...env, ...vars } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', (err) => {
      clearTimeout(killer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('wagw CLI against a booted gateway', () => {
  let pbxHost: SipStack;
  let pbxPort: number;
  let silent: Socket;
  let silentPort: number;
  let stack: Stack;
  let vars: Record<string, string>;

  beforeAll(async () => {
    pbxPort = await freeTcpUdpPort();
    pbxHost = await SipStack.start({ listen: { host: '127.0.0.1', udpPort: pbxPort }, logger: silentLogger() });
    silentPort = await freeTcpUdpPort();
    silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(silentPort, '127.0.0.1', () => resolve()));
    const trunk = {
      name: 'pbx',
      hosts: [`127.0.0.1:${pbxPort}`],
      transport: 'udp',
      username: '',
      password: '',
      fromUser: '',
      fromDomain: '',
      codecs: ['PCMU'],
      allowFrom: [],
      optionsIntervalMs: 300,
    };
    const route = { businessNumber: BUSINESS, destinations: [{ uri: 'sip:1001@127.0.0.1', trunk: 'pbx', ringTimeoutMs: 5000 }], onFailure: 'reject' };
    stack = await startStack({ name: 'cli', env: { PBX_TRUNKS: JSON.stringify([trunk]), PBX_ROUTES: JSON.stringify([route]) } });
    vars = { WAGW_URL: stack.signalling.baseUrl, WAGW_TOKEN: stack.config.signalling.apiToken, WAGW_EMULATOR_URL: stack.emulator.baseUrl };
  });

  // test-call leaves a call waiting for the user's permission reply: hang it up, then check nothing leaks
  afterEach(() => expectNoLeaks(stack, { endLiveCalls: true }));
  afterAll(async () => {
    await stack?.close();
    await pbxHost?.close();
    await new Promise<void>((resolve) => (silent ? silent.close(() => resolve()) : resolve()));
  });

  it('trunks: lists the trunk host and its OPTIONS state, as a table and as JSON', async () => {
    await eventually('trunk host up', async () => {
      const res = await stack.api('GET', '/v1/trunks');
      return (res.body as { trunks: { hosts: { state: string }[] }[] }).trunks[0]?.hosts[0]?.state === 'up';
    });
    const run = await wagw(['trunks'], vars);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^TRUNK\s+HOST\s+TRANSPORT\s+STATE\s+SINCE\s+LAST OPTIONS\s+LAST FAILURE\s+SRTP\s+CODECS\s+CALLS$/m);
    expect(run.stdout).toMatch(new RegExp(`^pbx\\s+127\\.0\\.0\\.1:${pbxPort}\\s+udp\\s+up\\s+\\S+\\s+200 OK.*\\soff\\s+PCMU\\s+-$`, 'm'));

    const asJson = await wagw(['trunks', '--json'], vars);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toMatchObject({ trunks: [{ name: 'pbx', hosts: [{ host: `127.0.0.1:${pbxPort}`, state: 'up' }] }] });
  });

  it('options: prints the status and RTT of a host that answers, exits 1 for one that does not', async () => {
    const ok = await wagw(['options', `127.0.0.1:${pbxPort}`], vars);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(new RegExp(`^sip:127\\.0\\.0\\.1:${pbxPort} over udp: 200 OK in \\d+ ms$`, 'm'));

    const dead = await wagw(['options', `sip:127.0.0.1:${silentPort}`, '--timeout-ms', '1000'], vars);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toContain(`sip:127.0.0.1:${silentPort} over udp: no response within 1000 ms (unreachable)`);
  });

  it('emulator-call makes a simulated user call the business; calls --all shows that call', async () => {
    const run = await wagw(['emulator-call', '15556660001', '--name', 'Cli User'], vars);
    expect(run.code).toBe(0);
    const waCallId = /is calling the business: (\S+)$/m.exec(run.stdout)?.[1];
    expect(waCallId).toBeDefined();
    const rec = await eventually('the gateway saw the call', async () => {
      const res = await stack.api('GET', '/v1/calls?limit=50');
      const { active, recent } = res.body as { active: { callId: string; waCallId?: string }[]; recent: { callId: string; waCallId?: string }[] };
      return [...active, ...recent].find((c) => c.waCallId === waCallId);
    });
    const calls = await wagw(['calls', '--all'], vars);
    expect(calls.code).toBe(0);
    expect(calls.stdout).toMatch(new RegExp(`^${rec.callId}\\s+\\S+\\s+inbound\\s+15556660001\\s`, 'm'));
  });

  it('test-call asks the user for call permission when there is none (202) and says so', async () => {
    await stack.emu('POST', '/emulator/users', { waId: '15556660002', name: 'Permissionless' });
    const run = await wagw(['test-call', '15556660002', '--agent', '1001'], vars);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^call call_\S+: permission requested from 15556660002/m);
    const active = await wagw(['calls'], vars);
    expect(active.stdout).toMatch(/permission-pending\s+outbound\s+15556660002\s+sip:1001@127\.0\.0\.1/);
  });

  it('call shows a call, transfer is refused for one not yet active, hangup ends it and call then shows its CDR', async () => {
    await stack.emu('POST', '/emulator/users', { waId: '15556660003', name: 'Cdr User' });
    const started = await wagw(['test-call', '15556660003', '--agent', '1001'], vars);
    expect(started.code).toBe(0);
    const callId = /^call (call_\S+):/m.exec(started.stdout)?.[1] as string;
    expect(callId).toBeDefined();

    const shown = await wagw(['call', callId], vars);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(new RegExp(`^call:\\s+${callId}$`, 'm'));
    expect(shown.stdout).toMatch(/^state:\s+permission-pending$/m);
    expect(shown.stdout).toMatch(/^WhatsApp user:\s+15556660003$/m);
    expect(shown.stdout).toMatch(/^PBX side:\s+sip:1001@127\.0\.0\.1$/m);
    expect(shown.stdout).toMatch(/^held by:\s+\S+$/m);

    const permission = await wagw(['permission', '15556660003'], vars);
    expect(permission).toMatchObject({ code: 0, stderr: '' });
    expect(permission.stdout).toMatch(/^permission:\s+requested$/m);
    expect(permission.stdout).toMatch(/^an agent's call:\s+\S/m);
    expect(permission.stdout).toMatch(/^permission requests:\s+\d+ left in 24 h, \d+ in 7 days/m);
    expect(permission.stdout).toMatch(/^business calls:\s+0 connected in 24 h$/m);

    // no desk phone on the call yet: the gateway's 409, with its reason, and exit 1
    const refused = await wagw(['transfer', callId, '1002'], vars);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`^wagw transfer: gateway answered POST /v1/calls/${callId}/transfer with HTTP 409: `, 'm'));

    const hungUp = await wagw(['hangup', callId], vars);
    expect(hungUp).toMatchObject({ code: 0, stderr: '' });
    expect(hungUp.stdout).toBe(`call ${callId} ended (by api: hung up through the API), never answered\n`);

    const cdr = await wagw(['call', callId, '--json'], vars);
    expect(cdr.code).toBe(0);
    expect(JSON.parse(cdr.stdout)).toMatchObject({ callId, state: 'ended', endedBy: 'api', userWaId: '15556660003' });
    const gone = await wagw(['call', 'call_does_not_exist'], vars);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/HTTP 404: .*no call call_does_not_exist/);
  });

  it('dead-letters lists a signed webhook of unknown shape with where and why; none before', async () => {
    const none = await wagw(['dead-letters'], vars);
    expect(none).toMatchObject({ code: 0, stdout: 'no dead letters: every webhook received was applied\n' });

    const body = JSON.stringify({ object: 'instagram', entry: [] });
    const res = await fetch(`${stack.signalling.baseUrl}/webhooks/whatsapp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': signWebhookBody(body, stack.config.whatsapp.appSecret) },
      body,
    });
    expect(res.status).toBe(200);
    const listed = await eventually('the dead letter listed', async () => {
      const run = await wagw(['dead-letters', '--limit', '5'], vars);
      return run.code === 0 && run.stdout.startsWith('RECEIVED') ? run : undefined;
    });
    expect(listed.stdout).toMatch(/^RECEIVED\s+WHERE\s+WHY NOT APPLIED$/m);
    expect(listed.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+\s+\$\s+.*whatsapp_business_account/m);

    const bad = await wagw(['dead-letters', '--limit', '0'], vars);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--limit must be a whole number from 1 to 1000, got "0"/);
  });

  it('reload re-reads the unchanged configuration', async () => {
    const run = await wagw(['reload'], vars);
    expect(run).toMatchObject({ code: 0, stdout: 'configuration reloaded: no trunk or route change\n' });
  });

  it('fails clearly: wrong token (1), nothing listening (3), bad usage (2)', async () => {
    const denied = await wagw(['calls'], { ...vars, WAGW_TOKEN: 'wrong-token-wrong-token' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/wagw calls: gateway answered GET \/v1\/calls with HTTP 401: HTTP_401: invalid bearer token/);

    const down = await wagw(['trunks', '--url', `http://127.0.0.1:${silentPort}`], vars);
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach the gateway at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);

    const usage = await wagw(['test-call'], vars);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/missing <waId>/);
  });
});
