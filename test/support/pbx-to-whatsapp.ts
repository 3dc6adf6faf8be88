import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import type { Env } from '@wagw/config';
import {
  freeTcpUdpPort,
  runSipp,
  startBaresip,
  startKamailio,
  writeSineWav,
  writeTonePcap,
  type BaresipCodec,
  type BaresipEvent,
  type BaresipHandle,
  type BaresipMediaEncryption,
  type KamailioHandle,
  type SippResult,
} from '@wagw/testing';
import { eventually, type Stack } from './stack';

export const SIPP_SCENARIOS = join(__dirname, '..', 'sipp');

/**
 * A PBX whose desk phone calls WhatsApp users through the gateway (issue: PBX-originated calls): Kamailio
 * as registrar/proxy with a static route of each WhatsApp number (not a registered user) to the gateway's
 * SIP port, and a baresip desk phone registered as extension 1001 that dials them and plays a tone.
 * The gateway's SIP port is chosen here, before Kamailio's route to it is written: `gatewayEnv()` pins it.
 */
export interface PbxToWhatsApp {
  kamailio: KamailioHandle;
  phone: BaresipHandle;
  /** The UDP/TCP port the gateway's SIP stack must listen on (Kamailio routes the WhatsApp numbers there). */
  gatewaySipPort: number;
  /** The trunk `pbx` whose allowFrom is Kamailio's address, plus the pinned SIP port. */
  gatewayEnv(trunk?: Partial<Omit<PbxTrunkEnvOptions, 'sipPort' | 'host'>>): Env;
  stop(): Promise<void>;
}

export async function startPbxToWhatsApp(options: {
  waIds: readonly string[];
  dir: string;
  phoneToneHz?: number;
  extension?: string;
  /** The phone uses SDES-SRTP (baresip's mediaenc). */
  phoneMediaEncryption?: BaresipMediaEncryption;
  /** The phone's codecs (default PCMU, PCMA) and the rate of its tone WAV and recordings (default 8000). */
  phoneCodecs?: readonly BaresipCodec[];
  phoneSampleRate?: 8000 | 16000;
  /**
   * The gateway registers to Kamailio (its trunk's `register: true`) as `user` with digest `password`, and
   * Kamailio delivers the WhatsApp numbers to that registration instead of a static route: to the
   * registered Contact with the number as its user, or for the numbers in `numberInTo`, to the Contact as
   * registered (the number only in To).
   */
  gatewayRegisters?: { user: string; password: string; numberInTo?: readonly string[] };
}): Promise<PbxToWhatsApp> {
  const gatewaySipPort = await freeTcpUdpPort();
  const reg = options.gatewayRegisters;
  const routes = reg ? {} : Object.fromEntries(options.waIds.map((waId) => [waId, `sip:127.0.0.1:${gatewaySipPort}`]));
  const kamailio = await startKamailio({
    routes,
    ...(reg
      ? {
          registerAuthUsers: [{ user: reg.user, password: reg.password }],
          registeredRoutes: Object.fromEntries(options.waIds.map((waId) => [waId, { aor: reg.user, keepNumber: !(reg.numberInTo ?? []).includes(waId) }])),
        }
      : {}),
  });
  const wavPath = join(options.dir, `phone-${options.phoneToneHz ?? 400}.wav`);
  writeSineWav({ path: wavPath, frequencyHz: options.phoneToneHz ?? 400, sampleRate: options.phoneSampleRate ?? 8000, seconds: 30 });
  let phone: BaresipHandle | undefined;
  // baresip also binds TLS on its SIP port + 1, which the harness does not check is free: retry on a clash
  for (let attempt = 1; !phone; attempt++) {
    try {
      phone = await startBaresip({
        user: options.extension ?? '1001',
        registrar: { host: kamailio.host, port: kamailio.port },
        transport: 'udp',
        wavPath,
        answerMode: 'manual',
        ...(options.phoneMediaEncryption ? { mediaEncryption: options.phoneMediaEncryption } : {}),
        ...(options.phoneCodecs ? { codecs: options.phoneCodecs } : {}),
        ...(options.phoneSampleRate ? { sampleRate: options.phoneSampleRate } : {}),
      });
    } catch (err) {
      if (attempt < 3 && /Address already in use/.test((err as Error).message)) continue;
      await kamailio.stop();
      throw err;
    }
  }
  return {
    kamailio,
    phone,
    gatewaySipPort,
    gatewayEnv: (trunk = {}) => pbxTrunkEnv({ sipPort: gatewaySipPort, host: `${kamailio.host}:${kamailio.port}`, allowFrom: [kamailio.host], ...trunk }),
    stop: async () => {
      await phone.stop();
      await kamailio.stop();
    },
  };
}

export interface PbxTrunkEnvOptions {
  /** The gateway's SIP port (UDP and TCP). */
  sipPort: number;
  /** `host:port` of the PBX. */
  host: string;
  allowFrom: string[];
  inboundUsername?: string;
  inboundPassword?: string;
  srtp?: 'off' | 'optional' | 'mandatory';
  /** The trunk's codecs (default PCMU, PCMA). */
  codecs?: string[];
  /** The gateway registers to the PBX as `username` (trunk `register: true`, `registerExpiresS` 60). */
  register?: { username: string; password: string };
}

/** Environment overrides: the gateway's SIP port and one trunk `pbx` (UDP, G.711 unless `codecs`) that may send INVITEs from `allowFrom`. */
export function pbxTrunkEnv(o: PbxTrunkEnvOptions): Env {
  return {
    PBX_UDP_PORT: String(o.sipPort),
    PBX_TCP_PORT: String(o.sipPort),
    PBX_TRUNKS: JSON.stringify([
      {
        name: 'pbx',
        hosts: [o.host],
        transport: 'udp',
        username: o.register?.username ?? '',
        password: o.register?.password ?? '',
        ...(o.register ? { register: true, registerExpiresS: 60 } : {}),
        fromUser: '',
        fromDomain: o.host.replace(/:\d+$/, ''),
        codecs: o.codecs ?? ['PCMU', 'PCMA'],
        ...(o.srtp ? { srtp: o.srtp } : {}),
        allowFrom: o.allowFrom,
        inboundUsername: o.inboundUsername ?? '',
        inboundPassword: o.inboundPassword ?? '',
      },
    ]),
  };
}

/** The desk phone dials WhatsApp user `waId` and the user answers once it rings: the call's record, active. */
export async function phoneCallsUser(stack: Stack, phone: BaresipHandle, waId: string): Promise<CallRecord> {
  await phone.dial(waId);
  await phone.waitEvent('CALL_RINGING', 20_000);
  await stack.emu('POST', `/emulator/users/${waId}/answer`);
  await phone.waitEvent('CALL_ESTABLISHED', 20_000);
  return eventually(`the phone's call to ${waId} active`, async () => {
    const { active } = (await stack.api('GET', '/v1/calls')).body as { active: CallRecord[] };
    return active.find((c) => c.userWaId === waId && c.state === 'active');
  }, 20_000);
}

/** The phone's call ended: its CALL_CLOSED event (the param carries the final status text, e.g. "480 ..."). */
export function callClosed(phone: BaresipHandle, timeoutMs = 20_000): Promise<BaresipEvent> {
  return phone.waitEvent('CALL_CLOSED', timeoutMs);
}

/** Grants permanent call permission from the user's side (business profile) and waits until the gateway would call. */
export async function grantPermanently(stack: Stack, waId: string): Promise<void> {
  await stack.emu('POST', `/emulator/users/${waId}/permission-reply`, { choice: 'always_allow', fromProfile: true });
  await eventually(`gateway to know ${waId} allowed calls`, async () => {
    const res = await stack.api('GET', `/v1/permissions/${waId}`);
    return res.status === 200 && (res.body as { state: string }).state === 'granted-always' ? true : undefined;
  });
}

/** What the emulator user heard of `frequencyHz` (at least `minFrames` 40 ms windows with the tone). */
export async function userHeard(stack: Stack, waId: string, frequencyHz: number, minFrames = 25): Promise<number> {
  return eventually(`${frequencyHz} Hz at WhatsApp user ${waId}`, async () => {
    const a = await stack.emu<{ tone: { framesWithTone: number } | null; packetsReceived?: number; connectionState?: string }>('GET', `/emulator/users/${waId}/media/analysis?frequencyHz=${frequencyHz}`);
    if (a.tone && a.tone.framesWithTone >= minFrames) return a.tone.framesWithTone;
    // what the user had when the wait ran out goes into the timeout's message
    throw new Error(`last analysis: ${JSON.stringify({ connectionState: a.connectionState, packetsReceived: a.packetsReceived, tone: a.tone })}`);
  }, 15_000, 250);
}

export interface GraphRequestEntry {
  seq: number;
  action: string;
  callId?: string;
  to?: string;
  httpStatus: number;
}

/** The emulator's log of Graph requests that reached it (token and number checks passed), oldest first. */
export function graphRequests(stack: Stack): Promise<GraphRequestEntry[]> {
  return stack.emu<GraphRequestEntry[]>('GET', '/emulator/graph-requests');
}

export interface SippUacOptions {
  /** File name in test/sipp/. */
  scenario: string;
  /** The gateway's SIP port (UDP). */
  gatewayPort: number;
  /** Request-URI user (the WhatsApp number dialled). */
  service: string;
  /** SIPp's working directory (holds `tone.pcap` when `tonePcap` is set); the caller removes it. */
  dir: string;
  /** SIPp's own address (default 127.0.0.1); 127.0.0.2 is a source that is on no allow-list. */
  localHost?: string;
  /** `-key name value`: `[name]` in the scenario. */
  keys?: Readonly<Record<string, string>>;
  auth?: { user: string; password: string };
  calls?: number;
  rate?: number;
  /** Writes `tone.pcap` (PCMU, 20 ms packets) in `dir` for the scenario's play_pcap_audio. */
  tonePcap?: { frequencyHz: number; seconds: number };
  timeoutMs?: number;
}

/** Runs a SIPp UAC scenario of test/sipp/ against the gateway; resolves with SIPp's result (exit code 0: as written). */
export function runSippUac(o: SippUacOptions): Promise<SippResult> {
  if (o.tonePcap) writeTonePcap({ path: join(o.dir, 'tone.pcap'), codec: 'PCMU', ...o.tonePcap });
  return runSipp({
    scenario: join(SIPP_SCENARIOS, o.scenario),
    target: `127.0.0.1:${o.gatewayPort}`,
    service: o.service,
    dir: o.dir,
    ...(o.localHost ? { localHost: o.localHost } : {}),
    ...(o.auth ? { auth: o.auth } : {}),
    ...(o.calls !== undefined ? { calls: o.calls } : {}),
    ...(o.rate !== undefined ? { rate: o.rate } : {}),
    timeoutMs: o.timeoutMs ?? 60_000,
    extraArgs: Object.entries(o.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
  });
}

/** SIPp's outcome for assertions: exit code, whether it was killed at its timeout, its call counts. */
export function sippOutcome(r: SippResult): { exitCode: number | null; timedOut: boolean; stats: string } {
  const stats = r.stats ? `created ${r.stats.created}, successful ${r.stats.successful}, failed ${r.stats.failed}` : 'no stats';
  return { exitCode: r.exitCode, timedOut: r.timedOut, stats };
}

/** Fails with SIPp's own error output unless it exited 0 (every call ran as the scenario says). */
export function expectSippPassed(r: SippResult): void {
  if (r.exitCode === 0 && !r.timedOut) return;
  const o = sippOutcome(r);
  throw new Error(`SIPp failed: exit ${o.exitCode}${o.timedOut ? ' (killed at its timeout)' : ''}, ${o.stats}\n${r.errors.slice(-2000)}\n${r.stderr.slice(-1000)}\n${r.stdout.slice(-1000)}`);
}
