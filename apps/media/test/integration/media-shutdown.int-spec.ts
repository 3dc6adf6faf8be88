import { readFile } from 'node:fs/promises';
import Redis from 'ioredis';
import { firstValueFrom } from 'rxjs';
import { busChannelPrefix, loadConfig, PrefixedRedisClient, redisOptionsFromUrl } from '@wagw/config';
import {
  CONTRACT_VERSION,
  MEDIA_EVENTS,
  MEDIA_PATTERNS,
  PBX_MEDIA_PATTERNS,
  type CreatePbxOfferReply,
  type CreateWaLegReply,
  type MediaStatsReply,
  type WaLegStateChangedEvent,
} from '@wagw/contracts';
import { silentLogger } from '@wagw/logging';
import { sdpCandidates, SimulatedWhatsAppPeer } from '@wagw/media-bridge';
import { buildAnswer } from '@wagw/sip';
import { freeTcpPort, freeUdpPortRange } from '@wagw/testing';
import { bootstrapMedia } from '../../src/bootstrap';

const redisUrl = process.env['TEST_REDIS_URL'] as string;
/** ICE + DTLS connect allowance: media.iceConnectTimeoutMs's default (a cold, loaded CI process took over 5 s once). */
const CONNECT_MS = 10_000;
const logger = silentLogger();

async function openUdpPorts(): Promise<Set<number>> {
  const rows = (await readFile('/proc/self/net/udp', 'utf8')).split('\n').slice(1);
  return new Set(rows.map((r) => parseInt(r.trim().split(/\s+/)[1]?.split(':')[1] ?? '', 16)).filter((p) => !Number.isNaN(p)));
}

describe('media app shutdown', () => {
  it('closes every WhatsApp leg (sockets released, closed event published) before it stops', async () => {
    const config = loadConfig({ env: { REDIS_URL: redisUrl, MEDIA_HTTP_PORT: String(await freeTcpPort()), MEDIA_ICE_INTERFACE_ADDRESS: '127.0.0.1' } });
    const media = await bootstrapMedia({ config, logger });
    const client = new PrefixedRedisClient({ ...redisOptionsFromUrl(redisUrl), channelPrefix: busChannelPrefix(config.redis.keyPrefix) });
    const subscriber = new Redis(redisUrl);
    const peer = new SimulatedWhatsAppPeer({ iceAddress: '127.0.0.1', logger });
    try {
      const events: WaLegStateChangedEvent[] = [];
      await subscriber.subscribe(busChannelPrefix(config.redis.keyPrefix) + MEDIA_EVENTS.waLegStateChanged);
      subscriber.on('message', (_c: string, m: string) => events.push((JSON.parse(m) as { data: WaLegStateChangedEvent }).data));
      const created = await firstValueFrom(
        client.send<CreateWaLegReply>(MEDIA_PATTERNS.createWaLeg, { v: CONTRACT_VERSION, deadline: Date.now() + 5000, callId: 'call-shutdown', remoteOffer: await peer.createOffer() }),
      );
      await peer.applyAnswer(created.sdp);
      await peer.connected(CONNECT_MS);
      const legPorts = sdpCandidates(created.sdp).map((c) => c.port);
      expect(legPorts.every((p) => p > 0)).toBe(true);

      await media.close();

      expect([...(await openUdpPorts())].filter((p) => legPorts.includes(p))).toEqual([]);
      const deadline = Date.now() + 5000;
      while (!events.some((e) => e.legId === created.legId && e.state === 'closed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(events.filter((e) => e.legId === created.legId).map((e) => e.state)).toContain('closed');
      await expect(fetch(`${media.httpUrl}/health`)).rejects.toThrow();
    } finally {
      await peer.close();
      await client.close();
      await subscriber.quit();
    }
  });

  it('stops every bridge and releases every PBX leg port before it stops', async () => {
    const base = await freeUdpPortRange(20);
    const config = loadConfig({
      env: { REDIS_URL: redisUrl, MEDIA_HTTP_PORT: String(await freeTcpPort()), MEDIA_ICE_INTERFACE_ADDRESS: '127.0.0.1', MEDIA_RTP_PORT_MIN: String(base), MEDIA_RTP_PORT_MAX: String(base + 19) },
    });
    const media = await bootstrapMedia({ config, logger });
    const client = new PrefixedRedisClient({ ...redisOptionsFromUrl(redisUrl), channelPrefix: busChannelPrefix(config.redis.keyPrefix) });
    const peer = new SimulatedWhatsAppPeer({ iceAddress: '127.0.0.1', logger });
    const send = <T>(pattern: string, body: Record<string, unknown>): Promise<T> =>
      firstValueFrom(client.send<T>(pattern, { v: CONTRACT_VERSION, deadline: Date.now() + 5000, ...body }));
    try {
      const wa = await send<CreateWaLegReply>(MEDIA_PATTERNS.createWaLeg, { callId: 'call-drain', remoteOffer: await peer.createOffer() });
      await peer.applyAnswer(wa.sdp);
      await peer.connected(CONNECT_MS);
      const pbx = await send<CreatePbxOfferReply>(PBX_MEDIA_PATTERNS.createPbxOffer, { callId: 'call-drain', codecs: ['PCMU'] });
      const phoneAnswer = buildAnswer(pbx.sdp, { address: '127.0.0.1', port: base + 18, preferences: ['PCMU'] }).sdp;
      await send(PBX_MEDIA_PATTERNS.applyPbxAnswer, { callId: 'call-drain', legId: pbx.legId, sdp: phoneAnswer });
      await send(PBX_MEDIA_PATTERNS.startBridge, { callId: 'call-drain', waLegId: wa.legId, pbxLegId: pbx.legId });
      expect(await send<MediaStatsReply>(PBX_MEDIA_PATTERNS.mediaStats, {})).toMatchObject({ waLegs: 1, pbxLegs: 1, bridges: 1, rtpPortsInUse: 1 });
      expect(await openUdpPorts()).toContain(pbx.rtpPort);

      await media.close();

      const open = await openUdpPorts();
      expect([pbx.rtpPort, pbx.rtpPort + 1].filter((p) => open.has(p))).toEqual([]);
    } finally {
      await peer.close();
      await client.close();
    }
  });
});
