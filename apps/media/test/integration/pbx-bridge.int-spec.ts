/**
 * The media app's PBX side over the Redis bus: a simulated WhatsApp user (werift) on one side, a plain RTP
 * phone (RtpLeg with G.711 or Opus) as the PBX on the other. Tones are checked by frequency both ways,
 * DTMF by digit both ways, and every leg, bridge and port is gone after close.
 */
import Redis from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { busChannelPrefix, loadConfig, PrefixedRedisClient, redisOptionsFromUrl } from '@wagw/config';
import {
  CONTRACT_VERSION,
  MEDIA_PATTERNS,
  PBX_MEDIA_EVENTS,
  PBX_MEDIA_PATTERNS,
  type AnswerPbxOfferReply,
  type CreatePbxOfferReply,
  type CreateWaLegReply,
  type DtmfEvent,
  type MediaStatsReply,
  type NegotiatedReply,
} from '@wagw/contracts';
import { silentLogger } from '@wagw/logging';
import { analyseTone, RtpPortAllocator, SimulatedWhatsAppPeer } from '@wagw/media-bridge';
import { freeTcpPort, freeUdpPortRange } from '@wagw/testing';
import { bootstrapMedia, type MediaHandle } from '../../src/bootstrap';
import { RtpPhone } from './rtp-phone';

const ICE = '127.0.0.1';
/** ICE + DTLS connect allowance: media.iceConnectTimeoutMs's default (a cold, loaded CI process took over 5 s once). */
const CONNECT_MS = 10_000;
const logger = silentLogger();
const redisUrl = process.env['TEST_REDIS_URL'] as string;

let media: MediaHandle;
let client: PrefixedRedisClient;
let subscriber: Redis;
let phoneAllocator: RtpPortAllocator;
const dtmfEvents: DtmfEvent[] = [];
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  const [gwBase, phoneBase] = [await freeUdpPortRange(40), await freeUdpPortRange(40)];
  const config = loadConfig({
    env: {
      REDIS_URL: redisUrl,
      MEDIA_HTTP_PORT: String(await freeTcpPort()),
      MEDIA_ICE_INTERFACE_ADDRESS: ICE,
      MEDIA_ICE_CONNECT_TIMEOUT_MS: String(CONNECT_MS),
      MEDIA_RTP_PORT_MIN: String(gwBase),
      MEDIA_RTP_PORT_MAX: String(gwBase + 39),
    },
  });
  media = await bootstrapMedia(config, { logger });
  phoneAllocator = new RtpPortAllocator({ portMin: phoneBase, portMax: phoneBase + 39, host: ICE });
  client = new PrefixedRedisClient({ ...redisOptionsFromUrl(redisUrl), channelPrefix: busChannelPrefix(config.redis.keyPrefix) });
  await client.connect();
  subscriber = new Redis(redisUrl);
  await subscriber.subscribe(busChannelPrefix(config.redis.keyPrefix) + PBX_MEDIA_EVENTS.dtmf);
  subscriber.on('message', (_channel: string, message: string) => dtmfEvents.push((JSON.parse(message) as { data: DtmfEvent }).data));
});

afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
  expect(phoneAllocator.inUse).toBe(0);
});

afterAll(async () => {
  await client?.close();
  await media?.close();
  await subscriber?.quit();
});

function request<T>(pattern: string, body: Record<string, unknown>): Promise<T> {
  return firstValueFrom(client.send<T>(pattern, { v: CONTRACT_VERSION, deadline: Date.now() + 5000, ...body }));
}

async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 8000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const stats = (): Promise<MediaStatsReply> => request<MediaStatsReply>(PBX_MEDIA_PATTERNS.mediaStats, {});

/** A connected user-initiated WhatsApp leg; the user talks `toneHz`. */
async function whatsAppUser(callId: string, toneHz: number): Promise<{ peer: SimulatedWhatsAppPeer; legId: string }> {
  const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
  cleanup.push(() => peer.close());
  const created = await request<CreateWaLegReply>(MEDIA_PATTERNS.createWaLeg, { callId, remoteOffer: await peer.createOffer() });
  await peer.applyAnswer(created.sdp);
  await peer.connected(CONNECT_MS);
  peer.playTone(toneHz);
  return { peer, legId: created.legId };
}

async function phone(): Promise<RtpPhone> {
  const p = await RtpPhone.create(phoneAllocator);
  cleanup.push(() => p.close());
  return p;
}

/** We offer toward the PBX (we place the INVITE) and the phone answers. */
async function gatewayOffers(callId: string, codecs: string[], ph: RtpPhone, prefs: ('PCMU' | 'PCMA' | 'opus')[]): Promise<{ pbxLegId: string; negotiated: NegotiatedReply }> {
  const offer = await request<CreatePbxOfferReply>(PBX_MEDIA_PATTERNS.createPbxOffer, { callId, codecs });
  const negotiated = await request<NegotiatedReply>(PBX_MEDIA_PATTERNS.applyPbxAnswer, { callId, legId: offer.legId, sdp: ph.answer(offer.sdp, prefs) });
  return { pbxLegId: offer.legId, negotiated };
}

async function userHears(peer: SimulatedWhatsAppPeer, hz: number): Promise<number> {
  return waitFor(`${hz} Hz at the user`, () => {
    const n = analyseTone(peer.recording(), hz, 48000).framesWithTone;
    return n >= 25 ? n : undefined;
  });
}

async function phoneHears(ph: RtpPhone, hz: number): Promise<number> {
  return waitFor(`${hz} Hz at the phone`, () => {
    const { samples, sampleRate } = ph.audio();
    const n = analyseTone(samples, hz, sampleRate).framesWithTone;
    return n >= 25 ? n : undefined;
  });
}

function heardAtPhone(ph: RtpPhone, hz: number): number {
  const { samples, sampleRate } = ph.audio();
  return analyseTone(samples, hz, sampleRate).framesWithTone;
}

async function closeCall(callId: string, waLegId: string, pbxLegId: string): Promise<void> {
  await request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId, legId: pbxLegId, reason: 'test done' });
  await request(MEDIA_PATTERNS.closeWaLeg, { callId, legId: waLegId, reason: 'test done' });
}

describe('media app PBX side over the bus', () => {
  it('bridges a PCMU call both ways (1 kHz to the phone, 400 Hz to the user), relays and sends DTMF, then releases everything', async () => {
    const { peer, legId: waLegId } = await whatsAppUser('call-pcmu', 1000);
    const ph = await phone();
    const { pbxLegId, negotiated } = await gatewayOffers('call-pcmu', ['PCMU', 'PCMA'], ph, ['PCMU']);
    expect(negotiated).toEqual({ v: CONTRACT_VERSION, codec: 'PCMU', payloadType: 0, dtmfPayloadType: 101 });
    expect(await stats()).toEqual({ v: CONTRACT_VERSION, waLegs: 1, pbxLegs: 1, bridges: 0, rtpPortsInUse: 1 });

    await request(PBX_MEDIA_PATTERNS.startBridge, { callId: 'call-pcmu', waLegId, pbxLegId });
    ph.talk(400);
    await Promise.all([phoneHears(ph, 1000), userHears(peer, 400)]);
    expect(heardAtPhone(ph, 400)).toBe(0);
    expect(analyseTone(peer.recording(), 1000, 48000).framesWithTone).toBe(0);
    expect((await stats()).bridges).toBe(1);

    await peer.sendDtmf('5');
    ph.pressDigit(11); // '#'
    await waitFor('the user digit at the phone', () => ph.digitsHeard().includes(5));
    await waitFor('the phone digit at the user', () => peer.stats().dtmfReceived.some((d) => d.digit === '#'));
    await request(PBX_MEDIA_PATTERNS.sendDtmf, { callId: 'call-pcmu', toward: 'pbx', digits: '7' });
    await request(PBX_MEDIA_PATTERNS.sendDtmf, { callId: 'call-pcmu', toward: 'wa', digits: '9', durationMs: 120 });
    await waitFor('the API digit at the phone', () => ph.digitsHeard().includes(7));
    await waitFor('the API digit at the user', () => peer.stats().dtmfReceived.some((d) => d.digit === '9'));
    const mine = await waitFor('both relayed digits on the bus', () => {
      const e = dtmfEvents.filter((d) => d.callId === 'call-pcmu');
      return e.length >= 2 ? e : undefined;
    });
    expect(mine.map((d) => [d.direction, d.digit]).sort()).toEqual([
      ['pbx-to-wa', '#'],
      ['wa-to-pbx', '5'],
    ]); // digits signalling sent itself are not echoed back

    await closeCall('call-pcmu', waLegId, pbxLegId);
    expect(await stats()).toEqual({ v: CONTRACT_VERSION, waLegs: 0, pbxLegs: 0, bridges: 0, rtpPortsInUse: 0 });
  });

  it('answers a PCMA offer from the PBX, bridges both ways, and closing the WhatsApp leg stops the bridge; PBX close is idempotent', async () => {
    const { peer, legId: waLegId } = await whatsAppUser('call-pcma', 1000);
    const ph = await phone();
    const answered = await request<AnswerPbxOfferReply>(PBX_MEDIA_PATTERNS.answerPbxOffer, {
      callId: 'call-pcma',
      sdp: ph.offer(['PCMU', 'PCMA']),
      codecs: ['PCMA', 'PCMU'],
    });
    expect(answered).toMatchObject({ codec: 'PCMA', payloadType: 8, dtmfPayloadType: 101 });
    ph.applyAnswer(answered.sdp);

    await request(PBX_MEDIA_PATTERNS.startBridge, { callId: 'call-pcma', waLegId, pbxLegId: answered.legId });
    ph.talk(400);
    await Promise.all([phoneHears(ph, 1000), userHears(peer, 400)]);
    expect(heardAtPhone(ph, 400)).toBe(0);

    await request(MEDIA_PATTERNS.closeWaLeg, { callId: 'call-pcma', legId: waLegId, reason: 'user hung up' });
    expect(await stats()).toMatchObject({ waLegs: 0, pbxLegs: 1, bridges: 0, rtpPortsInUse: 1 });
    await expect(request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId: 'other-call', legId: answered.legId, reason: 'x' })).rejects.toMatchObject({ code: 'LEG_NOT_FOUND' });
    await request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId: 'call-pcma', legId: answered.legId, reason: 'done' });
    await request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId: 'call-pcma', legId: answered.legId, reason: 'done again' });
    await request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId: 'call-pcma', legId: 'pbx-never-existed', reason: 'unknown' });
    expect(await stats()).toEqual({ v: CONTRACT_VERSION, waLegs: 0, pbxLegs: 0, bridges: 0, rtpPortsInUse: 0 });
  });

  it('passes Opus through both ways when the PBX picks opus', async () => {
    const { peer, legId: waLegId } = await whatsAppUser('call-opus', 1000);
    const ph = await phone();
    const { pbxLegId, negotiated } = await gatewayOffers('call-opus', ['opus', 'PCMU'], ph, ['opus']);
    expect(negotiated).toMatchObject({ codec: 'opus', payloadType: 111 });

    await request(PBX_MEDIA_PATTERNS.startBridge, { callId: 'call-opus', waLegId, pbxLegId });
    ph.talk(400);
    await Promise.all([phoneHears(ph, 1000), userHears(peer, 400)]);
    expect(heardAtPhone(ph, 400)).toBe(0);

    await closeCall('call-opus', waLegId, pbxLegId);
    expect(await stats()).toMatchObject({ waLegs: 0, pbxLegs: 0, bridges: 0, rtpPortsInUse: 0 });
  });

  it('plays ringback (425 Hz, 1 s on 4 s off) to the phone until the bridge starts, and none after it', async () => {
    const { legId: waLegId } = await whatsAppUser('call-ringback', 1000);
    const ph = await phone();
    const { pbxLegId } = await gatewayOffers('call-ringback', ['PCMU'], ph, ['PCMU']);
    const startedAt = Date.now();
    expect(await request(PBX_MEDIA_PATTERNS.playPbxTone, { callId: 'call-ringback', legId: pbxLegId, tone: 'eu' })).toEqual({ v: CONTRACT_VERSION, playing: true });
    // the first 1 s burst: about 25 windows of 40 ms
    await waitFor('the ringback burst at the phone', () => heardAtPhone(ph, 425) >= 20);
    expect(heardAtPhone(ph, 1000)).toBe(0);

    await request(PBX_MEDIA_PATTERNS.startBridge, { callId: 'call-ringback', waLegId, pbxLegId });
    await phoneHears(ph, 1000);
    const ringback = heardAtPhone(ph, 425);
    // past the start of the next burst (5 s after the first): the tone stopped when the bridge started
    await new Promise((r) => setTimeout(r, Math.max(0, startedAt + 6500 - Date.now())));
    expect(heardAtPhone(ph, 425)).toBe(ringback);
    expect(ringback).toBeLessThanOrEqual(27);

    await closeCall('call-ringback', waLegId, pbxLegId);
    expect(await stats()).toMatchObject({ waLegs: 0, pbxLegs: 0, bridges: 0, rtpPortsInUse: 0 });
  }, 20_000);

  it('plays no ringback on an Opus leg, stops it on `none` and on close, and refuses an unanswered leg', async () => {
    const ph = await phone();
    const { pbxLegId } = await gatewayOffers('call-tone-opus', ['opus'], ph, ['opus']);
    expect(await request(PBX_MEDIA_PATTERNS.playPbxTone, { callId: 'call-tone-opus', legId: pbxLegId, tone: 'us' })).toEqual({ v: CONTRACT_VERSION, playing: false });
    await request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId: 'call-tone-opus', legId: pbxLegId, reason: 'test done' });

    const ph2 = await phone();
    const { pbxLegId: g711 } = await gatewayOffers('call-tone-stop', ['PCMA'], ph2, ['PCMA']);
    await request(PBX_MEDIA_PATTERNS.playPbxTone, { callId: 'call-tone-stop', legId: g711, tone: 'us' });
    await waitFor('packets at the phone', () => ph2.audio().samples.length > 1600);
    expect(await request(PBX_MEDIA_PATTERNS.playPbxTone, { callId: 'call-tone-stop', legId: g711, tone: 'none' })).toEqual({ v: CONTRACT_VERSION, playing: false });
    await new Promise((r) => setTimeout(r, 200));
    const heard = ph2.audio().samples.length;
    await new Promise((r) => setTimeout(r, 500));
    expect(ph2.audio().samples.length).toBe(heard); // nothing more sent
    await request(PBX_MEDIA_PATTERNS.playPbxTone, { callId: 'call-tone-stop', legId: g711, tone: 'uk' });
    await request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId: 'call-tone-stop', legId: g711, reason: 'test done' });
    expect(await stats()).toMatchObject({ pbxLegs: 0, rtpPortsInUse: 0 });

    const offer = await request<CreatePbxOfferReply>(PBX_MEDIA_PATTERNS.createPbxOffer, { callId: 'call-tone-early', codecs: ['PCMU'] });
    await expect(request(PBX_MEDIA_PATTERNS.playPbxTone, { callId: 'call-tone-early', legId: offer.legId, tone: 'eu' })).rejects.toMatchObject({ message: expect.stringMatching(/no negotiated codec yet/) });
    await request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId: 'call-tone-early', legId: offer.legId, reason: 'test done' });
  });

  it('refuses to bridge an unanswered PBX leg, DTMF without a bridge, and a PBX answer with no offered codec', async () => {
    const { legId: waLegId } = await whatsAppUser('call-refused', 1000);
    const offer = await request<CreatePbxOfferReply>(PBX_MEDIA_PATTERNS.createPbxOffer, { callId: 'call-refused', codecs: ['PCMU'] });

    await expect(request(PBX_MEDIA_PATTERNS.startBridge, { callId: 'call-refused', waLegId, pbxLegId: offer.legId })).rejects.toMatchObject({ code: 'PBX_LEG_NOT_NEGOTIATED' });
    await expect(request(PBX_MEDIA_PATTERNS.sendDtmf, { callId: 'call-refused', toward: 'pbx', digits: '1' })).rejects.toMatchObject({ code: 'BRIDGE_NOT_FOUND' });
    const g722 = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 30000 RTP/AVP 9\r\n';
    await expect(request(PBX_MEDIA_PATTERNS.applyPbxAnswer, { callId: 'call-refused', legId: offer.legId, sdp: g722 })).rejects.toMatchObject({ code: 'SDP_NOT_ACCEPTABLE' });

    await closeCall('call-refused', waLegId, offer.legId);
    expect(await stats()).toMatchObject({ waLegs: 0, pbxLegs: 0, bridges: 0, rtpPortsInUse: 0 });
  });
});
