/**
 * The reference: Debian's rtpengine-daemon (userspace forwarding, --table=-1) bridging the same WebRTC <->
 * RTP calls under the same generators, controlled over its ng protocol (bencode over UDP). Flags are the
 * ones that worked here (shared/reference test-peers.md): the WebRTC offer goes in with `offer` (plain
 * RTP/AVP toward the PBX, transcoding Opus -> PCMU or Opus only), the PBX answer with `answer`, and
 * rtpengine then answers the WebRTC side itself (ICE, DTLS `a=setup:active`).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { freeUdpPortRange } from '@wagw/testing';
import { bdecode, bencode, type BValue } from './bencode';
import type { BridgeTarget, CallPeers } from './bridge-target';
import type { BenchMode } from './wa-generator';
import { killOnExit } from './kill-on-exit';
import { pinnedCommand } from './cpu-pinning';

export interface RtpengineTargetOptions {
  host: string;
  portMin: number;
  portMax: number;
  binary?: string;
  /** rtpengine's log level (default 3) and a file to append its log to (default: kept in memory for errors). */
  logLevel?: number;
  logFile?: string;
  /** CPUs rtpengine runs on (taskset list), or null. */
  cpuList?: string | null;
}

/** werift 0.24 cannot parse the short `a=rtcp:PORT`: write it out with the address. */
export function expandRtcpLine(sdp: string): string {
  const addr = /^c=IN IP4 (\S+)/m.exec(sdp)?.[1] ?? '127.0.0.1';
  return sdp.replace(/^a=rtcp:(\d+)\s*$/gm, `a=rtcp:$1 IN IP4 ${addr}`);
}

export class RtpengineTarget implements BridgeTarget {
  readonly name = 'rtpengine';
  /**
   * rtpengine 10.5 turns ICE-controlled when it answers a Meta-style ICE-lite offer (session-level
   * a=ice-lite), so neither side nominates and about a third of the calls never connect: the WhatsApp side
   * offers as a full ICE agent here (controlling). Only who nominates the pair differs; media is the same.
   */
  readonly waIceLite = false;
  readonly #opts: RtpengineTargetOptions;
  #child: ChildProcess | undefined;
  #sock: Socket | undefined;
  #ngPort = 0;
  #pending = new Map<string, (reply: Record<string, BValue>) => void>();
  #calls: string[] = [];

  constructor(options: RtpengineTargetOptions) {
    this.#opts = options;
  }

  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  static version(binary = 'rtpengine'): string {
    try {
      return /Version:\s*(\S+)/.exec(execFileSync(binary, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
    } catch {
      return 'not installed';
    }
  }

  async start(): Promise<void> {
    this.#ngPort = await freeUdpPortRange(1);
    const args = [
      '--config-file=none',
      '--foreground',
      `--interface=${this.#opts.host}`,
      `--listen-ng=${this.#opts.host}:${this.#ngPort}`,
      `--port-min=${this.#opts.portMin}`,
      `--port-max=${this.#opts.portMax}`,
      '--table=-1',
      '--log-stderr',
      `--log-level=${this.#opts.logLevel ?? 3}`,
    ];
    const [cmd, argv] = pinnedCommand(this.#opts.cpuList ?? null, this.#opts.binary ?? 'rtpengine', args);
    const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
      if (this.#opts.logFile) appendFileSync(this.#opts.logFile, d);
    });
    this.#child = child;
    killOnExit(child);
    this.#sock = createSocket('udp4');
    this.#sock.on('message', (msg) => this.#onReply(msg));
    await new Promise<void>((resolve) => this.#sock?.bind(0, this.#opts.host, () => resolve()));
    const until = Date.now() + 10000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`rtpengine exited (${child.exitCode}): ${stderr}`);
      const pong = await this.#ng({ command: 'ping' }, 300).catch(() => undefined);
      if (pong?.['result'] === 'pong') return;
      if (Date.now() > until) throw new Error(`rtpengine did not answer ping: ${stderr}`);
    }
  }

  async setupCall(callId: string, waOffer: string, mode: BenchMode, peers: CallPeers): Promise<void> {
    const fromTag = `wa-${callId}`;
    const toTag = `pbx-${callId}`;
    const codec: BValue = mode === 'transcode' ? { mask: ['opus'], transcode: ['PCMU'] } : { strip: ['all'], except: ['opus'] };
    const offer = await this.#ng({
      command: 'offer',
      'call-id': callId,
      'from-tag': fromTag,
      sdp: waOffer,
      'transport-protocol': 'RTP/AVP',
      ICE: 'remove',
      DTLS: 'off',
      SDES: ['off'],
      'rtcp-mux': ['demux'],
      replace: ['origin', 'session-connection'],
      codec,
    });
    this.#calls.push(callId);
    const pbxAnswer = await peers.answerPbx(String(offer['sdp']));
    const answer = await this.#ng({
      command: 'answer',
      'call-id': callId,
      'from-tag': fromTag,
      'to-tag': toTag,
      sdp: pbxAnswer,
      ICE: 'force',
      'rtcp-mux': ['offer'],
      replace: ['origin', 'session-connection'],
    });
    await peers.applyWaAnswer(expandRtcpLine(String(answer['sdp'])));
  }

  async abortCall(callId: string): Promise<void> {
    this.#calls = this.#calls.filter((c) => c !== callId);
    await this.#ng({ command: 'delete', 'call-id': callId });
  }

  async startCall(): Promise<void> {
    // rtpengine forwards as soon as both sides are known
  }

  /** Deletes every call and stops the daemon (the next step starts a fresh one). */
  async stop(): Promise<void> {
    for (const callId of this.#calls.splice(0)) await this.#ng({ command: 'delete', 'call-id': callId }).catch(() => undefined);
    const child = this.#child;
    this.#child = undefined;
    this.#sock?.close();
    this.#sock = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
  }

  #ng(command: Record<string, BValue>, timeoutMs = 10000): Promise<Record<string, BValue>> {
    const sock = this.#sock;
    if (!sock) return Promise.reject(new Error('rtpengine target not started'));
    const cookie = randomBytes(6).toString('hex');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(cookie);
        reject(new Error(`ng ${String(command['command'])}: no reply within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(cookie, (reply) => {
        clearTimeout(timer);
        if (reply['result'] === 'error') reject(new Error(`ng ${String(command['command'])}: ${String(reply['error-reason'])}`));
        else resolve(reply);
      });
      sock.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(command)]), this.#ngPort, this.#opts.host);
    });
  }

  #onReply(msg: Buffer): void {
    const space = msg.indexOf(0x20);
    if (space < 0) return;
    const done = this.#pending.get(msg.toString('latin1', 0, space));
    if (!done) return;
    this.#pending.delete(msg.toString('latin1', 0, space));
    done(bdecode(msg.subarray(space + 1)) as Record<string, BValue>);
  }
}
