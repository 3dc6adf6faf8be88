import { join } from 'node:path';
import type { Env } from '@wagw/config';
import { freeTcpUdpPort, startBaresip, startKamailio, writeSineWav, type BaresipEvent, type BaresipHandle, type KamailioHandle } from '@wagw/testing';
import { eventually, type Stack } from './stack';

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
  gatewayEnv(trunk?: { inboundUsername?: string; inboundPassword?: string; allowFrom?: string[] }): Env;
  stop(): Promise<void>;
}

export async function startPbxToWhatsApp(options: { waIds: readonly string[]; dir: string; phoneToneHz?: number; extension?: string }): Promise<PbxToWhatsApp> {
  const gatewaySipPort = await freeTcpUdpPort();
  const routes = Object.fromEntries(options.waIds.map((waId) => [waId, `sip:127.0.0.1:${gatewaySipPort}`]));
  const kamailio = await startKamailio({ routes });
  const wavPath = join(options.dir, `phone-${options.phoneToneHz ?? 400}.wav`);
  writeSineWav({ path: wavPath, frequencyHz: options.phoneToneHz ?? 400, sampleRate: 8000, seconds: 30 });
  let phone: BaresipHandle;
  try {
    phone = await startBaresip({
      user: options.extension ?? '1001',
      registrar: { host: kamailio.host, port: kamailio.port },
      transport: 'udp',
      wavPath,
      answerMode: 'manual',
    });
  } catch (err) {
    await kamailio.stop();
    throw err;
  }
  return {
    kamailio,
    phone,
    gatewaySipPort,
    gatewayEnv: (trunk = {}) => ({
      PBX_UDP_PORT: String(gatewaySipPort),
      PBX_TCP_PORT: String(gatewaySipPort),
      PBX_TRUNKS: JSON.stringify([
        {
          name: 'pbx',
          hosts: [`${kamailio.host}:${kamailio.port}`],
          transport: 'udp',
          username: '',
          password: '',
          fromUser: '',
          fromDomain: kamailio.host,
          codecs: ['PCMU', 'PCMA'],
          allowFrom: trunk.allowFrom ?? [kamailio.host],
          inboundUsername: trunk.inboundUsername ?? '',
          inboundPassword: trunk.inboundPassword ?? '',
        },
      ]),
    }),
    stop: async () => {
      await phone.stop();
      await kamailio.stop();
    },
  };
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
    const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${waId}/media/analysis?frequencyHz=${frequencyHz}`);
    return a.tone && a.tone.framesWithTone >= minFrames ? a.tone.framesWithTone : undefined;
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
