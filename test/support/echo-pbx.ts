import type { Env } from '@wagw/config';
import type { CallRecord } from '@wagw/call-state';
import { activeCall, eventually, type Stack } from './stack';
import { startRtpEchoPeer, type RtpEchoPeer } from './rtp-echo-peer';
import { startSippPbx, trunkEnv, type SippPbx, type SippTrunkOptions } from './sipp-pbx';

/**
 * A PBX for WhatsApp users' calls to ring: SIPp plays its signalling (`uas-answer-rtp-peer-expect-200.xml`:
 * 180, 200 with one codec, then it expects the gateway's BYE) and an RTP peer that echoes every packet is its
 * media, so a user hears their own tone through the whole bridge.
 */
export interface EchoPbx {
  readonly echo: RtpEchoPeer;
  readonly sipp: SippPbx;
  /** Environment of a trunk `pbx` toward it (UDP) and a route of `businessNumber` to it. */
  env(businessNumber: string, trunk?: Omit<SippTrunkOptions, 'transport'>): Env;
  /** Stops SIPp and closes the RTP peer (idempotent). */
  stop(): Promise<void>;
}

export interface EchoPbxOptions {
  /** Calls SIPp answers before it exits (default 1). */
  calls?: number;
  /** The one codec of its answer (default PCMU, payload type 0). */
  answer?: { pt: number; rtpmap: string };
}

export async function startEchoPbx(options: EchoPbxOptions = {}): Promise<EchoPbx> {
  const echo = await startRtpEchoPeer();
  const answer = options.answer ?? { pt: 0, rtpmap: 'PCMU/8000' };
  const sipp = await startSippPbx('uas-answer-rtp-peer-expect-200.xml', {
    transport: 'udp',
    ...(options.calls !== undefined ? { calls: options.calls } : {}),
    keys: { rtp_peer_host: echo.host, rtp_peer_port: String(echo.port), answer_pt: String(answer.pt), answer_rtpmap: answer.rtpmap },
  }).catch(async (err: unknown) => {
    await echo.close();
    throw err;
  });
  return {
    echo,
    sipp,
    env: (businessNumber, trunk = {}) => trunkEnv(businessNumber, sipp.hostPort, { ...trunk, transport: 'udp' }),
    stop: async () => {
      await sipp.stop();
      await echo.close();
    },
  };
}

/** The user calls the business and plays a tone; resolves with the call once it is active. */
export async function userCallsWithTone(stack: Stack, waId: string, frequencyHz = 1000): Promise<CallRecord> {
  const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${waId}/call`, {});
  await stack.emu('POST', `/emulator/users/${waId}/media/tone`, { frequencyHz });
  return activeCall(stack, waCallId);
}

/** The 40 ms windows in which the user heard `frequencyHz` so far (the emulator's analysis of what it recorded). */
export async function toneFramesAtUser(stack: Stack, waId: string, frequencyHz = 1000): Promise<number> {
  const a = await stack.emu<{ tone: { framesWithTone: number } | null }>('GET', `/emulator/users/${waId}/media/analysis?frequencyHz=${frequencyHz}`);
  return a.tone?.framesWithTone ?? 0;
}

/** Waits until the user hears their own tone come back through the bridge and the echoing PBX (25 windows). */
export async function userHearsEcho(stack: Stack, waId: string, frequencyHz = 1000): Promise<void> {
  await eventually(`the echoed ${frequencyHz} Hz at the user`, async () => (await toneFramesAtUser(stack, waId, frequencyHz)) >= 25, 15_000, 250);
}
