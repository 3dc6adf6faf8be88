import { silentLogger } from '@wagw/logging';
import type { RtpPacketIn } from '../bridge/media-port.types';
import type { ReceivedDtmf } from './inbound-media';
import { SimulatedWhatsAppPeer } from './simulated-whatsapp-peer';
import { WaLeg } from './wa-leg';
import { waitFor } from './testing/wait-for';

const ICE = '127.0.0.1';
const logger = silentLogger();
const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

async function connectedCall(): Promise<{ peer: SimulatedWhatsAppPeer; leg: WaLeg }> {
  const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
  open.push(peer);
  const { leg, sdp } = await WaLeg.answerOffer(await peer.createOffer(), { iceAddress: ICE, connectTimeoutMs: 2000, logger });
  open.push(leg);
  await peer.applyAnswer(sdp);
  await leg.whenConnected();
  await peer.connected(2000);
  return { peer, leg };
}

describe('DTMF (RFC 4733, telephone-event/8000 on PT 126) over the WhatsApp leg', () => {
  it('digits the user presses reach the gateway in order, with their durations, inside the audio stream', async () => {
    const { peer, leg } = await connectedCall();
    const packets: RtpPacketIn[] = [];
    leg.onRtp((p) => packets.push(p));
    const digits: ReceivedDtmf[] = [];
    const allFour = new Promise<void>((resolve) =>
      leg.on('dtmf', (d) => {
        digits.push(d);
        if (digits.length === 4) resolve();
      }),
    );

    peer.playTone(1000);
    await peer.sendDtmf('12#9', 120);
    await allFour;

    expect(digits.map((d) => d.digit).join('')).toBe('12#9');
    expect(digits.map((d) => d.durationMs)).toEqual([120, 120, 120, 120]);
    expect(leg.stats().dtmfReceived.map((d) => d.digit).join('')).toBe('12#9');
    const events = packets.filter((p) => p.payloadType === 126);
    const audio = packets.filter((p) => p.payloadType === 111);
    expect(new Set(events.map((p) => p.ssrc))).toEqual(new Set(audio.map((p) => p.ssrc)));
    expect(events.filter((p) => p.marker)).toHaveLength(4);
  });

  it('digits the gateway sends reach the user in order, with their durations', async () => {
    const { peer, leg } = await connectedCall();
    const events: RtpPacketIn[] = [];
    peer.onRtp((p) => {
      if (p.payloadType === 126) events.push(p);
    });
    leg.startMedia();
    leg.playTone(400);

    await leg.sendDtmf('9*0', 100);
    await waitFor('three digits at the user', () => peer.stats().dtmfReceived.length >= 3);

    const got = peer.stats().dtmfReceived;
    expect(got.map((d) => d.digit).join('')).toBe('9*0');
    expect(got.map((d) => d.durationMs)).toEqual([100, 100, 100]);
    expect(new Set(events.map((p) => p.ssrc))).toEqual(new Set([leg.stats().ssrc]));
    // each event ends with its final packet three times (RFC 4733 §2.5.1.4)
    const ends = events.filter((p) => ((p.payload[1] as number) & 0x80) !== 0);
    expect(ends).toHaveLength(9);
  });

  it('digits sent before startMedia() never reach the user', async () => {
    const { peer, leg } = await connectedCall();
    peer.playSilence();

    await leg.sendDtmf('7', 60);
    await waitFor('relay audio at the leg', () => leg.stats().packetsReceived >= 10);

    expect(peer.stats().packetsReceived).toBe(0);
    expect(peer.stats().dtmfReceived).toEqual([]);
    expect(leg.stats().packetsGated).toBeGreaterThanOrEqual(3);
  });
});
