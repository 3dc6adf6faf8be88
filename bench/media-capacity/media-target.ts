/**
 * The system under test: our media app (apps/media) in its own process, fresh for every step, with a
 * private Redis; driven over the Redis bus with the libs/contracts requests that signalling uses.
 * Calls are user-initiated (WhatsApp offers, the media app answers) toward a PBX the media app offers to.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import { firstValueFrom, timeout } from 'rxjs';
import { busChannelPrefix, PrefixedRedisClient, busRedisOptions } from '@wagw/config';
import { CONTRACT_VERSION, MEDIA_PATTERNS, PBX_MEDIA_PATTERNS, type CreatePbxOfferReply, type CreateWaLegReply } from '@wagw/contracts';
import { freeTcpPort, startRedisServer, type RedisServerHandle } from '@wagw/testing';
import type { BenchMode } from './wa-generator';
import { killOnExit, killPidOnExit } from './kill-on-exit';
import { pinnedCommand } from './cpu-pinning';
import type { BridgeTarget, CallPeers, ProbeCommand } from './bridge-target';

/** redis.keyPrefix of the media app under test: its bus channels are `<prefix>:media.*`. */
const KEY_PREFIX = 'bench';
const ROOT = join(__dirname, '..', '..');
const PROBE = join(__dirname, 'loop-probe.cjs');
/** A trunk must exist so legs do not keep decoded recordings (wa-leg.factory recordSecondsFor). */
const TRUNKS = JSON.stringify([{ name: 'pbx', hosts: ['127.0.0.1:5060'], transport: 'udp', username: '', password: '', fromUser: '', fromDomain: '', codecs: ['PCMU'], allowFrom: [] }]);

/** How the gateway's launchers start the media app (npm start, start:media, the compose file). */
export const MEDIA_NODE_FLAGS = ['--single-threaded-gc'];

export interface MediaTargetOptions {
  host: string;
  portMin: number;
  portMax: number;
  /** Extra node flags for the media process (e.g. --cpu-prof), after --single-threaded-gc (as the gateway's launchers
   *  start it; `--no-single-threaded-gc` undoes it). */
  nodeArgs?: string[];
  /** Profile directory for --cpu-prof. */
  cwd?: string;
  /** CPUs the media process runs on (taskset list), or null. */
  cpuList?: string | null;
  /** media.opusComplexity for this run (default: the app's default). */
  opusComplexity?: number;
  /** SDES-SRTP toward the PBX (a trunk with srtp: mandatory). */
  pbxSrtp?: boolean;
  /** Name in the results (default "media app"). */
  name?: string;
  /** Append the media process's stdout here (e.g. with --trace-gc in nodeArgs); default: dropped. */
  stdoutFile?: string;
  /** Run the media app of another checkout (with its own node_modules), e.g. to compare two commits. */
  root?: string;
}

function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  // eslint-disable-next-line no-process-env -- the bench hands its environment (PATH, HOME) to the child
  return { ...process.env, ...extra };
}

export class MediaTarget implements BridgeTarget {
  readonly name: string;
  readonly waIceLite = true;
  readonly #opts: MediaTargetOptions;
  #redis: RedisServerHandle | undefined;
  #redisGuard: { forget(): void } | undefined;
  #child: ChildProcess | undefined;
  #client: PrefixedRedisClient | undefined;
  #probeReplies: ((m: Record<string, number>) => void)[] = [];
  #legs = new Map<string, { waLegId: string; pbxLegId: string }>();

  constructor(options: MediaTargetOptions) {
    this.#opts = options;
    this.name = options.name ?? 'media app';
  }

  get pbxSrtp(): boolean {
    return this.#opts.pbxSrtp === true;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /** Starts Redis (once) and a fresh media process; resolves when its health endpoint answers. */
  async start(): Promise<void> {
    if (!this.#redis) {
      this.#redis = await startRedisServer();
      this.#redisGuard = killPidOnExit(this.#redis.pid);
    }
    const httpPort = await freeTcpPort();
    const env = childEnv({
      REDIS_URL: this.#redis.url,
      REDIS_KEY_PREFIX: KEY_PREFIX,
      LOG_LEVEL: 'warn',
      MEDIA_HTTP_PORT: String(httpPort),
      MEDIA_ICE_INTERFACE_ADDRESS: this.#opts.host,
      MEDIA_ICE_CONNECT_TIMEOUT_MS: '30000',
      MEDIA_RTP_PORT_MIN: String(this.#opts.portMin),
      MEDIA_RTP_PORT_MAX: String(this.#opts.portMax),
      PBX_TRUNKS: TRUNKS,
      ...(this.#opts.opusComplexity !== undefined ? { MEDIA_OPUS_COMPLEXITY: String(this.#opts.opusComplexity) } : {}),
    });
    const root = this.#opts.root ?? ROOT;
    const register = join(root, 'bench', 'support', 'register.cjs');
    const main = join(root, 'apps', 'media', 'src', 'main.ts');
    const [cmd, argv] = pinnedCommand(this.#opts.cpuList ?? null, process.execPath, ['-r', register, '-r', PROBE, ...MEDIA_NODE_FLAGS, ...(this.#opts.nodeArgs ?? []), main]);
    const out = this.#opts.stdoutFile ? openSync(this.#opts.stdoutFile, 'a') : 'ignore';
    const child = spawn(cmd, argv, {
      env,
      cwd: this.#opts.cwd ?? ROOT,
      stdio: ['ignore', out, 'inherit', 'ipc'],
    });
    this.#child = child;
    killOnExit(child);
    child.on('message', (m: Record<string, number> & { probe?: string }) => this.#probeReplies.shift()?.(m));
    await waitForHealth(`http://${this.#opts.host}:${httpPort}/health`, child, 30000);
    this.#client = new PrefixedRedisClient({ ...busRedisOptions(this.#redis.url), channelPrefix: busChannelPrefix(KEY_PREFIX) });
    await this.#client.connect();
  }

  /** As signalling does for a user-initiated call: answer WhatsApp (pre_accept), then offer to the PBX. */
  async setupCall(callId: string, waOffer: string, mode: BenchMode, peers: CallPeers): Promise<void> {
    const wa = await this.#request<CreateWaLegReply>(MEDIA_PATTERNS.createWaLeg, { callId, remoteOffer: waOffer });
    await peers.applyWaAnswer(wa.sdp);
    const codecs = mode === 'transcode' ? ['PCMU'] : ['opus'];
    const offer = await this.#request<CreatePbxOfferReply>(PBX_MEDIA_PATTERNS.createPbxOffer, { callId, codecs, ...(this.pbxSrtp ? { srtp: 'mandatory' } : {}) });
    const pbxAnswer = await peers.answerPbx(offer.sdp);
    await this.#request(PBX_MEDIA_PATTERNS.applyPbxAnswer, { callId, legId: offer.legId, sdp: pbxAnswer });
    this.#legs.set(callId, { waLegId: wa.legId, pbxLegId: offer.legId });
  }

  /** Bridges the call (opens the WhatsApp media gate): after the WhatsApp side connected. */
  async startCall(callId: string): Promise<void> {
    const legs = this.#legs.get(callId);
    if (!legs) throw new Error(`no legs for ${callId}`);
    await this.#request(PBX_MEDIA_PATTERNS.startBridge, { callId, waLegId: legs.waLegId, pbxLegId: legs.pbxLegId });
  }

  async abortCall(callId: string): Promise<void> {
    const legs = this.#legs.get(callId);
    if (!legs) return;
    this.#legs.delete(callId);
    await this.#request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId, legId: legs.pbxLegId, reason: 'bench: not connected' });
    await this.#request(MEDIA_PATTERNS.closeWaLeg, { callId, legId: legs.waLegId, reason: 'bench: not connected' });
  }

  probe(cmd: ProbeCommand, file?: string): Promise<Record<string, number>> {
    return new Promise((resolve) => {
      this.#probeReplies.push(resolve);
      this.#child?.send({ probe: cmd, file });
    });
  }

  /** Stops the media process (its legs go with it); Redis stays for the next step. */
  async stop(): Promise<void> {
    await this.#client?.close();
    this.#client = undefined;
    this.#legs.clear();
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    await this.#redis?.stop();
    this.#redisGuard?.forget();
    this.#redis = undefined;
  }

  async #request<T>(pattern: string, body: Record<string, unknown>): Promise<T> {
    if (!this.#client) throw new Error('media target not started');
    try {
      // the media app drops a request past its deadline unanswered: stop waiting then, as signalling does
      return await firstValueFrom(this.#client.send<T>(pattern, { v: CONTRACT_VERSION, deadline: Date.now() + 30000, ...body }).pipe(timeout({ first: 31000 })));
    } catch (err) {
      if ((err as Error | undefined)?.name === 'TimeoutError') throw new Error(`${pattern}: no reply from the media app within 31 s`);
      // bus refusals arrive as plain { code, message } objects
      throw err instanceof Error ? err : new Error(`${pattern}: ${JSON.stringify(err)}`);
    }
  }
}

async function waitForHealth(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`media process exited (${child.exitCode}) before it was healthy`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`media process not healthy within ${timeoutMs} ms`);
}
