import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Env } from '@wagw/config';
import { startSippUas, type SippResult, type SippUasHandle } from '@wagw/testing';

/**
 * SIPp as the PBX behind the gateway's trunk (UAS scenarios in test/sipp/). Each PBX logs every SIP message
 * it sent and received, so a test can count the INVITEs (distinct Call-IDs) that reached it, and the
 * scenario's own checks decide SIPp's exit code (0: the scenario ran as written).
 */
export const SIPP_SCENARIO_DIR = join(__dirname, '..', 'sipp');

export interface SippPbx {
  readonly uas: SippUasHandle;
  readonly transport: 'udp' | 'tcp';
  /** `host:port` of the PBX. */
  readonly hostPort: string;
  /** Settles when SIPp exits by itself (its `calls` calls done) or is stopped. */
  result(): Promise<SippResult>;
  /** Call-IDs of the out-of-dialog INVITEs SIPp received (an auth retry or a retransmission is not a new one). */
  inviteCallIds(): string[];
  /** SIPp's `-trace_msg` log so far: every message it sent and received, as text. */
  messages(): string;
  /** Stops SIPp (if still running), removes its directory, and returns its result. Idempotent. */
  stop(): Promise<SippResult>;
}

export interface SippPbxOptions {
  transport: 'udp' | 'tcp';
  /** Calls SIPp takes before it exits (default 1). */
  calls?: number;
  /** `-key name value`: `[name]` in the scenario. */
  keys?: Readonly<Record<string, string>>;
  timeoutMs?: number;
  /** SIPp's own address (default 127.0.0.1). */
  localHost?: string;
}

export async function startSippPbx(scenario: string, options: SippPbxOptions): Promise<SippPbx> {
  const dir = mkdtempSync(join(tmpdir(), 'wagw-sipp-pbx-'));
  const messages = join(dir, 'messages.log');
  const extraArgs = ['-trace_msg', '-message_file', messages, ...Object.entries(options.keys ?? {}).flatMap(([k, v]) => ['-key', k, v])];
  const uas = await startSippUas({
    scenario: join(SIPP_SCENARIO_DIR, scenario),
    transport: options.transport === 'udp' ? 'u1' : 't1',
    calls: options.calls ?? 1,
    timeoutMs: options.timeoutMs ?? 60_000,
    extraArgs,
    dir,
    ...(options.localHost ? { localHost: options.localHost } : {}),
  });
  let removed = false;
  const remove = (r: SippResult): SippResult => {
    if (!removed && process.env['WAGW_KEEP_PEER_DIRS'] !== '1') rmSync(dir, { recursive: true, force: true });
    removed = true;
    return r;
  };
  return {
    uas,
    transport: options.transport,
    hostPort: `${uas.host}:${uas.port}`,
    result: () => uas.result,
    inviteCallIds: () => (existsSync(messages) ? receivedInviteCallIds(readFileSync(messages, 'utf8')) : []),
    messages: () => (existsSync(messages) ? readFileSync(messages, 'utf8') : ''),
    stop: async () => remove(await uas.stop()),
  };
}

/** Call-IDs of INVITEs without a To tag in SIPp's `-trace_msg` log, each once, in arrival order. */
export function receivedInviteCallIds(log: string): string[] {
  const ids: string[] = [];
  for (const block of log.split(/^-{10,}.*$/m)) {
    if (!/message received/.test(block)) continue;
    const body = block.replace(/^[\s\S]*?message received[^\n]*\n\s*\n/, '');
    if (!/^INVITE /.test(body)) continue;
    const to = /^(?:To|t):.*$/im.exec(body)?.[0] ?? '';
    if (/;\s*tag=/i.test(to)) continue; // a re-INVITE inside a dialog
    const id = /^(?:Call-ID|i):\s*(\S+)/im.exec(body)?.[1];
    if (id && !ids.includes(id)) ids.push(id);
  }
  return ids;
}

export interface SippTrunkOptions {
  transport: 'udp' | 'tcp';
  codecs?: readonly ('PCMU' | 'PCMA' | 'G722' | 'opus')[];
  ringTimeoutMs?: number;
  auth?: { username: string; password: string };
  /** Extension dialled on the PBX (default 1001). */
  extension?: string;
  /** The trunk's assertIdentity (P-Asserted-Identity on our INVITEs). */
  assertIdentity?: boolean;
  /** The trunk's maxCalls (calls at once, both directions). */
  maxCalls?: number;
}

/** Environment overrides for one trunk `pbx` at `hostPort` and a route of `businessNumber` to it (reject on failure). */
export function trunkEnv(businessNumber: string, hostPort: string, o: SippTrunkOptions): Env {
  const host = hostPort.replace(/:\d+$/, '');
  return {
    PBX_TRUNKS: JSON.stringify([
      {
        name: 'pbx',
        hosts: [hostPort],
        transport: o.transport,
        username: o.auth?.username ?? '',
        password: o.auth?.password ?? '',
        fromUser: o.auth?.username ?? '',
        fromDomain: host,
        codecs: o.codecs ?? ['PCMU', 'PCMA'],
        allowFrom: [],
        ...(o.assertIdentity ? { assertIdentity: true } : {}),
        ...(o.maxCalls !== undefined ? { maxCalls: o.maxCalls } : {}),
        // SIPp plays one scripted dialog: OPTIONS keep-alives would be unexpected calls to it
        optionsIntervalMs: 0,
      },
    ]),
    PBX_ROUTES: JSON.stringify([
      { businessNumber, destinations: [{ uri: `sip:${o.extension ?? '1001'}@${hostPort}`, trunk: 'pbx', ringTimeoutMs: o.ringTimeoutMs ?? 20_000 }], onFailure: 'reject' },
    ]),
  };
}
