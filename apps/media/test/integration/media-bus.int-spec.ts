import Redis from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { busChannelPrefix, loadConfig, PrefixedRedisClient, redisOptionsFromUrl } from '@wagw/config';
import { CONTRACT_VERSION, MEDIA_EVENTS, MEDIA_PATTERNS, type CreateWaLegReply, type ListLegsReply, type ToneReportReply, type WaLegStateChangedEvent } from '@wagw/contracts';
import { silentLogger } from '@wagw/logging';
import { analyseTone, SimulatedWhatsAppPeer } from '@wagw/media-bridge';
import { freeTcpPort } from '@wagw/testing';
import { bootstrapMedia, type MediaHandle } from '../../src/bootstrap';

const ICE = '127.0.0.1';
/** ICE + DTLS connect allowance: media.iceConnectTimeoutMs's default (a cold, loaded CI process took over 5 s once). */
const CONNECT_MS = 10_000;
const logger = silentLogger();
const redisUrl = process.env['TEST_REDIS_URL'] as string;

let media: MediaHandle;
let client: PrefixedRedisClient;
let subscriber: Redis;
const events: WaLegStateChangedEvent[] = [];
const peers: SimulatedWhatsAppPeer[] = [];

beforeAll(async () => {
  const port = await freeTcpPort();
  const config = loadConfig({
    env: { REDIS_URL: redisUrl, MEDIA_HTTP_PORT: String(port), MEDIA_ICE_INTERFACE_ADDRESS: ICE, MEDIA_ICE_CONNECT_TIMEOUT_MS: String(CONNECT_MS) },
  });
  media = await bootstrapMedia(config, { logger });
  client = new PrefixedRedisClient({ ...redisOptionsFromUrl(redisUrl), channelPrefix: busChannelPrefix(config.redis.keyPrefix) });
  await client.connect();
  subscriber = new Redis(redisUrl);
  await subscriber.subscribe(busChannelPrefix(config.redis.keyPrefix) + MEDIA_EVENTS.waLegStateChanged);
  subscriber.on('message', (_channel: string, message: string) => events.push((JSON.parse(message) as { data: WaLegStateChangedEvent }).data));
});

afterEach(async () => {
  await Promise.all(peers.splice(0).map((p) => p.close()));
  // a test that failed half-way leaves its legs: closed here, so that the next test starts from none
  const { legs } = await request<ListLegsReply>(MEDIA_PATTERNS.listLegs, {});
  for (const leg of legs) await request(MEDIA_PATTERNS.closeWaLeg, { callId: leg.callId, legId: leg.legId, reason: 'test cleanup' });
});

afterAll(async () => {
  await client?.close();
  await media?.close();
  await subscriber?.quit();
});

function request<T>(pattern: string, body: Record<string, unknown>, deadline = Date.now() + 5000): Promise<T> {
  return firstValueFrom(client.send<T>(pattern, { v: CONTRACT_VERSION, deadline, ...body }));
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function health(): Promise<{ status: string; legs: number }> {
  return (await fetch(`${media.httpUrl}/health`)).json() as Promise<{ status: string; legs: number }>;
}

/** A user-initiated call: the simulated relay offers, the media app answers, both connect. */
async function connectedUserCall(callId: string): Promise<{ peer: SimulatedWhatsAppPeer; legId: string }> {
  const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
  peers.push(peer);
  const created = await request<CreateWaLegReply>(MEDIA_PATTERNS.createWaLeg, { callId, remoteOffer: await peer.createOffer() });
  expect(created.sdpType).toBe('answer');
  await peer.applyAnswer(created.sdp);
  await peer.connected(CONNECT_MS);
  await waitFor('the connected event', () => events.some((e) => e.legId === created.legId && e.state === 'connected'));
  return { peer, legId: created.legId };
}

describe('media app over the Redis bus', () => {
  it('answers a WhatsApp offer, plays the requested tone after startWaMedia, hears the user, and closes the leg', async () => {
    const { peer, legId } = await connectedUserCall('call-tones');
    expect(events.filter((e) => e.legId === legId).map((e) => e.state)).toEqual(['connecting', 'connected']);
    expect(await health()).toEqual({ status: 'ok', legs: 1, calls: 1, maxCalls: 0 });

    await request(MEDIA_PATTERNS.startWaMedia, { callId: 'call-tones', legId, source: { kind: 'tone', frequencyHz: 400 } });
    await waitFor('50 packets at the user', () => peer.stats().packetsReceived >= 50);
    expect(analyseTone(peer.recording(), 400, 48000).framesWithTone).toBeGreaterThan(10);
    expect(analyseTone(peer.recording(), 1000, 48000).framesWithTone).toBe(0);

    peer.playTone(1000);
    await waitFor('the 1 kHz tone at the media app', async () => {
      const r = await request<ToneReportReply>(MEDIA_PATTERNS.analyseWaTone, { callId: 'call-tones', legId, frequencyHz: 1000 });
      return r.framesWithTone > 10;
    });
    const at400 = await request<ToneReportReply>(MEDIA_PATTERNS.analyseWaTone, { callId: 'call-tones', legId, frequencyHz: 400 });
    expect(at400.framesWithTone).toBe(0);
    expect(at400.packetsReceived).toBeGreaterThan(0);
    expect(at400.packetsSent).toBeGreaterThan(0);

    await request(MEDIA_PATTERNS.closeWaLeg, { callId: 'call-tones', legId, reason: 'test done' });
    const listed = await request<ListLegsReply>(MEDIA_PATTERNS.listLegs, {});
    expect(listed.legs).toEqual([]);
    expect(await health()).toEqual({ status: 'ok', legs: 0, calls: 0, maxCalls: 0 });
    await waitFor('the closed event', () => events.some((e) => e.legId === legId && e.state === 'closed'));
  });

  it('offers for a business-initiated call and connects once the WhatsApp answer is applied', async () => {
    const created = await request<CreateWaLegReply>(MEDIA_PATTERNS.createWaLeg, { callId: 'call-out' });
    expect(created.sdpType).toBe('offer');
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    peers.push(peer);
    const answer = await peer.answerOffer(created.sdp);

    await request(MEDIA_PATTERNS.applyWaAnswer, { callId: 'call-out', legId: created.legId, sdp: answer });
    await peer.connected(CONNECT_MS);
    await waitFor('the connected event', () => events.some((e) => e.legId === created.legId && e.state === 'connected'));

    await request(MEDIA_PATTERNS.closeWaLeg, { callId: 'call-out', legId: created.legId, reason: 'test done' });
  });

  it('refuses a request past its deadline with DEADLINE_EXCEEDED and creates no leg', async () => {
    const peer = new SimulatedWhatsAppPeer({ iceAddress: ICE, logger });
    peers.push(peer);

    const late = request(MEDIA_PATTERNS.createWaLeg, { callId: 'call-late', remoteOffer: await peer.createOffer() }, Date.now() - 1000);

    await expect(late).rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringContaining(MEDIA_PATTERNS.createWaLeg) });
    expect((await request<ListLegsReply>(MEDIA_PATTERNS.listLegs, {})).legs).toEqual([]);
  });

  it('refuses malformed requests and leaves other legs untouched', async () => {
    const { peer, legId } = await connectedUserCall('call-kept');

    await expect(request(MEDIA_PATTERNS.startWaMedia, { callId: 'call-kept', legId, source: { kind: 'music' } })).rejects.toMatchObject({
      code: 'CONTRACT_VIOLATION',
    });
    await expect(firstValueFrom(client.send(MEDIA_PATTERNS.closeWaLeg, { v: 99, callId: 'call-kept', legId }))).rejects.toMatchObject({
      code: 'CONTRACT_VIOLATION',
    });
    await expect(request(MEDIA_PATTERNS.closeWaLeg, { callId: 'another-call', legId, reason: 'wrong call' })).rejects.toMatchObject({
      code: 'LEG_NOT_FOUND',
    });

    const listed = await request<ListLegsReply>(MEDIA_PATTERNS.listLegs, {});
    expect(listed.legs).toEqual([{ callId: 'call-kept', legId, state: 'connected', ageMs: expect.any(Number) }]);
    expect(listed.pbxLegs).toEqual([]);
    expect(peer.stats().connectionState).toBe('connected');
    await request(MEDIA_PATTERNS.closeWaLeg, { callId: 'call-kept', legId, reason: 'test done' });
  });
});
