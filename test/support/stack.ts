import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import pino from 'pino';
import type { CallRecord } from '@wagw/call-state';
import { loadConfig, type AppConfig, type Env } from '@wagw/config';
import { createLogger, type Logger } from '@wagw/logging';
import { freeTcpPort, freeTcpUdpPort } from '@wagw/testing';
import { bootstrapSignalling, type SignallingHandle } from '../../apps/signalling/src/bootstrap';
import { bootstrapMedia, type MediaHandle } from '../../apps/media/src/bootstrap';
import { bootstrapEmulator, type EmulatorHandle } from '../../apps/wa-emulator/src/bootstrap';
import { printWarningsIfFailed } from './failure-log';

export interface StackOptions {
  /** Extra environment-style overrides (e.g. { SIGNALLING_AUTO_ACCEPT_WITHOUT_PBX: 'true' }). */
  env?: Env;
  /** Name used for the log file under test-output/logs. */
  name: string;
  /**
   * Several media apps (media.instanceId each, listed in signalling.mediaInstances), booted in-process on
   * their own health ports. Default: one media app with no instance id.
   */
  mediaInstances?: readonly string[];
}

export interface Stack {
  config: Readonly<AppConfig>;
  redis: Redis;
  emulator: EmulatorHandle;
  /** The (first) media app. */
  media: MediaHandle;
  /** Every media app, by instance id ('' for the single, unnamed one). */
  medias: ReadonlyMap<string, MediaHandle>;
  signalling: SignallingHandle;
  logFile: string;
  /** GET/POST on the emulator control API, JSON in and out; throws with the body on non-2xx. */
  emu<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
  /** GET/POST on the signalling CRM API with the bearer token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }>;
  /** Shuts one media app down (drained, heartbeat removed), as an operator stopping an instance would. */
  stopMedia(instanceId: string): Promise<void>;
  /** Keys under this stack's prefix, sorted. */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * The configuration (as environment) of a gateway whose apps talk to each other over loopback on the given
 * ports: signalling, media (ICE on 127.0.0.1), the emulator as Graph API and webhook sender, SIP on UDP and
 * TCP. A call up when signalling stops is ended at once (cleanly) instead of draining for 30 s.
 */
export function localGatewayEnv(o: { redisUrl: string; prefix: string; sigPort: number; mediaPort: number; emuPort: number; sipPort: number }): Env {
  return {
    REDIS_URL: o.redisUrl,
    REDIS_KEY_PREFIX: o.prefix,
    SIGNALLING_HTTP_PORT: String(o.sigPort),
    MEDIA_HTTP_PORT: String(o.mediaPort),
    MEDIA_ICE_INTERFACE_ADDRESS: '127.0.0.1',
    EMULATOR_HTTP_PORT: String(o.emuPort),
    EMULATOR_WEBHOOK_URL: `http://127.0.0.1:${o.sigPort}/webhooks/whatsapp`,
    WHATSAPP_GRAPH_BASE_URL: `http://127.0.0.1:${o.emuPort}`,
    PBX_UDP_PORT: String(o.sipPort),
    PBX_TCP_PORT: String(o.sipPort),
    SIGNALLING_DRAIN_TIMEOUT_S: '0',
  };
}

/** The real apps, booted in-process on free ports against the test Redis, with one log file per stack. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const redisUrl = process.env['TEST_REDIS_URL'];
  if (!redisUrl) throw new Error('TEST_REDIS_URL is not set: run integration tests through jest --selectProjects integration');
  const [sigPort, mediaPort, emuPort, sipPort] = await Promise.all([freeTcpPort(), freeTcpPort(), freeTcpPort(), freeTcpUdpPort()]);
  const prefix = `t${randomBytes(4).toString('hex')}`;
  // the environment the gateway reads its config from (again on POST /v1/admin/reload)
  const env: Env = {
    ...localGatewayEnv({ redisUrl, prefix, sigPort, mediaPort, emuPort, sipPort }),
    LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'debug',
    ...(options.mediaInstances ? { SIGNALLING_MEDIA_INSTANCES: JSON.stringify(options.mediaInstances) } : {}),
    ...options.env,
  };
  const config = loadConfig({ env });
  const dir = join(__dirname, '..', '..', 'test-output', 'logs');
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `${options.name.replace(/[^a-z0-9-]+/gi, '-')}-${prefix}.log`);
  const base = (name: string): Logger => createLogger({ name, level: config.log.level, destination: pino.destination({ dest: logFile, sync: false, append: true }) });
  const medias = new Map<string, MediaHandle>();
  for (const instanceId of options.mediaInstances ?? ['']) {
    const own = instanceId === '' ? config : loadConfig({ env: { ...env, MEDIA_INSTANCE_ID: instanceId, MEDIA_HTTP_PORT: String(await freeTcpPort()) } });
    medias.set(instanceId, await bootstrapMedia({ config: own, logger: base(instanceId === '' ? 'media' : `media:${instanceId}`) }));
  }
  const media = medias.values().next().value as MediaHandle;
  const emulator = await bootstrapEmulator(config, { logger: base('wa-emulator') });
  // the gateway decides permissions on the emulator's clock, so tests can let days pass
  const signalling = await bootstrapSignalling({ config, env, logger: base('signalling'), now: () => emulator.core.clock.now() });
  const redis = new Redis(redisUrl);
  const emu = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${emulator.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`emulator ${method} ${path} -> ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
  const api = async (method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> => {
    const res = await fetch(`${signalling.baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${config.signalling.apiToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  return {
    config,
    redis,
    emulator,
    media,
    medias,
    signalling,
    logFile,
    emu,
    api,
    stopMedia: async (instanceId) => {
      const m = medias.get(instanceId);
      medias.delete(instanceId);
      await m?.close();
    },
    keys: async () => (await redis.keys(`${prefix}:*`)).sort(),
    close: async () => {
      await emulator.close();
      await signalling.close();
      for (const m of medias.values()) await m.close();
      await redis.quit();
      await printWarningsIfFailed(logFile);
    },
  };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** The call of WhatsApp call `waCallId` once the API shows it active. */
export function activeCall(stack: Stack, waCallId: string, timeoutMs = 20_000): Promise<CallRecord> {
  return eventually(`call ${waCallId} active`, async () => {
    const res = await stack.api('GET', `/v1/calls/${waCallId}`);
    const rec = res.body as CallRecord;
    return res.status === 200 && rec.state === 'active' ? rec : undefined;
  }, timeoutMs);
}

/** The CDR of a WhatsApp call once it ended (an ended call is no longer found by its WhatsApp call id). */
export function endedWaCall(stack: Stack, waCallId: string, timeoutMs = 10_000): Promise<CallRecord> {
  return eventually(`WhatsApp call ${waCallId} ended`, async () => {
    const { recent } = (await stack.api('GET', '/v1/calls?limit=100')).body as { recent: CallRecord[] };
    return recent.find((r) => r.waCallId === waCallId && r.state === 'ended');
  }, timeoutMs);
}

/** The call's record (its CDR) once the API shows it ended. */
export function endedCall(stack: Stack, callId: string, timeoutMs = 15_000): Promise<CallRecord> {
  return eventually(`call ${callId} ended`, async () => {
    const rec = (await stack.api('GET', `/v1/calls/${callId}`)).body as CallRecord;
    return rec.state === 'ended' ? rec : undefined;
  }, timeoutMs);
}
