import { silentLogger } from '@wagw/logging';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyseTone, ToneGenerator } from '../audio/tone';
import { encodeWav } from '../audio/wav';
import { SimulatedWhatsAppPeer } from './simulated-whatsapp-peer';
import { WaLeg } from './wa-leg';
import { candidates, dtlsSetup, isIceLite, ssrcs } from './sdp-rewrite';
import { openUdpPorts, waitFor } from './testing/wait-for';
import type { WaLegOptions } from './wa-leg.types';

const ICE = '127.0.0.1';
const logger = silentLogger();
/** A leg that has not connected within 2 s fails: the regression guard for werift's 5 s STUN stall. */
const legOptions = (): WaLegOptions => ({ iceAddress: ICE, connectTimeoutMs: 2000, logger, recordSeconds: 10 });

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function userInitiatedCall(): Promise<{ peer: SimulatedWhatsAppPeer; leg: WaLeg; offer: string; answer: string }> {
  const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
  open.push(peer);
  const offer = await peer.createOffer();
  const { leg, sdp } = await WaLeg.answerOffer(offer, legOptions());
  open.push(leg);
  await peer.applyAnswer(sdp);
  return { peer, leg, offer, answer: sdp };
}

async function packetsAtLeg(leg: WaLeg, count: number): Promise<void> {
  await new Promise<void>((resolve) => {
    let n = 0;
    const off = leg.onRtp(() => {
      if (++n >= count) {
        off();
        resolve();
      }
    });
  });
}

describe('WaLeg answering a WhatsApp (simulated relay) offer', () => {
  it('answers as a full ICE agent and DTLS client and connects', async () => {
    const { peer, leg, offer, answer } = await userInitiatedCall();
    const seen: string[] = [];
    leg.on('stateChanged', () => {
      throw new Error('a buggy listener');
    });
    leg.on('stateChanged', ({ state }) => seen.push(state));

    expect(isIceLite(offer)).toBe(true);
    expect(ssrcs(offer)).toHaveLength(1);
    expect(isIceLite(answer)).toBe(false);
    expect(dtlsSetup(answer)).toBe('active');
    expect(candidates(answer).map((c) => c.address)).toEqual([ICE]);
    await leg.whenConnected();
    await peer.connected(2000);
    const stats = leg.stats();
    expect(stats.state).toBe('connected');
    expect(stats.dtlsRole).toBe('client');
    expect(stats.iceControlling).toBe(true);
    expect(peer.dtlsRole).toBe('server');
    expect(seen).toEqual(['connected']); // the throwing listener did not stop the other or the leg
  });

  it('hears a 1 kHz tone from the user at 1 kHz and not at 400 Hz', async () => {
    const { peer, leg } = await userInitiatedCall();
    await leg.whenConnected();

    peer.playTone(1000);
    await packetsAtLeg(leg, 50);

    const at1k = leg.analyseTone(1000);
    expect(at1k.frames).toBeGreaterThan(10);
    expect(at1k.framesWithTone).toBeGreaterThan(at1k.frames * 0.7);
    expect(leg.analyseTone(400).framesWithTone).toBe(0);
    // what the media timeout watches: every SRTP and SRTCP packet from WhatsApp
    const s = leg.stats();
    expect(leg.packetsHeard).toBe(s.packetsReceived + (s.rtcpReceived ?? 0));
    expect(leg.packetsHeard).toBeGreaterThanOrEqual(50);
    const before = leg.packetsHeard;
    peer.stopSending(); // RTP stops, the user's RTCP goes on (a muted phone is still there)
    await waitFor('RTCP from the muted user', () => (leg.stats().rtcpReceived ?? 0) > (s.rtcpReceived ?? 0), 8000);
    expect(leg.packetsHeard).toBeGreaterThan(before);
  });

  it('plays an 8 kHz WAV from the user, heard at the leg at its frequency', async () => {
    const { peer, leg } = await userInitiatedCall();
    await leg.whenConnected();
    const dir = await mkdtemp(join(tmpdir(), 'wa-leg-'));
    const file = join(dir, 'prompt.wav');
    await writeFile(file, encodeWav(new ToneGenerator(1000, 8000).next(8000), 8000));

    try {
      await peer.playWav(file);
      await packetsAtLeg(leg, 40);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }

    expect(leg.analyseTone(1000).framesWithTone).toBeGreaterThan(10);
    expect(leg.analyseTone(400).framesWithTone).toBe(0);
  });

  it('sends nothing toward WhatsApp before startMedia(), then the 400 Hz tone is heard by the user', async () => {
    const { peer, leg } = await userInitiatedCall();
    await leg.whenConnected();
    await peer.connected(2000);

    leg.playTone(400);
    peer.playSilence();
    await packetsAtLeg(leg, 25); // half a second of user audio while the leg's tone is gated
    expect(peer.stats().packetsReceived).toBe(0);
    expect(leg.stats().packetsGated).toBeGreaterThan(0);

    leg.startMedia();
    await waitFor('50 packets at the user', () => peer.stats().packetsReceived >= 50);

    const heard = peer.recording();
    expect(analyseTone(heard, 400, 48000).framesWithTone).toBeGreaterThan(10);
    expect(analyseTone(heard, 1000, 48000).framesWithTone).toBe(0);
    expect(leg.stats().ssrc).toBeGreaterThan(0);
  });

  it('fails when ICE does not connect within connectTimeoutMs, and whenConnected rejects', async () => {
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    const offer = await peer.createOffer();
    await peer.close(); // the relay's candidate is gone: every check times out
    const { leg } = await WaLeg.answerOffer(offer, { ...legOptions(), connectTimeoutMs: 300 });
    open.push(leg);
    const states: string[] = [];
    leg.on('stateChanged', (c) => states.push(c.state));

    await expect(leg.whenConnected()).rejects.toMatchObject({ code: 'WA_LEG_FAILED' });
    expect(leg.state).toBe('failed');
    await leg.close();
    expect(states).toEqual(['failed', 'closed']);
  });

  it('advertises the public address (1:1 NAT) and still connects, since its own checks open the path', async () => {
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    open.push(peer);
    const { leg, sdp } = await WaLeg.answerOffer(await peer.createOffer(), { ...legOptions(), publicAddress: '198.51.100.7' });
    open.push(leg);

    expect(candidates(sdp).map((c) => c.address)).toEqual(['198.51.100.7']);
    await peer.applyAnswer(sdp);
    await leg.whenConnected();
    await peer.connected(2000);
  });

  it('refuses an offer without a DTLS fingerprint', async () => {
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    open.push(peer);
    const offer = (await peer.createOffer()).replace(/^a=fingerprint:.*\r\n/m, '');

    await expect(WaLeg.answerOffer(offer, legOptions())).rejects.toMatchObject({ code: 'WA_SDP_REJECTED', side: 'remote' });
  });

  it('close() is idempotent and leaves none of the legs UDP ports open', async () => {
    const { peer, leg, offer, answer } = await userInitiatedCall();
    await leg.whenConnected();
    const ports = [...candidates(offer), ...candidates(answer)].map((c) => c.port);
    const before = await openUdpPorts();
    expect(ports.every((p) => before.has(p))).toBe(true);

    await Promise.all([leg.close(), leg.close()]);
    await peer.close();

    const after = await openUdpPorts();
    expect(ports.filter((p) => after.has(p))).toEqual([]);
    expect(leg.state).toBe('closed');
  });
});

describe('WaLeg offering to WhatsApp (business-initiated)', () => {
  async function businessCall(answerSetup: 'active' | 'passive'): Promise<{ peer: SimulatedWhatsAppPeer; leg: WaLeg; offer: string; answer: string }> {
    const { leg, sdp: offer } = await WaLeg.createOffer(legOptions());
    open.push(leg);
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger, answerSetup });
    open.push(peer);
    const answer = await peer.answerOffer(offer);
    await leg.applyAnswer(answer);
    return { peer, leg, offer, answer };
  }

  it('offers actpass without ice-lite; with Meta answering active the gateway is the DTLS server', async () => {
    const { peer, leg, offer, answer } = await businessCall('active');

    expect(dtlsSetup(offer)).toBe('actpass');
    expect(isIceLite(offer)).toBe(false);
    expect(dtlsSetup(answer)).toBe('active');
    await leg.whenConnected();
    await peer.connected(2000);
    expect(leg.stats()).toMatchObject({ dtlsRole: 'server', iceControlling: true });

    peer.playTone(1000);
    leg.startMedia();
    leg.playTone(400);
    await packetsAtLeg(leg, 40);
    await waitFor('40 packets at the user', () => peer.stats().packetsReceived >= 40);
    expect(leg.analyseTone(1000).framesWithTone).toBeGreaterThan(5);
    expect(analyseTone(peer.recording(), 400, 48000).framesWithTone).toBeGreaterThan(5);
  });

  it('connects as the DTLS client when Meta answers passive', async () => {
    const { peer, leg, answer } = await businessCall('passive');

    expect(dtlsSetup(answer)).toBe('passive');
    await leg.whenConnected();
    await peer.connected(2000);
    expect(leg.stats()).toMatchObject({ dtlsRole: 'client', iceControlling: true });
  });

  it('refuses applyAnswer on a leg that answered', async () => {
    const { leg, answer } = await userInitiatedCall();

    await expect(leg.applyAnswer(answer)).rejects.toMatchObject({ code: 'WA_LEG_INVALID_STATE' });
  });
});
