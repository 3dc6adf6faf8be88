/**
 * Two real RtpLegs over loopback UDP: latching, RTCP reports and BYE, and port release.
 */
import { silentLogger } from '@wagw/logging';
import type { RtpPacketIn } from '../bridge/media-port.types';
import { createSocket } from 'node:dgram';
import { SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80, SrtpUnprotector, type SrtpProfile } from '../webrtc/srtp/srtp-session';
import { RtpPortAllocator } from './port-allocator';
import { RtpLeg, type RtpLegOptions } from './rtp-leg';
import { newSdesKey } from './sdes';

const HOST = '127.0.0.1';

/** Collects what a leg receives (copies: the leg reuses its packet object) and waits for counts. */
function collect(leg: RtpLeg) {
  const got: RtpPacketIn[] = [];
  const waiters: (() => void)[] = [];
  leg.onRtp((p) => {
    got.push({ ...p, payload: Buffer.from(p.payload) });
    for (const w of [...waiters]) w();
  });
  const waitFor = (count: number, timeoutMs = 5000): Promise<RtpPacketIn[]> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${got.length} of ${count}`)), timeoutMs);
      const check = (): void => {
        if (got.length < count) return;
        clearTimeout(timer);
        waiters.splice(waiters.indexOf(check), 1);
        resolve(got);
      };
      waiters.push(check);
      check();
    });
  return { got, waitFor };
}

/** Sends a PCMU-shaped packet every 20 ms until stopped. */
function pump(leg: RtpLeg): () => void {
  let ts = 0;
  const timer = setInterval(() => {
    leg.sendRtp({ payloadType: 0, timestamp: ts, marker: false, payload: Buffer.alloc(160, 0xff) });
    ts += 160;
  }, 20);
  return () => clearInterval(timer);
}

describe('RtpLeg over loopback UDP', () => {
  let allocator: RtpPortAllocator;
  const legs: RtpLeg[] = [];
  const stops: (() => void)[] = [];

  const open = async (options: Partial<RtpLegOptions> = {}): Promise<RtpLeg> => {
    const leg = new RtpLeg({ pair: await allocator.allocate(), payloadTypes: [0, 101], clockRate: 8000, logger: silentLogger(), ...options });
    legs.push(leg);
    return leg;
  };

  beforeEach(() => {
    const base = 42000 + 2 * Math.floor(Math.random() * 4000);
    allocator = new RtpPortAllocator({ portMin: base, portMax: base + 99, host: HOST });
  });

  afterEach(async () => {
    stops.splice(0).forEach((s) => s());
    await Promise.all(legs.splice(0).map((l) => l.close()));
    expect(allocator.inUse).toBe(0);
  });

  it('latches to the source of the first valid RTP, whatever the SDP said, and answers there', async () => {
    const gateway = await open({ remote: { address: HOST, port: 9 } }); // the SDP of a NATed phone: useless
    const phone = await open({ remote: { address: HOST, port: gateway.localRtpPort } });
    const atPhone = collect(phone);
    const latched = gateway.events.once('latched');
    stops.push(pump(phone));
    expect(await latched).toEqual({ kind: 'rtp', address: HOST, port: phone.localRtpPort });
    stops.push(pump(gateway));
    await atPhone.waitFor(5);
    expect(gateway.stats()).toMatchObject({ latched: true, remote: { address: HOST, port: phone.localRtpPort } });
  });

  it('drops packets of another source while the latched one talks, and re-latches after its silence', async () => {
    const gateway = await open({ relatchAfterMs: 200 });
    const phoneA = await open({ remote: { address: HOST, port: gateway.localRtpPort } });
    const phoneB = await open({ remote: { address: HOST, port: gateway.localRtpPort } });
    const first = gateway.events.once('latched');
    const stopA = pump(phoneA);
    await first;
    const stopB = pump(phoneB); // an intruder (or the phone's new address) while A still talks
    stops.push(stopB);
    const atB = collect(phoneB);
    const intruders = await new Promise<number>((resolve) => {
      const off = gateway.onRtp(() => {
        const n = gateway.stats().packetsFromOtherSource;
        if (n >= 3) {
          off();
          resolve(n);
        }
      });
    });
    expect(intruders).toBeGreaterThanOrEqual(3);
    expect(gateway.stats().remote?.port).toBe(phoneA.localRtpPort);
    const relatched = gateway.events.once('latched');
    stopA(); // A falls silent: after 200 ms B takes over
    expect(await relatched).toMatchObject({ kind: 'rtp', port: phoneB.localRtpPort });
    stops.push(pump(gateway));
    await atB.waitFor(3);
  });

  it('after setRemote moves the media, the old phone still talking does not pull the stream back; the new one is latched', async () => {
    const gateway = await open();
    const oldPhone = await open({ remote: { address: HOST, port: gateway.localRtpPort } });
    const newPhone = await open({ remote: { address: HOST, port: gateway.localRtpPort } });
    const first = gateway.events.once('latched');
    stops.push(pump(oldPhone)); // keeps talking after the move (packets in flight, a phone slow to stop)
    await first;
    gateway.setRemote({ address: HOST, port: newPhone.localRtpPort }); // a re-INVITE moved the media
    const atNew = collect(newPhone);
    const atOld = collect(oldPhone);
    stops.push(pump(gateway));
    await atNew.waitFor(10);
    expect(gateway.stats()).toMatchObject({ latched: false, remote: { port: newPhone.localRtpPort } });
    const relatched = gateway.events.once('latched');
    stops.push(pump(newPhone));
    expect(await relatched).toMatchObject({ kind: 'rtp', port: newPhone.localRtpPort });
    await atNew.waitFor(20);
    expect(atOld.got).toHaveLength(0); // nothing went back to the old phone
    expect(gateway.stats().packetsFromOtherSource).toBeGreaterThan(0);
  });

  it('exchanges RTCP SR/RR with reception statistics and says BYE on close', async () => {
    const gateway = await open({ rtcpIntervalMs: 150 });
    const phone = await open({ remote: { address: HOST, port: gateway.localRtpPort }, rtcpIntervalMs: 150 });
    gateway.setRemote({ address: HOST, port: phone.localRtpPort });
    stops.push(pump(phone), pump(gateway));
    const srFromGateway = await new Promise((resolve) => {
      const off = phone.events.on('rtcp', (packets) => {
        const sr = packets.find((p) => p.type === 'sr' && p.reports.length > 0);
        if (sr) {
          off();
          resolve(sr);
        }
      });
    });
    expect(srFromGateway).toMatchObject({ type: 'sr', ssrc: gateway.ssrc, reports: [{ ssrc: phone.ssrc, cumulativeLost: 0 }] });
    const stats = gateway.stats();
    expect(stats.receive).toMatchObject({ ssrc: phone.ssrc, packetsLost: 0 });
    expect(stats.packetsSent).toBeGreaterThan(0);
    expect(stats.rtcpSent).toBeGreaterThan(0);
    // the phone's reports reach the gateway too (every 75-225 ms): what a media timeout counts besides RTP
    if (gateway.stats().rtcpReceived === 0) await new Promise<void>((resolve) => void gateway.events.once('rtcp').then(() => resolve()));
    expect(gateway.stats().rtcpReceived).toBeGreaterThan(0);
    expect(gateway.packetsHeard).toBe(gateway.stats().packetsReceived + gateway.stats().rtcpReceived);
    const bye = phone.events.once('bye');
    stops.splice(0).forEach((s) => s());
    await gateway.close();
    expect(await bye).toEqual({ ssrcs: [gateway.ssrc] });
  });

  it('counts datagrams that are not RTP or carry a payload type not negotiated', async () => {
    const gateway = await open();
    const phone = await open({ remote: { address: HOST, port: gateway.localRtpPort }, payloadTypes: [0, 8] });
    const seen = collect(gateway);
    phone.sendRtp({ payloadType: 8, timestamp: 0, marker: false, payload: Buffer.alloc(160) }); // PT 8: not negotiated
    phone.sendRtp({ payloadType: 0, timestamp: 160, marker: false, payload: Buffer.alloc(160) });
    await seen.waitFor(1);
    expect(seen.got.map((p) => p.payloadType)).toEqual([0]);
    expect(gateway.stats().packetsUnexpectedPayloadType).toBe(1);
    // what the media timeout watches: both came from the PBX (comfort noise or a stray codec is still life)
    expect(gateway.packetsHeard).toBe(2);
    const raw = createSocket('udp4');
    await new Promise<void>((resolve) => raw.send(Buffer.from('not rtp'), gateway.localRtpPort, HOST, () => resolve()));
    raw.close();
    await new Promise((r) => setTimeout(r, 50));
    expect(gateway.packetsHeard).toBe(2);
  });

  it('releases both ports on close, idempotently', async () => {
    const leg = await open();
    expect(allocator.inUse).toBe(1);
    await Promise.all([leg.close(), leg.close()]);
    expect(allocator.inUse).toBe(0);
    leg.sendRtp({ payloadType: 0, timestamp: 0, marker: false, payload: Buffer.alloc(1) }); // no throw after close
  });

  describe.each([
    ['AES_CM_128_HMAC_SHA1_80', SRTP_AES128_CM_HMAC_SHA1_80, 10],
    ['AES_CM_128_HMAC_SHA1_32', SRTP_AES128_CM_HMAC_SHA1_32, 4],
  ] as [string, SrtpProfile, number][])('with SDES-SRTP %s', (_suite, profile, tagLength) => {
    const securePair = async (extra: Partial<RtpLegOptions> = {}): Promise<{ gateway: RtpLeg; phone: RtpLeg; keys: { gateway: ReturnType<typeof newSdesKey>; phone: ReturnType<typeof newSdesKey> } }> => {
      const keys = { gateway: newSdesKey(), phone: newSdesKey() };
      const gateway = await open({ srtp: { profile, local: keys.gateway, remote: keys.phone }, ...extra });
      const phone = await open({ srtp: { profile, local: keys.phone, remote: keys.gateway }, remote: { address: HOST, port: gateway.localRtpPort }, ...extra });
      gateway.setRemote({ address: HOST, port: phone.localRtpPort });
      return { gateway, phone, keys };
    };

    it('carries RTP both ways, encrypted and tagged on the wire', async () => {
      const { gateway, phone, keys } = await securePair();
      const atGateway = collect(gateway);
      const atPhone = collect(phone);
      phone.sendRtp({ payloadType: 0, timestamp: 160, marker: true, payload: Buffer.alloc(160, 0x5a) });
      gateway.sendRtp({ payloadType: 101, timestamp: 320, marker: false, payload: Buffer.from([1, 0x8a, 0, 160]) });
      expect((await atGateway.waitFor(1))[0]).toMatchObject({ payloadType: 0, timestamp: 160, marker: true, payload: Buffer.alloc(160, 0x5a) });
      expect((await atPhone.waitFor(1))[0]).toMatchObject({ payloadType: 101, timestamp: 320, payload: Buffer.from([1, 0x8a, 0, 160]) });
      expect(gateway.stats()).toMatchObject({ srtp: true, srtpRejected: 0, latched: true });

      // what a third party on the path sees: ciphertext of the right length, which only the gateway's key opens
      const sniffer = createSocket('udp4');
      await new Promise<void>((resolve) => sniffer.bind(0, HOST, () => resolve()));
      try {
        gateway.setRemote({ address: HOST, port: sniffer.address().port });
        const wire = new Promise<Buffer>((resolve) => sniffer.once('message', (m) => resolve(m)));
        gateway.sendRtp({ payloadType: 0, timestamp: 480, marker: false, payload: Buffer.alloc(160, 0x5a) });
        const packet = await wire;
        expect(packet.length).toBe(12 + 160 + tagLength);
        expect(packet.subarray(12, 172).equals(Buffer.alloc(160, 0x5a))).toBe(false);
        expect(new SrtpUnprotector(keys.phone, profile).unprotect(Buffer.from(packet))).toBeNull();
        expect(new SrtpUnprotector(keys.gateway, profile).unprotect(packet)?.payload.equals(Buffer.alloc(160, 0x5a))).toBe(true);
      } finally {
        sniffer.close();
      }
    });

    it('exchanges SRTCP reports and says BYE over SRTCP on close', async () => {
      const { gateway, phone } = await securePair({ rtcpIntervalMs: 150 });
      stops.push(pump(phone), pump(gateway));
      const sr = await new Promise((resolve) => {
        const off = phone.events.on('rtcp', (packets) => {
          const found = packets.find((p) => p.type === 'sr' && p.reports.length > 0);
          if (found) {
            off();
            resolve(found);
          }
        });
      });
      expect(sr).toMatchObject({ type: 'sr', ssrc: gateway.ssrc, reports: [{ ssrc: phone.ssrc, cumulativeLost: 0 }] });
      expect(phone.stats()).toMatchObject({ rtcpInvalid: 0, srtpRejected: 0 });
      const bye = phone.events.once('bye');
      stops.splice(0).forEach((s) => s());
      await gateway.close();
      expect(await bye).toEqual({ ssrcs: [gateway.ssrc] });
    });

    it('refuses plain RTP and packets under another key, without latching to their source', async () => {
      const { gateway, phone } = await securePair();
      const seen = collect(gateway);
      const plain = await open({ remote: { address: HOST, port: gateway.localRtpPort } });
      const wrongKey = await open({ srtp: { profile, local: newSdesKey(), remote: newSdesKey() }, remote: { address: HOST, port: gateway.localRtpPort } });
      for (let i = 0; i < 3; i++) {
        plain.sendRtp({ payloadType: 0, timestamp: i * 160, marker: false, payload: Buffer.alloc(160) });
        wrongKey.sendRtp({ payloadType: 0, timestamp: i * 160, marker: false, payload: Buffer.alloc(160) });
      }
      phone.sendRtp({ payloadType: 0, timestamp: 0, marker: false, payload: Buffer.alloc(160, 1) });
      await seen.waitFor(1);
      await new Promise((resolve) => setTimeout(resolve, 50)); // let any straggler of the six arrive (all were sent before)
      expect(seen.got).toHaveLength(1);
      expect(gateway.stats()).toMatchObject({ srtpRejected: 6, remote: { port: phone.localRtpPort } });
    });

    it('takes the remote key a re-INVITE brings, and then only that one', async () => {
      const { gateway, phone } = await securePair();
      const seen = collect(gateway);
      const rekeyed = newSdesKey();
      const phone2 = await open({ srtp: { profile, local: rekeyed, remote: newSdesKey() }, remote: { address: HOST, port: gateway.localRtpPort } });
      phone.sendRtp({ payloadType: 0, timestamp: 0, marker: false, payload: Buffer.alloc(160, 1) });
      await seen.waitFor(1);
      gateway.setRemote({ address: HOST, port: phone2.localRtpPort });
      gateway.setSrtpRemoteKey(rekeyed);
      phone2.sendRtp({ payloadType: 0, timestamp: 160, marker: false, payload: Buffer.alloc(160, 2) });
      await seen.waitFor(2);
      phone.sendRtp({ payloadType: 0, timestamp: 320, marker: false, payload: Buffer.alloc(160, 3) });
      phone2.sendRtp({ payloadType: 0, timestamp: 480, marker: false, payload: Buffer.alloc(160, 4) });
      await seen.waitFor(3);
      expect(seen.got.map((p) => p.payload[0])).toEqual([1, 2, 4]);
      expect(gateway.stats().srtpRejected).toBeGreaterThanOrEqual(1);
    });
  });
});
