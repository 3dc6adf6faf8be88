import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import Redis from 'ioredis';
import pino from 'pino';
import type { CallRecord } from '@wagw/call-state';
import { loadConfig, type Env } from '@wagw/config';
import { createLogger } from '@wagw/logging';
import { freeTcpPort, freeTcpUdpPort } from '@wagw/testing';
import { bootstrapMedia, type MediaHandle } from '../../apps/media/src/bootstrap';
import { bootstrapEmulator, type EmulatorHandle } from '../../apps/wa-emulator/src/bootstrap';
import { eventually, localGatewayEnv } from './stack';
import { startSippPbx, trunkEnv, type SippPbx } from './sipp-pbx';
import { pbxTrunkEnv } from './pbx-to-whatsapp';

/**
 * Signalling as an operator runs it, each process its own (from source), beside the media app and the
 * emulator in the test's process, a SIPp PBX and the test Redis: for the tests that kill signalling processes
 * or run several of them on one gateway.
 */
const ROOT = join(__dirname, '..', '..');
export const BUSINESS = '15550001111';
/** The signalling API's bearer token in these scenes. */
export const API_TOKEN = 'crash-test-token';

export interface Signalling {
  child: ChildProcess;
  output(): string;
  exited: Promise<unknown>;
}

export interface Scene {
  /** The gateway's Redis key prefix. */
  prefix: string;
  redis: Redis;
  pbx: SippPbx;
  env: Env;
  sipPort: number;
  baseUrl: string;
  api<T>(path: string): Promise<T>;
  post(path: string, body: unknown): Promise<{ status: number; body: unknown }>;
  emu<T>(method: string, path: string, body?: unknown): Promise<T>;
  mediaLegs(): Promise<number>;
}

/** The events of an SSE stream as they arrive (a minimal reader on node:http). */
export function sseText(url: string): { events(): { id: string; type: string; data: unknown }[]; connected(): boolean; close(): void } {
  let text = '';
  let connected = false;
  const req = httpRequest(url, { headers: { accept: 'text/event-stream' } }, (res) => {
    connected = res.statusCode === 200;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (text += chunk));
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return {
    events: () => [...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1] as string) as { id: string; type: string; data: unknown }),
    connected: () => connected,
    close: () => req.destroy(),
  };
}

/**
 * Registers the per-test clean-up (signalling processes killed, apps closed, the prefix's keys deleted) and
 * returns `scene` (the parts but signalling) and `startSignalling` (one more signalling process, healthy).
 */
export function signallingProcesses(): { scene(scenario: string, options?: { pbxCalls?: boolean; env?: Env; sippCalls?: number }): Promise<Scene>; startSignalling(env: Env, baseUrl: string): Promise<Signalling> } {
  const prefix = `sp${randomBytes(4).toString('hex')}`;
  let redis: Redis | undefined;
  let media: MediaHandle | undefined;
  let emulator: EmulatorHandle | undefined;
  let pbx: SippPbx | undefined;
  const processes: Signalling[] = [];

  afterEach(async () => {
    for (const p of processes.splice(0)) {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await p.exited;
    }
    await emulator?.close();
    await media?.close();
    await pbx?.stop();
    if (redis) {
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    }
  });

  function startSignalling(env: Env, baseUrl: string): Promise<Signalling> {
    const child = spawn(process.execPath, ['-r', './apps/cli/dev/register-ts.js', 'apps/signalling/src/main.ts'], { cwd: ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    const running: Signalling = { child, output: () => out, exited: new Promise((resolve) => child.once('exit', resolve)) };
    processes.push(running);
    return eventually(
      'signalling healthy',
      async () => {
        if (child.exitCode !== null) throw new Error(`signalling exited (${child.exitCode}):\n${out.slice(-2000)}`);
        return (await fetch(`${baseUrl}/health`).catch(() => undefined))?.status === 200 ? running : undefined;
      },
      60_000,
      250,
    );
  }

  /**
   * Redis, a SIPp PBX playing `scenario` (a UAS the gateway calls; with `pbxCalls`, the trunk also takes
   * INVITEs from 127.0.0.1, where a SIPp UAC the test runs calls from; `sippCalls`: the calls the UAS takes
   * before it exits, default 1), the media app and the emulator; signalling is started by the test.
   */
  async function scene(scenario: string, options: { pbxCalls?: boolean; env?: Env; sippCalls?: number } = {}): Promise<Scene> {
    const redisUrl = process.env['TEST_REDIS_URL'];
    if (!redisUrl) throw new Error('TEST_REDIS_URL is not set: run integration tests through jest --selectProjects integration');
    const r = (redis = new Redis(redisUrl));
    const sippPbx = (pbx = await startSippPbx(scenario, { transport: 'udp', timeoutMs: 120_000, calls: options.sippCalls ?? 1 }));
    const [sigPort, mediaPort, emuPort, sipPort] = await Promise.all([freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpUdpPort()]);
    const token = API_TOKEN;
    const env: Env = {
      ...localGatewayEnv({ redisUrl, prefix, sigPort, mediaPort, emuPort, sipPort }),
      LOG_LEVEL: 'info',
      SIGNALLING_API_TOKEN: token,
      ...trunkEnv(BUSINESS, sippPbx.hostPort, { transport: 'udp' }),
      ...(options.pbxCalls ? pbxTrunkEnv({ sipPort, host: sippPbx.hostPort, allowFrom: ['127.0.0.1'] }) : {}),
      ...options.env,
    };
    const config = loadConfig({ env });
    const logDir = join(ROOT, 'test-output', 'logs');
    mkdirSync(logDir, { recursive: true });
    const logger = (name: string) => createLogger({ name, level: 'info', destination: pino.destination({ dest: join(logDir, `signalling-processes-${prefix}.log`), sync: false, append: true }) });
    media = await bootstrapMedia({ config, logger: logger('media') });
    emulator = await bootstrapEmulator(config, { logger: logger('wa-emulator') });
    const baseUrl = `http://127.0.0.1:${sigPort}`;
    const emulatorUrl = emulator.baseUrl;
    const mediaUrl = media.httpUrl;
    return {
      prefix,
      redis: r,
      pbx: sippPbx,
      env,
      sipPort,
      baseUrl,
      api: async <T>(path: string): Promise<T> => (await (await fetch(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as T,
      post: async (path: string, body: unknown) => {
        const res = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
        return { status: res.status, body: (await res.json()) as unknown };
      },
      emu: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        const res = await fetch(`${emulatorUrl}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
        if (!res.ok) throw new Error(`emulator ${method} ${path} -> ${res.status}: ${await res.text()}`);
        return (await res.json()) as T;
      },
      mediaLegs: async (): Promise<number> => ((await (await fetch(`${mediaUrl}/health`)).json()) as { legs: number }).legs,
    };
  }

  return { scene, startSignalling };
}

/** Waits until the call is ended by the process that took over (the heartbeat expires in 10 s, two looks 5 s apart confirm it: ~15-25 s). */
export async function endedByTakeover(s: Scene, callId: string): Promise<CallRecord> {
  return eventually('the call ended by the new process', async () => {
    const rec = await s.api<CallRecord>(`/v1/calls/${callId}`);
    return rec.state === 'ended' ? rec : undefined;
  }, 45_000, 500);
}
