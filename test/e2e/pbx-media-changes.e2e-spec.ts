import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { freeTcpUdpPort } from '@wagw/testing';
import { PbxLegRegistry } from '../../apps/media/src/sessions/pbx-leg-registry';
import { expectNoLeaks } from '../support/leaks';
import { expectSippPassed, grantPermanently, pbxTrunkEnv, runSippUac, userHeard } from '../support/pbx-to-whatsapp';
import { startRtpEchoPeer, type ReceivedRtp, type RtpEchoPeer } from '../support/rtp-echo-peer';
import { startSippPbx, trunkEnv, type SippPbx } from '../support/sipp-pbx';
import { activeCall, endedCall, eventually, startStack, type Stack } from '../support/stack';

/**
 * Mid-call media changes from the PBX on a real call (RFC 3264 §8): SIPp plays a desk phone that calls a
 * WhatsApp user (test/sipp/uac-pbx-moves-holds-resumes-expect-200.xml) with its media first at RTP peer A, then
 * moves it to peer B by re-INVITE (a transfer), holds (a=sendonly) for 4 s, resumes, offers G.729 only
 * (488, the call goes on) and re-INVITEs without SDP (our offer in the 200, its answer in the ACK). Both
 * peers echo what they get, so the user's 1 kHz tone comes back through whichever one has the media.
 * WhatsApp's no-media timeout (30 s mid-call at Meta) is 2 s here, shorter than the hold: a held call gets no
 * RTP from the gateway and must live on its RTCP reports, as Meta allows (reference §4 limits, TS-2512).
 */
const USER = '15557700001';
const CALLER = '15557700002';
const BUSINESS = '15550001111';
const TONE_HZ = 1000;
/** The emulator's no-media timeout, shorter than the scenarios' 4 s hold (both directions). */
const NO_MEDIA_ENV = { EMULATOR_MEDIA_TIMEOUT_MS: '2000' };
/** Peer B stands for another phone: its own SSRC (the bridge re-stamps it onto the user's one stream). */
const SECOND_PHONE_SSRC = 0x0b0b_0002;

/** What the two peers got of the user's tone (G.711 PCMU, payload type 0). */
function tonePackets(peer: RtpEchoPeer): ReceivedRtp[] {
  return peer.received().filter((p) => p.payloadType === 0);
}

/** The longest silence between two consecutive packets, and the time of the packet after it. */
function longestGap(packets: readonly ReceivedRtp[]): { ms: number; resumedAt: number } {
  let best = { ms: 0, resumedAt: 0 };
  for (let i = 1; i < packets.length; i++) {
    const ms = (packets[i] as ReceivedRtp).at - (packets[i - 1] as ReceivedRtp).at;
    if (ms > best.ms) best = { ms, resumedAt: (packets[i] as ReceivedRtp).at };
  }
  return best;
}

describe('a PBX that moves, holds and resumes the media of a call to a WhatsApp user (SIPp, two RTP peers)', () => {
  let dir: string;
  let stack: Stack | undefined;
  let peerA: RtpEchoPeer | undefined;
  let peerB: RtpEchoPeer | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wagw-pbx-media-changes-'));
    stack = await startStack({ name: 'pbx-media-changes', env: { ...pbxTrunkEnv({ sipPort: await freeTcpUdpPort(), host: '127.0.0.1:5060', allowFrom: ['127.0.0.1'] }), ...NO_MEDIA_ENV } });
    await stack.emu('POST', '/emulator/users', { waId: USER, name: 'Ines' });
    await grantPermanently(stack, USER);
    peerA = await startRtpEchoPeer();
    peerB = await startRtpEchoPeer({ ssrc: SECOND_PHONE_SSRC });
  });

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await peerA?.close();
    await peerB?.close();
    stack = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends RTP to the new address at once, none while held, again on resume; refuses a codec change with 488 and keeps the call', async () => {
    const s = stack as Stack;
    const a = peerA as RtpEchoPeer;
    const b = peerB as RtpEchoPeer;
    const sipp = runSippUac({
      scenario: 'uac-pbx-moves-holds-resumes-expect-200.xml',
      gatewayPort: s.config.pbx.udpPort,
      service: USER,
      dir,
      keys: { first_port: String(a.port), moved_port: String(b.port) },
      timeoutMs: 60_000,
    });
    // the user answers by itself (after 1 s) and plays a steady tone for the whole call
    const call = await eventually('the call active', async () => {
      const { active } = (await s.api('GET', '/v1/calls')).body as { active: CallRecord[] };
      return active.find((c) => c.userWaId === USER && c.state === 'active');
    }, 20_000);
    await s.emu('POST', `/emulator/users/${USER}/media/tone`, { frequencyHz: TONE_HZ });

    expectSippPassed(await sipp); // every 200 answered as the scenario checks (recvonly to the hold), 488 to G.729
    // what the media app did with each mid-call SDP (wagw_pbx_media_changes_total): the ACK's answer changed nothing
    expect(s.media.app.get(PbxLegRegistry).mediaChanges).toEqual({ move: 1, hold: 1, resume: 1, refresh: 1, refused: 1 });

    const atA = tonePackets(a);
    const atB = tonePackets(b);
    // the tone reached A first, then B: the move took the RTP with it
    expect(atA.length).toBeGreaterThan(50);
    expect(atB.length).toBeGreaterThan(100);
    expect(a.heard('PCMU', 0, TONE_HZ).framesWithTone).toBeGreaterThanOrEqual(25);
    expect(b.heard('PCMU', 0, TONE_HZ).framesWithTone).toBeGreaterThanOrEqual(25);
    // nothing went to A after the first packet to B (a latched or stale address would keep sending there)
    expect((atA.at(-1) as ReceivedRtp).at).toBeLessThanOrEqual((atB[0] as ReceivedRtp).at + 60);
    // the 4 s hold is a silence at B (the user's tone never stops), and RTP came back after it: the call
    // outlived WhatsApp's 2 s no-media timeout on RTCP alone
    const gap = longestGap(atB);
    expect(gap.ms).toBeGreaterThan(3000);
    expect(gap.ms).toBeLessThan(6000);
    expect(atB.filter((p) => p.at >= gap.resumedAt).length).toBeGreaterThan(50);
    // the echo from both peers came back to the user through the bridge
    expect(await userHeard(s, USER, TONE_HZ)).toBeGreaterThanOrEqual(25);

    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'pbx', codec: 'PCMU' });
  });
});

describe('a PBX that moves, holds and resumes the media of a WhatsApp user\'s call to it (SIPp as the PBX, two RTP peers)', () => {
  let stack: Stack | undefined;
  let pbx: SippPbx | undefined;
  let peerA: RtpEchoPeer | undefined;
  let peerB: RtpEchoPeer | undefined;

  afterEach(() => expectNoLeaks(stack));
  afterEach(async () => {
    await stack?.close();
    await pbx?.stop();
    await peerA?.close();
    await peerB?.close();
    stack = undefined;
    pbx = undefined;
  });

  it('follows the re-INVITEs of an agent transfer and hold: RTP to the new peer at once, none while held, again on resume', async () => {
    const a = (peerA = await startRtpEchoPeer());
    const b = (peerB = await startRtpEchoPeer({ ssrc: SECOND_PHONE_SSRC }));
    pbx = await startSippPbx('uas-pbx-moves-holds-resumes-expect-200.xml', {
      transport: 'udp',
      keys: { rtp_peer_host: a.host, first_port: String(a.port), moved_port: String(b.port) },
    });
    const s = (stack = await startStack({ name: 'pbx-media-changes-inbound', env: { ...trunkEnv(BUSINESS, pbx.hostPort, { transport: 'udp', codecs: ['PCMU', 'PCMA'] }), ...NO_MEDIA_ENV } }));
    await s.emu('POST', '/emulator/users', { waId: CALLER, name: 'Omar' });
    const { waCallId } = await s.emu<{ waCallId: string }>('POST', `/emulator/users/${CALLER}/call`, {});
    await s.emu('POST', `/emulator/users/${CALLER}/media/tone`, { frequencyHz: TONE_HZ });
    const call = await activeCall(s, waCallId);

    // the PBX's script: 3 s at A, the move to B, 2.5 s, a 4 s hold (longer than WhatsApp's no-media timeout
    // here: the call lives on RTCP), the resume; wait for RTP after the hold
    const resumed = await eventually('RTP at B again after the hold', async () => {
      const gap = longestGap(tonePackets(b));
      const after = tonePackets(b).filter((p) => p.at >= gap.resumedAt).length;
      if (gap.ms > 3000 && after > 50) return gap;
      // what the peers had when the wait ran out goes into the timeout's message
      throw new Error(`A ${tonePackets(a).length} packets, B ${tonePackets(b).length}, B's longest gap ${Math.round(gap.ms)} ms with ${after} after it`);
    }, 30_000, 250);
    expect(resumed.ms).toBeLessThan(6000);
    const atA = tonePackets(a);
    const atB = tonePackets(b);
    expect(atA.length).toBeGreaterThan(50);
    expect(a.heard('PCMU', 0, TONE_HZ).framesWithTone).toBeGreaterThanOrEqual(25);
    expect(b.heard('PCMU', 0, TONE_HZ).framesWithTone).toBeGreaterThanOrEqual(25);
    expect((atA.at(-1) as ReceivedRtp).at).toBeLessThanOrEqual((atB[0] as ReceivedRtp).at + 60);
    expect(await userHeard(s, CALLER, TONE_HZ)).toBeGreaterThanOrEqual(25);

    await s.emu('POST', `/emulator/users/${CALLER}/hangup`);
    expect(await endedCall(s, call.callId)).toMatchObject({ endedBy: 'wa', codec: 'PCMU' });
    const sipp = await pbx.result();
    expect({ exit: sipp.exitCode, errors: sipp.errors }).toEqual({ exit: 0, errors: '' });
  });
});
