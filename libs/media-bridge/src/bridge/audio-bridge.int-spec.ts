/**
 * The bridge over real UDP: the gateway's RtpLeg toward a second RtpLeg that plays the PBX phone, and an
 * in-memory MediaPort for the WhatsApp side (the werift leg is tested on its own) fed with real Opus frames.
 * Audio is checked by frequency after decoding, DTMF by digit and duration.
 */
import { silentLogger } from '@wagw/logging';
import { OpusCodec } from '../audio/opus';
import { analyseTone, ToneGenerator } from '../audio/tone';
import { decodeG711, encodeG711, type G711Law } from '../codec/g711';
import { RtpPortAllocator } from '../rtp/port-allocator';
import { RtpLeg } from '../rtp/rtp-leg';
import { AudioBridge, type BridgeDtmfEvent, type BridgeMedia } from './audio-bridge';
import { parseTelephoneEvent, writeTelephoneEvent } from './dtmf';
import { FakeMediaPort } from './media-port.fake';
import type { RtpPacketIn } from './media-port.types';

const HOST = '127.0.0.1';
const WA_SSRC = 0x3a3a3a3a;

interface Harness {
  wa: FakeMediaPort;
  gateway: RtpLeg;
  phone: RtpLeg;
  bridge: AudioBridge;
  digits: BridgeDtmfEvent[];
  /** What the phone received of one payload type (copied). */
  atPhone(pt: number, count: number): Promise<RtpPacketIn[]>;
  every(ms: number, fn: () => void): void;
}

describe('AudioBridge between a WhatsApp port and a PBX phone over UDP', () => {
  let allocator: RtpPortAllocator;
  let cleanup: (() => Promise<void> | void)[] = [];

  beforeEach(() => {
    const base = 46000 + 2 * Math.floor(Math.random() * 4000);
    allocator = new RtpPortAllocator({ portMin: base, portMax: base + 99, host: HOST });
  });

  afterEach(async () => {
    for (const c of cleanup.reverse()) await c();
    cleanup = [];
    expect(allocator.inUse).toBe(0); // every port released
  });

  async function harness(media: BridgeMedia, phonePts: number[], clockRate: number): Promise<Harness> {
    const logger = silentLogger();
    const gateway = new RtpLeg({ pair: await allocator.allocate(), payloadTypes: phonePts, clockRate, logger });
    const phone = new RtpLeg({ pair: await allocator.allocate(), payloadTypes: phonePts, clockRate, logger, remote: { address: HOST, port: gateway.localRtpPort } });
    gateway.setRemote({ address: HOST, port: phone.localRtpPort }); // from the phone's SDP
    const wa = new FakeMediaPort();
    const bridge = new AudioBridge({ wa, pbx: gateway, media, pbxDtmfPt: 101, logger });
    const digits: BridgeDtmfEvent[] = [];
    bridge.events.on('dtmf', (d) => digits.push(d));
    const received: RtpPacketIn[] = [];
    const waiters: (() => void)[] = [];
    phone.onRtp((p) => {
      received.push({ ...p, payload: Buffer.from(p.payload) });
      for (const w of [...waiters]) w();
    });
    cleanup.push(() => gateway.close(), () => phone.close(), () => bridge.close());
    const atPhone = (pt: number, count: number): Promise<RtpPacketIn[]> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`phone got ${received.filter((p) => p.payloadType === pt).length}/${count} of PT ${pt}`)), 8000);
        const check = (): void => {
          const got = received.filter((p) => p.payloadType === pt);
          if (got.length < count) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          resolve(got);
        };
        waiters.push(check);
        check();
      });
    const every = (ms: number, fn: () => void): void => {
      const timer = setInterval(fn, ms);
      cleanup.push(() => clearInterval(timer));
    };
    return { wa, gateway, phone, bridge, digits, atPhone, every };
  }

  /** The WhatsApp side: a 20 ms Opus stream of a tone; `extra` may add packets (events) in the same seq space. */
  function waTalks(h: Harness, hz: number, extra?: (frame: number, ts: number, nextSeq: () => number) => void): Buffer[] {
    const enc = new OpusCodec(48000);
    const gen = new ToneGenerator(hz, 48000);
    const sent: Buffer[] = [];
    let seq = 100;
    let frame = 0;
    h.every(20, () => {
      const payload = enc.encode(gen.next(960));
      sent.push(payload);
      const ts = 960 * frame;
      h.wa.deliver({ payloadType: 111, sequenceNumber: seq++ & 0xffff, timestamp: ts, marker: frame === 0, ssrc: WA_SSRC, payload });
      extra?.(frame, ts, () => seq++ & 0xffff);
      frame++;
    });
    return sent;
  }

  /** The phone: a 20 ms G.711 tone; `extra` may send events at the current audio timestamp. */
  function phoneTalks(h: Harness, law: G711Law, pt: number, hz: number, extra?: (frame: number, ts: number) => void): void {
    const gen = new ToneGenerator(hz, 8000);
    let frame = 0;
    h.every(20, () => {
      const payload = Buffer.alloc(160);
      encodeG711(law, gen.next(160), payload);
      const ts = 160 * frame;
      h.phone.sendRtp({ payloadType: pt, timestamp: ts, marker: frame === 0, payload });
      extra?.(frame, ts);
      frame++;
    });
  }

  describe.each([
    ['PCMU', 0],
    ['PCMA', 8],
  ] as const)('transcoding to %s', (law, pt) => {
    it('carries 1 kHz from WhatsApp to the phone and 400 Hz from the phone to WhatsApp', async () => {
      const h = await harness({ mode: 'transcode', pbxCodec: law, pbxPt: pt }, [pt, 101], 8000);
      waTalks(h, 1000);
      phoneTalks(h, law, pt, 400);
      const [atPhone, atWa] = await Promise.all([h.atPhone(pt, 60), h.wa.waitForSent(111, 60, 8000)]);
      const pcm = new Int16Array(60 * 160);
      atPhone.slice(0, 60).forEach((p, i) => decodeG711(law, p.payload, pcm.subarray(i * 160)));
      const toPhone = analyseTone(pcm.subarray(1600), 1000, 8000);
      expect(toPhone.framesWithTone).toBeGreaterThanOrEqual(toPhone.frames - 1);
      expect(analyseTone(pcm.subarray(1600), 400, 8000).framesWithTone).toBe(0);
      const dec = new OpusCodec(48000);
      const heard = new Int16Array(60 * 960);
      atWa.slice(0, 60).forEach((p, i) => heard.set(dec.decode(p.payload), i * 960));
      const toWa = analyseTone(heard.subarray(9600), 400, 48000);
      expect(toWa.framesWithTone).toBeGreaterThanOrEqual(toWa.frames - 1);
      expect(analyseTone(heard.subarray(9600), 1000, 48000).framesWithTone).toBe(0);
      const st = h.bridge.stats();
      expect(st.transcoder?.decodeMeanUs).toBeGreaterThan(0);
      expect(st.pbxToWa.lost).toBe(0);
    });
  });

  it('passes Opus through byte for byte in both directions', async () => {
    const h = await harness({ mode: 'passthrough', pbxPt: 96 }, [96, 101], 48000);
    const fromWa = waTalks(h, 1000);
    const enc = new OpusCodec(48000);
    const gen = new ToneGenerator(400, 48000);
    const fromPhone: Buffer[] = [];
    h.every(20, () => {
      const payload = enc.encode(gen.next(960));
      fromPhone.push(payload);
      h.phone.sendRtp({ payloadType: 96, timestamp: 960 * fromPhone.length, marker: false, payload });
    });
    const [atPhone, atWa] = await Promise.all([h.atPhone(96, 30), h.wa.waitForSent(111, 30, 8000)]);
    expect(atPhone.slice(0, 30).map((p) => p.payload.toString('hex'))).toEqual(fromWa.slice(0, 30).map((b) => b.toString('hex')));
    expect(atWa.slice(0, 30).map((p) => p.payload.toString('hex'))).toEqual(fromPhone.slice(0, 30).map((b) => b.toString('hex')));
  });

  it('relays DTMF both ways with digits and 8 kHz durations, and sends API digits to the PBX', async () => {
    const h = await harness({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 }, [0, 101], 8000);
    const event = (digit: number, k: number, total: number): Buffer =>
      writeTelephoneEvent({ event: digit, end: k >= total, volume: 10, duration: Math.min(k, total) * 160 });
    let waEventTs = -1;
    waTalks(h, 1000, (frame, ts, nextSeq) => {
      if (frame === 10) waEventTs = ts;
      const k = frame - 10; // 7 packets of growing duration, then three ends of 1120 (140 ms)
      if (k >= 0 && k < 10) h.wa.deliver({ payloadType: 126, sequenceNumber: nextSeq(), timestamp: waEventTs, marker: k === 0, ssrc: WA_SSRC, payload: event(9, k, 7) });
    });
    let phoneEventTs = -1;
    phoneTalks(h, 'PCMU', 0, 400, (frame, ts) => {
      if (frame === 12) phoneEventTs = ts;
      const k = frame - 12; // '#', 80 ms
      if (k >= 0 && k < 7) h.phone.sendRtp({ payloadType: 101, timestamp: phoneEventTs, marker: k === 0, payload: event(11, k, 4) });
    });
    const toPhone = await h.atPhone(101, 10);
    expect(new Set(toPhone.map((p) => parseTelephoneEvent(p.payload)?.event))).toEqual(new Set([9]));
    expect(toPhone.map((p) => parseTelephoneEvent(p.payload)?.duration)).toEqual([0, 160, 320, 480, 640, 800, 960, 1120, 1120, 1120]);
    expect(new Set(toPhone.map((p) => p.timestamp)).size).toBe(1);
    const toWa = await h.wa.waitForSent(126, 7, 8000);
    expect(toWa.map((p) => parseTelephoneEvent(p.payload)?.duration)).toEqual([0, 160, 320, 480, 640, 640, 640]);
    expect(toWa.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false]);
    await h.bridge.sendDtmfToPbx('4', 120); // resolves once its end packets went out
    const api = (await h.atPhone(101, 10 + 9)).slice(10).map((p) => parseTelephoneEvent(p.payload));
    expect(new Set(api.map((e) => e?.event))).toEqual(new Set([4]));
    expect(api[0]?.duration).toBe(0);
    expect(api.filter((e) => e?.end).map((e) => e?.duration)).toEqual([960, 960, 960]);
    expect(h.digits).toEqual(
      expect.arrayContaining([
        { direction: 'wa-to-pbx', digit: '9', durationMs: 140, source: 'rtp' },
        { direction: 'pbx-to-wa', digit: '#', durationMs: 80, source: 'rtp' },
        { direction: 'wa-to-pbx', digit: '4', durationMs: 120, source: 'api' },
      ]),
    );
    expect(h.digits.length).toBe(3);
  });
});
