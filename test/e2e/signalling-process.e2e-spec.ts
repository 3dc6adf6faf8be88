import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freeTcpPort, freeTcpUdpPort } from '@wagw/testing';
import { eventually } from '../support/stack';

/**
 * The signalling app as an operator runs it: its own process (from source, as the CLI tests run the CLI),
 * configured by a YAML file. SIGHUP re-reads the file and applies the trunks without stopping the app (Nest's
 * default shutdown signals include SIGHUP: it used to stop the app beside the reload); SIGTERM drains and
 * stops it, and it says so in its log.
 */
const ROOT = join(__dirname, '..', '..');

interface Running {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function trunk(name: string, port: number): Record<string, unknown> {
  return { name, hosts: [`127.0.0.1:${port}`], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU'], allowFrom: [], optionsIntervalMs: 0 };
}

describe('the signalling process and its signals', () => {
  let dir = '';
  let app: Running | undefined;
  let redis: Redis | undefined;
  const prefix = `sp${randomBytes(4).toString('hex')}`;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-signalling-process-'));
  });
  afterEach(async () => {
    if (app && app.child.exitCode === null && app.child.signalCode === null) {
      app.child.kill('SIGKILL');
      await app.exited;
    }
    if (redis) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
    rmSync(dir, { recursive: true, force: true });
    app = undefined;
    redis = undefined;
  });

  async function start(configFile: string): Promise<{ running: Running; baseUrl: string; token: string }> {
    const redisUrl = process.env['TEST_REDIS_URL'];
    if (!redisUrl) throw new Error('TEST_REDIS_URL is not set: run integration tests through jest --selectProjects integration');
    redis = new Redis(redisUrl);
    const [httpPort, sipPort, graphPort] = await Promise.all([freeTcpPort(), freeTcpUdpPort(), freeTcpPort()]);
    const token = 'process-test-token';
    const env = {
      PATH: process.env['PATH'] ?? '',
      CONFIG_FILE: configFile,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: prefix,
      SIGNALLING_HTTP_PORT: String(httpPort),
      SIGNALLING_API_TOKEN: token,
      SIGNALLING_DRAIN_TIMEOUT_S: '5',
      PBX_UDP_PORT: String(sipPort),
      PBX_TCP_PORT: String(sipPort),
      // nothing listens there: no call is placed in this test
      WHATSAPP_GRAPH_BASE_URL: `http://127.0.0.1:${graphPort}`,
    };
    const child = spawn(process.execPath, ['-r', './apps/cli/dev/register-ts.js', 'apps/signalling/src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const running: Running = { child, output: () => out, exited };
    app = running;
    const baseUrl = `http://127.0.0.1:${httpPort}`;
    await eventually('signalling healthy', async () => {
      if (child.exitCode !== null) throw new Error(`signalling exited (${child.exitCode}):\n${out.slice(-2000)}`);
      return (await fetch(`${baseUrl}/health`).catch(() => undefined))?.status === 200;
    }, 60_000, 250);
    return { running, baseUrl, token };
  }

  it('applies the trunks of a changed file on SIGHUP and keeps running; drains and stops on SIGTERM', async () => {
    const file = join(dir, 'gateway.yaml');
    writeFileSync(file, JSON.stringify({ pbx: { trunks: [trunk('pbx-a', 15061)] } }));
    const { running, baseUrl, token } = await start(file);
    const trunkNames = async (): Promise<string[]> => {
      const res = await fetch(`${baseUrl}/v1/trunks`, { headers: { authorization: `Bearer ${token}` } });
      return ((await res.json()) as { trunks: { name: string }[] }).trunks.map((t) => t.name);
    };
    expect(await trunkNames()).toEqual(['pbx-a']);

    writeFileSync(file, JSON.stringify({ pbx: { trunks: [trunk('pbx-a', 15061), trunk('pbx-b', 15062)] } }));
    running.child.kill('SIGHUP');
    await eventually('the new trunk applied', async () => (await trunkNames()).join() === 'pbx-a,pbx-b');
    await new Promise((r) => setTimeout(r, 1000));
    expect({ exitCode: running.child.exitCode, signal: running.child.signalCode }).toEqual({ exitCode: null, signal: null });
    expect((await fetch(`${baseUrl}/health`)).status).toBe(200);

    running.child.kill('SIGTERM');
    const exit = await Promise.race([running.exited, new Promise<'still running'>((r) => setTimeout(() => r('still running'), 15_000))]);
    expect(exit).not.toBe('still running');
    expect(running.output()).toMatch(/"msg":"drained: no call in progress"/);
  });
});
