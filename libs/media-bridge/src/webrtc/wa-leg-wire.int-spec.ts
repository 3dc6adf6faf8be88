import { silentLogger } from '@wagw/logging';
import { SimulatedWhatsAppPeer } from './simulated-whatsapp-peer';
import { WaLeg } from './wa-leg';
import { candidates } from './sdp-rewrite';
import { dtlsHandshakeType, parseRtpHeader, parseStun, STUN_ATTR, UdpWireTap, type TappedPacket } from './testing/udp-wire-tap';
import { waitFor } from './testing/wait-for';

const ICE = '127.0.0.1';
const logger = silentLogger();
const STUN_BINDING_REQUEST = 0x0001;
const CLIENT_HELLO = 1;
const RTCP_SR = 200;

const open: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((x) => x.close()));
});

/** Rewrites the relay's one candidate to the tap, so the leg's packets cross it. */
async function tapRelayCandidate(relaySdp: string): Promise<{ tap: UdpWireTap; sdp: string }> {
  const [relay] = candidates(relaySdp);
  if (!relay) throw new Error('relay SDP has no candidate');
  const tap = await UdpWireTap.start({ address: relay.address, port: relay.port });
  open.push(tap);
  return { tap, sdp: relaySdp.replace(` ${relay.address} ${relay.port} typ host`, ` ${ICE} ${tap.port} typ host`) };
}

function bindingRequests(packets: TappedPacket[], from: TappedPacket['from']): number[][] {
  return packets
    .filter((p) => p.from === from)
    .map((p) => parseStun(p.data))
    .filter((m) => m?.type === STUN_BINDING_REQUEST)
    .map((m) => m?.attributes ?? []);
}

function firstClientHelloFrom(packets: TappedPacket[]): TappedPacket['from'] | undefined {
  return packets.find((p) => dtlsHandshakeType(p.data) === CLIENT_HELLO)?.from;
}

describe('WaLeg on the wire', () => {
  it('answering: sends ICE-CONTROLLING checks with regular nomination and the DTLS ClientHello; the relay sends no checks', async () => {
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    open.push(peer);
    const { tap, sdp: offer } = await tapRelayCandidate(await peer.createOffer());
    const { leg, sdp } = await WaLeg.answerOffer(offer, { iceAddress: ICE, connectTimeoutMs: 2000, logger });
    open.push(leg);
    await peer.applyAnswer(sdp);
    await leg.whenConnected();

    const checks = bindingRequests(tap.packets, 'left');
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((a) => a.includes(STUN_ATTR.ICE_CONTROLLING) && !a.includes(STUN_ATTR.ICE_CONTROLLED))).toBe(true);
    const firstNomination = checks.findIndex((a) => a.includes(STUN_ATTR.USE_CANDIDATE));
    expect(firstNomination).toBeGreaterThan(0); // regular nomination: a plain check succeeded first
    expect(bindingRequests(tap.packets, 'right')).toEqual([]);
    expect(firstClientHelloFrom(tap.packets)).toBe('left');
  });

  it('sends no RTP or sender report before startMedia(), then Opus and PT 126 on one SSRC and sequence space, and RTCP SRs', async () => {
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    open.push(peer);
    const { tap, sdp: offer } = await tapRelayCandidate(await peer.createOffer());
    const { leg, sdp } = await WaLeg.answerOffer(offer, { iceAddress: ICE, connectTimeoutMs: 2000, logger });
    open.push(leg);
    await peer.applyAnswer(sdp);
    await leg.whenConnected();
    leg.playTone(400);
    peer.playSilence();
    await waitFor('25 relay packets at the leg', () => leg.stats().packetsReceived >= 25);
    const legRtp = (): Array<NonNullable<ReturnType<typeof parseRtpHeader>>> =>
      tap.packets.filter((p) => p.from === 'left').flatMap((p) => parseRtpHeader(p.data) ?? []);
    expect(legRtp()).toEqual([]);
    const senderReports = (): number => tap.packets.filter((p) => p.from === 'left' && p.data[1] === RTCP_SR).length;
    expect(senderReports()).toBe(0);

    leg.startMedia();
    await waitFor('tone packets at the relay', () => peer.stats().packetsReceived >= 5);
    await leg.sendDtmf('5', 100);
    await waitFor('a digit at the relay', () => peer.stats().dtmfReceived.length === 1);

    const rtp = legRtp();
    expect(new Set(rtp.map((r) => r.payloadType))).toEqual(new Set([111, 126]));
    expect(new Set(rtp.map((r) => r.ssrc))).toEqual(new Set([leg.stats().ssrc]));
    const gaps = rtp.slice(1).map((r, i) => (r.sequenceNumber - (rtp[i]?.sequenceNumber ?? 0) + 0x10000) % 0x10000);
    expect(new Set(gaps)).toEqual(new Set([1]));
    await waitFor('an RTCP sender report from the leg', () => senderReports() > 0, 3000);
  });

  it('offering: with the relay answering setup:active, the relay sends the ClientHello and the leg still controls ICE', async () => {
    const { leg, sdp: offer } = await WaLeg.createOffer({ iceAddress: ICE, connectTimeoutMs: 2000, logger });
    open.push(leg);
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    open.push(peer);
    const { tap, sdp: answer } = await tapRelayCandidate(await peer.answerOffer(offer));
    await leg.applyAnswer(answer);
    await leg.whenConnected();
    await peer.connected(2000); // the relay (DTLS client) has its last flight too: closing earlier leaves werift retransmitting

    const checks = bindingRequests(tap.packets, 'left');
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.every((a) => a.includes(STUN_ATTR.ICE_CONTROLLING))).toBe(true);
    expect(checks.some((a) => a.includes(STUN_ATTR.USE_CANDIDATE))).toBe(true);
    expect(firstClientHelloFrom(tap.packets)).toBe('right');
  });
});
