/**
 * The SRTP fast path on real werift legs over loopback: the gateway's WaLeg (fast path on by default)
 * against a simulated WhatsApp user on werift's own SRTP (an independent implementation), both sides on the
 * fast path (the load generator's setting), and a leg that keeps werift's path.
 */
import { RTCPeerConnection, RtpHeader, type RTCRtpTransceiver, type RtpPacket } from 'werift';
import { silentLogger } from '@wagw/logging';
import { analyseTone } from '../../audio/tone';
import { SimulatedWhatsAppPeer } from '../simulated-whatsapp-peer';
import { WaLeg } from '../wa-leg';
import { waitFor } from '../testing/wait-for';
import { GATEWAY_OPUS_FMTP, META_OPUS_FMTP, peerConfig, useHostCandidatesOnly } from '../peer-config';
import { SrtpFastPath } from './srtp-fast-path';
import { SRTP_AES128_CM_HMAC_SHA1_80, type SrtpRtpPacket } from './srtp-session';

const ICE = '127.0.0.1';
const logger = silentLogger();
const open: Array<{ close(): Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function call(peerFast: boolean, legFast: boolean): Promise<{ peer: SimulatedWhatsAppPeer; leg: WaLeg }> {
  const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger, fastSrtp: peerFast });
  open.push(peer);
  const { leg, sdp } = await WaLeg.answerOffer(await peer.createOffer(), { iceAddress: ICE, connectTimeoutMs: 5000, logger, recordSeconds: 10, fastSrtp: legFast });
  open.push(leg);
  await peer.applyAnswer(sdp);
  await Promise.all([leg.whenConnected(), peer.connected(5000)]);
  return { peer, leg };
}

async function tonesBothWays(peer: SimulatedWhatsAppPeer, leg: WaLeg): Promise<void> {
  peer.playTone(1000);
  leg.startMedia();
  leg.playTone(400);
  await waitFor('1 kHz at the gateway', () => leg.analyseTone(1000).framesWithTone >= 25, 8000);
  await waitFor('400 Hz at the user', () => analyseTone(peer.recording(), 400, 48000).framesWithTone >= 25, 8000);
  expect(leg.analyseTone(400).framesWithTone).toBe(0);
  expect(analyseTone(peer.recording(), 1000, 48000).framesWithTone).toBe(0);
}

describe('SRTP fast path on werift legs', () => {
  it('carries the gateway leg\'s RTP both ways against a user on werift\'s own SRTP, with nothing rejected', async () => {
    const { peer, leg } = await call(false, true);
    await tonesBothWays(peer, leg);
    await waitFor('a sender report from the user', () => (leg.stats().rtcpReceived ?? 0) > 0, 5000);
    const stats = leg.stats();
    expect(stats.rtpPath).toBe('fast');
    expect(stats.srtpRejected).toBe(0);
    expect(stats.packetsFromOtherSource).toBe(0);
    expect(stats.packetsDropped).toBe(0);
    expect(peer.stats().packetsReceived).toBeGreaterThan(25);
  });

  it('works with both sides on the fast path (the load generator\'s setting)', async () => {
    const { peer, leg } = await call(true, true);
    await tonesBothWays(peer, leg);
    await waitFor('a sender report from the user', () => (leg.stats().rtcpReceived ?? 0) > 0, 5000);
    expect(leg.stats()).toMatchObject({ rtpPath: 'fast', srtpRejected: 0 });
  });

  it('keeps werift\'s RTP path when fastSrtp is false', async () => {
    const { peer, leg } = await call(true, false);
    await tonesBothWays(peer, leg);
    expect(leg.stats().rtpPath).toBe('werift');
    expect(leg.stats().srtpRejected).toBeUndefined();
  });
});

/** Two bare werift peers whose DTLS offers only `profile` (werift itself prefers GCM). */
async function bareLegs(profile: number): Promise<{ gw: RTCRtpTransceiver; user: RTCRtpTransceiver }> {
  const gwPc = new RTCPeerConnection(peerConfig({ iceLite: false, opusFmtp: GATEWAY_OPUS_FMTP, iceAddress: ICE }));
  const userPc = new RTCPeerConnection(peerConfig({ iceLite: true, opusFmtp: META_OPUS_FMTP, iceAddress: ICE }));
  open.push(gwPc, userPc);
  const user = userPc.addTransceiver('audio', { direction: 'sendrecv' });
  useHostCandidatesOnly(userPc);
  await userPc.setLocalDescription(await userPc.createOffer());
  await gwPc.setRemoteDescription(userPc.localDescription as never);
  const gw = gwPc.getTransceivers()[0] as RTCRtpTransceiver;
  gw.setDirection('sendrecv');
  useHostCandidatesOnly(gwPc);
  for (const t of [gw, user]) (t.dtlsTransport as unknown as { srtpProfiles: number[] }).srtpProfiles = [profile];
  await gwPc.setLocalDescription(await gwPc.createAnswer());
  await userPc.setRemoteDescription(gwPc.localDescription as never);
  await waitFor('both connected', () => gwPc.connectionState === 'connected' && userPc.connectionState === 'connected', 8000);
  return { gw, user };
}

describe('SRTP fast path with AES_CM_128_HMAC_SHA1_80 keys exported by a real DTLS handshake', () => {
  it('decrypts what werift sends and sends what werift decrypts', async () => {
    const { gw, user } = await bareLegs(SRTP_AES128_CM_HMAC_SHA1_80);
    const atGateway: { seq: number; payload: string }[] = [];
    const fast = SrtpFastPath.attach(gw.dtlsTransport, (p: SrtpRtpPacket) => atGateway.push({ seq: p.sequenceNumber, payload: p.payload.toString('hex') }), logger);
    expect(fast?.profile).toBe(SRTP_AES128_CM_HMAC_SHA1_80);
    const atUser: RtpPacket[] = [];
    user.dtlsTransport.onRtp.subscribe((rtp) => void atUser.push(rtp));

    for (let i = 0; i < 20; i++) {
      await user.dtlsTransport.sendRtp(Buffer.from([i, 1, 2, 3]), new RtpHeader({ payloadType: 111, sequenceNumber: 500 + i, timestamp: 960 * i, ssrc: 42 }));
      expect(fast?.send(111, false, 9000 + i, 960 * i, 77, Buffer.from([i, 9, 9]))).toBe(true);
    }
    await waitFor('20 packets each way', () => atGateway.length >= 20 && atUser.length >= 20, 5000);
    expect(atGateway[5]).toEqual({ seq: 505, payload: '05010203' });
    expect(atUser.map((p) => p.header.sequenceNumber).slice(0, 3)).toEqual([9000, 9001, 9002]);
    expect(atUser[7]?.payload.toString('hex')).toBe('070909');
    expect(fast?.stats()).toMatchObject({ packetsReceived: 20, packetsSent: 20, authFailures: 0, replays: 0 });
    fast?.detach();
  });
});
