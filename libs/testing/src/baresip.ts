import { createSocket } from 'node:dgram';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BaresipCtrlClient, type BaresipEvent, type BaresipResponse } from './baresip-ctrl';
import {
  baresipAor,
  buildBaresipAccount,
  buildBaresipConfig,
  parseRegInfo,
  type BaresipCodec,
  type BaresipMediaEncryption,
  type BaresipTransport,
} from './baresip-config';
import { freeSipPortPair, freeTcpPort, freeTcpUdpPort } from './free-port';
import { freeUdpPortRange } from './port-range';
import { ManagedProcess, PeerHarnessError, delay, makeTempDir, removeTempDir, waitUntil } from './process';
import { writeSineWav } from './wav';

/**
 * baresip 1.0 as a headless desk phone for tests: registers at a registrar, auto- or manually answers,
 * plays a WAV (8 kHz mono 16-bit) and records both directions with sndfile. Commands and events go over
 * ctrl_tcp; DTMF (RFC 4733 telephone-event) goes through the `cons` module as keypresses, since baresip
 * 1.0 has no long command for DTMF: a digit key starts the event, key code 0x04 (key release) ends it.
 */

export interface BaresipOptions {
  user: string;
  password?: string;
  registrar: { host: string; port: number };
  transport?: BaresipTransport;
  /** What the phone sends (8 kHz mono 16-bit WAV, looped). Default: a generated 400 Hz tone. */
  wavPath?: string;
  answerMode?: 'auto' | 'manual';
  /** Offered/accepted codecs in preference order; default PCMU, PCMA. */
  codecs?: readonly BaresipCodec[];
  /** Rate of the WAV source and the recordings (default 8000); 16000 keeps a G.722 call's wideband audio. */
  sampleRate?: 8000 | 16000;
  /**
   * SDES-SRTP (`mediaenc`): `srtp-mand` offers RTP/SAVP with one AES_CM_128_HMAC_SHA1_80 crypto line and
   * answers 488 to anything else; `srtp` is best effort (RTP/AVP plus crypto). Default: plain RTP.
   */
  mediaEncryption?: BaresipMediaEncryption;
  /** Register at start (default true); false sets regint=0. */
  register?: boolean;
  /** Resolve only once registered (default: same as `register`). */
  awaitRegistration?: boolean;
  startTimeoutMs?: number;
  host?: string;
  keepDir?: boolean;
  binary?: string;
  modulesDir?: string;
}

/**
 * sndfile names its dumps `dump-<YYYY-MM-DD-hh-mm-ss>-{dec,enc}.wav`: two calls of one phone starting in the
 * same second share (overwrite) a file. The header sizes are final only once the call has closed; readWav
 * also reads a file still being written.
 */
export interface BaresipRecordings {
  /** What the phone heard (decoder side), one WAV per call, oldest first. */
  dec: string[];
  /** What the phone sent (encoder side). */
  enc: string[];
}

export interface BaresipHandle {
  readonly user: string;
  /** The account AOR, `sip:user@registrar-host:port`. */
  readonly sipUri: string;
  readonly sipPort: number;
  readonly dir: string;
  readonly logPath: string;
  readonly pid: number;
  /** A full SIP URI, or a bare user (dialled at the registrar). */
  dial(target: string): Promise<void>;
  answer(): Promise<void>;
  hangup(): Promise<void>;
  /** Sends RFC 4733 digits (0-9 * # A-D), each held `toneMs`. */
  sendDtmf(digits: string, toneMs?: number, gapMs?: number): Promise<void>;
  /** Any ctrl_tcp long command, e.g. `listcalls`, `callstat`. */
  command(name: string, params?: string): Promise<BaresipResponse>;
  waitRegistered(timeoutMs?: number): Promise<void>;
  /**
   * The earliest event of `type` not returned by an earlier waitEvent (arrivals before the call count, so
   * there is no race with the action). Events a test did not await stay pending: call forgetEvents() when a
   * new scenario starts on a reused phone.
   */
  waitEvent(type: string, timeoutMs?: number, match?: (e: BaresipEvent) => boolean): Promise<BaresipEvent>;
  events(): readonly BaresipEvent[];
  forgetEvents(): void;
  recordings(): BaresipRecordings;
  log(): string;
  /** SIGTERM (un-registers), a second SIGTERM after 0.5 s forces exit, then SIGKILL after 1 s. Idempotent. */
  stop(): Promise<void>;
}

const RTP_RANGE = 16;

type Optional = 'password' | 'wavPath' | 'mediaEncryption' | 'sampleRate';
type Resolved = Required<Omit<BaresipOptions, Optional>> & Pick<BaresipOptions, Optional>;

async function writeFiles(o: Resolved, dir: string) {
  const recordDir = join(dir, 'rec');
  mkdirSync(recordDir);
  const wavPath = o.wavPath ?? writeSineWav({ path: join(dir, 'tone-400hz.wav'), frequencyHz: 400, seconds: 10 });
  const [sipPort, ctrlPort, consPort] = [await freeSipPortPair(o.host), await freeTcpPort(o.host), await freeTcpUdpPort(o.host)];
  const rtpPortMin = await freeUdpPortRange(RTP_RANGE, o.host);
  const rtpPortMax = rtpPortMin + RTP_RANGE - 1;
  const config = buildBaresipConfig({
    host: o.host,
    sipPort,
    transport: o.transport,
    wavPath,
    recordDir,
    ctrlPort,
    consPort,
    rtpPortMin,
    rtpPortMax,
    modulesDir: o.modulesDir,
    ...(o.sampleRate !== undefined ? { sampleRate: o.sampleRate } : {}),
  });
  writeFileSync(join(dir, 'config'), config);
  const account = buildBaresipAccount({
    user: o.user,
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.mediaEncryption !== undefined ? { mediaEncryption: o.mediaEncryption } : {}),
    registrar: o.registrar,
    transport: o.transport,
    answerMode: o.answerMode,
    codecs: o.codecs,
    registerIntervalS: o.register ? 300 : 0,
  });
  writeFileSync(join(dir, 'accounts'), account);
  return { recordDir, sipPort, ctrlPort, consPort };
}

/**
 * Starts a headless baresip. Its ports are picked free just before it starts, and another process can take
 * one in between ("Address already in use", exit 98): then it starts again on new ports, up to 3 times.
 */
export async function startBaresip(options: BaresipOptions): Promise<BaresipHandle> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startBaresipOnce(options);
    } catch (err) {
      if (attempt >= 3 || !/Address already in use/.test((err as Error).message)) throw err;
    }
  }
}

async function startBaresipOnce(options: BaresipOptions): Promise<BaresipHandle> {
  const o: Resolved = {
    transport: 'udp',
    answerMode: 'auto',
    codecs: ['PCMU', 'PCMA'],
    register: true,
    awaitRegistration: options.register ?? true,
    startTimeoutMs: 10_000,
    host: '127.0.0.1',
    keepDir: false,
    binary: 'baresip',
    modulesDir: '/usr/lib/baresip/modules',
    ...options,
  };
  const dir = makeTempDir(`baresip-${o.user}`);
  const files = await writeFiles(o, dir);
  const proc = new ManagedProcess({
    name: `baresip ${o.user}`,
    command: o.binary,
    args: ['-f', dir],
    cwd: dir,
    logPath: join(dir, 'baresip.log'),
  });
  try {
    const ctrl = await waitUntil(() => BaresipCtrlClient.connect(o.host, files.ctrlPort), {
      timeoutMs: o.startTimeoutMs,
      what: `baresip ${o.user} ctrl_tcp on ${files.ctrlPort}`,
      process: proc,
    });
    const handle = new BaresipPhone(o, dir, files, proc, ctrl);
    if (o.awaitRegistration) await handle.waitRegistered(o.startTimeoutMs);
    return handle;
  } catch (err) {
    await proc.stop('SIGKILL');
    // keep the log of a phone that failed for another reason than a lost port race (it is in the message)
    if (/Address already in use/.test((err as Error).message)) removeTempDir(dir, o.keepDir);
    throw err;
  }
}

class BaresipPhone implements BaresipHandle {
  readonly user: string;
  readonly sipUri: string;
  readonly sipPort: number;
  readonly dir: string;
  readonly logPath: string;
  readonly pid: number;
  readonly #o: Resolved;
  readonly #files: { recordDir: string; consPort: number };
  readonly #proc: ManagedProcess;
  readonly #ctrl: BaresipCtrlClient;
  #stopping: Promise<void> | undefined;

  constructor(o: Resolved, dir: string, files: { recordDir: string; sipPort: number; consPort: number }, proc: ManagedProcess, ctrl: BaresipCtrlClient) {
    this.#o = o;
    this.#files = files;
    this.#proc = proc;
    this.#ctrl = ctrl;
    this.user = o.user;
    this.sipUri = baresipAor(o);
    this.sipPort = files.sipPort;
    this.dir = dir;
    this.logPath = proc.logPath;
    this.pid = proc.pid;
  }

  async command(name: string, params?: string): Promise<BaresipResponse> {
    return this.#ctrl.command(name, params);
  }

  async #mustCommand(name: string, params?: string): Promise<BaresipResponse> {
    const res = await this.#ctrl.command(name, params);
    if (!res.ok) throw new PeerHarnessError(`baresip ${this.user}: ${name} ${params ?? ''} failed: ${res.data.trim()}`);
    return res;
  }

  async dial(target: string): Promise<void> {
    const uri = /^sips?:/.test(target) ? target : `sip:${target}@${this.#o.registrar.host}:${this.#o.registrar.port}`;
    await this.#mustCommand('dial', uri);
  }

  async answer(): Promise<void> {
    await this.#mustCommand('accept');
  }

  async hangup(): Promise<void> {
    await this.#mustCommand('hangup');
  }

  async sendDtmf(digits: string, toneMs = 100, gapMs = 60): Promise<void> {
    if (!/^[0-9*#A-D]+$/.test(digits)) throw new TypeError(`invalid DTMF digits ${JSON.stringify(digits)}`);
    const sock = createSocket('udp4');
    const send = (text: string) =>
      new Promise<void>((resolve, reject) =>
        sock.send(text, this.#files.consPort, this.#o.host, (err) => (err ? reject(err) : resolve())),
      );
    try {
      for (const digit of digits) {
        await send(digit);
        await delay(toneMs); // the key is "held" this long: the tone's duration, not synchronisation
        await send('\x04');
        await delay(gapMs);
      }
    } finally {
      sock.close();
    }
  }

  async waitRegistered(timeoutMs = 5000): Promise<void> {
    await waitUntil(async () => parseRegInfo((await this.#ctrl.command('reginfo')).data, this.sipUri), {
      timeoutMs,
      intervalMs: 50,
      what: `baresip ${this.user} to register at ${this.#o.registrar.host}:${this.#o.registrar.port}`,
      process: this.#proc,
    });
  }

  waitEvent(type: string, timeoutMs = 10_000, match?: (e: BaresipEvent) => boolean): Promise<BaresipEvent> {
    return this.#ctrl.waitEvent(type, timeoutMs, match).catch((err: Error) => {
      throw new PeerHarnessError(`${err.message}; ${this.#proc.describe(15)}`);
    });
  }

  events(): readonly BaresipEvent[] {
    return this.#ctrl.events();
  }

  forgetEvents(): void {
    this.#ctrl.forgetEvents();
  }

  recordings(): BaresipRecordings {
    const names = readdirSync(this.#files.recordDir).sort();
    const pick = (suffix: string) => names.filter((n) => n.endsWith(suffix)).map((n) => join(this.#files.recordDir, n));
    return { dec: pick('-dec.wav'), enc: pick('-enc.wav') };
  }

  log(): string {
    return this.#proc.log();
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#doStop();
    return this.#stopping;
  }

  async #doStop(): Promise<void> {
    this.#ctrl.close();
    // First SIGTERM: hang up, un-register, exit (tens of ms on loopback). It can hang on a transaction
    // toward a peer that is gone (a registrar stopped first, a callee stopped in parallel); a second SIGTERM
    // makes baresip exit at once.
    this.#proc.signal('SIGTERM');
    if (!(await this.#proc.waitExit(500))) {
      this.#proc.signal('SIGTERM');
      await this.#proc.waitExit(1000);
    }
    await this.#proc.stop('SIGKILL', 0);
    removeTempDir(this.dir, this.#o.keepDir);
  }
}
