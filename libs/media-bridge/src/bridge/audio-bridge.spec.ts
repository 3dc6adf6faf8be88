import { silentLogger } from '@wagw/logging';
import { OpusCodec } from '../audio/opus';
import { RINGBACK_TONES } from '../audio/progress-tone';
import { analyseTone, ToneGenerator } from '../audio/tone';
import { decodeG711, encodeG711, type G711Law } from '../codec/g711';
import { G722Encoder } from '../codec/g722';
import { AudioBridge, type BridgeDtmfEvent, type BridgeMedia } from './audio-bridge';
import { BridgeClosedError, DtmfNotNegotiatedError } from './bridge.errors';
import { parseTelephoneEvent, writeTelephoneEvent } from './dtmf';
import { FakeMediaPort, ManualFrameTicker, type SentPacket } from './media-port.fake';

const WA_SSRC = 0x11110000;
const PBX_SSRC = 0x22220000;

function setup(media: BridgeMedia, { pbxDtmfPt, playout }: { pbxDtmfPt?: number; playout?: 'arrival' | 'clock' } = { pbxDtmfPt: 101 }) {
  const clock = { now: 0 };
  const wa = new FakeMediaPort(0xaaaa);
  const pbx = new FakeMediaPort(0xbbbb);
  const ticker = new ManualFrameTicker();
  const bridge = new AudioBridge({ wa, pbx, media, logger: silentLogger(), ticker, now: () => clock.now, pbxDtmfPt, ...(playout ? { playout } : {}) });
  const digits: BridgeDtmfEvent[] = [];
  bridge.events.on('dtmf', (d) => digits.push(d));
  /** One 20 ms step: optional deliveries, then the playout tick. */
  const step = (deliver?: () => void): void => {
    deliver?.();
    clock.now += 20;
    ticker.tick(clock.now);
  };
  return { wa, pbx, ticker, bridge, digits, step, clock };
}

const diffs = (packets: SentPacket[]): number[] => packets.slice(1).map((p, i) => (p.timestamp - (packets[i] as SentPacket).timestamp) >>> 0);

function opusFrames(hz: number, n: number): Buffer[] {
  const enc = new OpusCodec(48000);
  const gen = new ToneGenerator(hz, 48000);
  return Array.from({ length: n }, () => enc.encode(gen.next(960)));
}

function g711Frames(law: G711Law, hz: number, n: number): Buffer[] {
  const gen = new ToneGenerator(hz, 8000);
  return Array.from({ length: n }, () => {
    const b = Buffer.alloc(160);
    encodeG711(law, gen.next(160), b);
    return b;
  });
}

function g722Frames(hz: number, n: number): Buffer[] {
  const gen = new ToneGenerator(hz, 16000);
  const enc = new G722Encoder();
  return Array.from({ length: n }, () => {
    const b = Buffer.alloc(160);
    enc.encode(gen.next(320), b);
    return b;
  });
}

function decodeAll(law: G711Law, packets: SentPacket[]): Int16Array {
  const pcm = new Int16Array(packets.length * 160);
  packets.forEach((p, i) => decodeG711(law, p.payload, pcm.subarray(i * 160)));
  return pcm;
}

function decodeOpus(packets: SentPacket[]): Int16Array {
  const dec = new OpusCodec(48000);
  const parts = packets.map((p) => dec.decode(p.payload));
  const out = new Int16Array(parts.length * 960);
  parts.forEach((p, i) => out.set(p, i * 960));
  return out;
}

describe.each([
  ['PCMU', 0],
  ['PCMA', 8],
] as const)('AudioBridge transcoding Opus <-> %s', (law, pt) => {
  it('plays WhatsApp Opus to the PBX as a continuous G.711 stream carrying the tone', () => {
    const { wa, pbx, step } = setup({ mode: 'transcode', pbxCodec: law, pbxPt: pt });
    opusFrames(1000, 50).forEach((payload, i) =>
      step(() => wa.deliver({ payloadType: 111, sequenceNumber: 500 + i, timestamp: 7777 + 960 * i, marker: false, ssrc: WA_SSRC, payload })),
    );
    const out = pbx.sentWith(pt);
    expect(out.length).toBe(50);
    expect(new Set(diffs(out))).toEqual(new Set([160]));
    expect(out.every((p) => p.payload.length === 160)).toBe(true);
    const rep = analyseTone(decodeAll(law, out).subarray(1600), 1000, 8000);
    expect(rep.framesWithTone).toBe(rep.frames);
  });

  it('sends PBX G.711 to WhatsApp as Opus on a 48 kHz timeline', () => {
    const { wa, pbx, step, bridge } = setup({ mode: 'transcode', pbxCodec: law, pbxPt: pt });
    g711Frames(law, 400, 50).forEach((payload, i) =>
      step(() => pbx.deliver({ payloadType: pt, sequenceNumber: 9 + i, timestamp: 160 * i, marker: i === 0, ssrc: PBX_SSRC, payload })),
    );
    const out = wa.sentWith(111);
    expect(out.length).toBe(50);
    expect(new Set(diffs(out))).toEqual(new Set([960]));
    const rep = analyseTone(decodeOpus(out).subarray(9600), 400, 48000);
    expect(rep.framesWithTone).toBe(rep.frames);
    expect(bridge.stats().transcoder?.framesEncoded).toBe(50);
    expect(bridge.stats().pbxToWa).toMatchObject({ packetsIn: 50, packetsOut: 50, lost: 0 });
  });
});

describe('AudioBridge', () => {
  it.each([
    ['PCMU', 0],
    ['G722', 9],
  ] as const)('plays a tone to WhatsApp in place of the PBX audio on the same stream, then the PBX again (%s)', (codec, pt) => {
    const { wa, pbx, step, bridge } = setup({ mode: 'transcode', pbxCodec: codec, pbxPt: pt });
    const frames = codec === 'PCMU' ? g711Frames('PCMU', 1000, 120) : g722Frames(1000, 120);
    const deliver = (i: number) => () => pbx.deliver({ payloadType: pt, sequenceNumber: i, timestamp: 160 * i, marker: false, ssrc: PBX_SSRC, payload: frames[i] as Buffer });
    for (let i = 0; i < 30; i++) step(deliver(i));
    expect(bridge.playToWa(RINGBACK_TONES.eu)).toBe(true);
    for (let i = 30; i < 80; i++) step(deliver(i)); // the PBX goes on sending: WhatsApp hears the tone instead
    expect(bridge.playToWa(undefined)).toBe(false);
    for (let i = 80; i < 120; i++) step(deliver(i));

    const out = wa.sentWith(111);
    expect(out.length).toBe(120);
    // one outgoing stream: 20 ms steps, and one frame slot skipped where the tone took over (a PBX frame dropped)
    expect(diffs(out).filter((d) => d !== 960)).toEqual([1920]);
    expect(out.flatMap((p, i) => (p.marker ? [i] : []))).toEqual([0, 30, 80]);
    const pcm = decodeOpus(out);
    const part = (from: number, to: number, hz: number) => analyseTone(pcm.subarray(from * 960, to * 960), hz, 48000);
    expect(part(5, 30, 1000).framesWithTone).toBe(part(5, 30, 1000).frames);
    expect(part(32, 78, 1000).framesWithTone).toBe(0);
    expect(part(32, 78, 425).framesWithTone).toBeGreaterThanOrEqual(20); // the first 1 s burst (frames 30-79)
    expect(part(85, 120, 1000).framesWithTone).toBe(part(85, 120, 1000).frames);
    expect(bridge.stats().pbxToWa).toMatchObject({ packetsIn: 120, ignored: 50 });
  });

  it('plays no tone to WhatsApp in passthrough (no encoder in the bridge)', () => {
    const { bridge } = setup({ mode: 'passthrough', pbxPt: 111 });
    expect(bridge.playToWa(RINGBACK_TONES.us)).toBe(false);
  });

  it('keeps both outgoing timelines continuous when a source changes SSRC', () => {
    const { wa, pbx, step } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 });
    const opus = opusFrames(1000, 40);
    const g711 = g711Frames('PCMU', 400, 40);
    for (let i = 0; i < 40; i++) {
      const second = i >= 20;
      step(() => {
        wa.deliver({ payloadType: 111, sequenceNumber: second ? 9000 + i : 100 + i, timestamp: (second ? 5e8 : 1e6) + 960 * i, marker: false, ssrc: second ? 0x5555 : WA_SSRC, payload: opus[i] as Buffer });
        pbx.deliver({ payloadType: 0, sequenceNumber: i, timestamp: (second ? 123456 : 0) + 160 * i, marker: false, ssrc: second ? 0x6666 : PBX_SSRC, payload: g711[i] as Buffer });
      });
    }
    expect(new Set(diffs(pbx.sentWith(0)))).toEqual(new Set([160]));
    const toWa = wa.sentWith(111);
    expect(new Set(diffs(toWa))).toEqual(new Set([960]));
    expect(toWa.filter((p) => p.marker).length).toBe(2); // the first packet and the source change
  });

  it.each(['arrival', 'clock'] as const)('conceals lost WhatsApp frames, keeping the PBX timeline continuous (%s playout)', (playout) => {
    const { wa, pbx, step, bridge } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 }, { pbxDtmfPt: 101, playout });
    opusFrames(1000, 40).forEach((payload, i) =>
      step(() => {
        if (i !== 20 && i !== 21) wa.deliver({ payloadType: 111, sequenceNumber: i, timestamp: 960 * i, marker: false, ssrc: WA_SSRC, payload });
      }),
    );
    const out = pbx.sentWith(0);
    expect(out.length).toBe(40);
    expect(new Set(diffs(out))).toEqual(new Set([160]));
    expect(bridge.stats().jitterBuffer).toMatchObject({ lost: 2, concealed: 2, played: 38 });
    expect(bridge.stats().transcoder?.framesConcealed).toBe(2);
  });

  it('arrival playout sends each WhatsApp frame to the PBX the moment it arrives; clock playout waits for the tick', () => {
    const frames = opusFrames(1000, 3);
    for (const playout of ['arrival', 'clock'] as const) {
      const { wa, pbx } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 }, { pbxDtmfPt: 101, playout });
      frames.forEach((payload, i) => wa.deliver({ payloadType: 111, sequenceNumber: 40 + i, timestamp: 960 * i, marker: false, ssrc: WA_SSRC, payload }));
      expect([playout, pbx.sentWith(0).length]).toEqual([playout, playout === 'arrival' ? 3 : 0]);
    }
  });

  it('arrival playout waits for a reordered frame and conceals one that does not come by the next tick', () => {
    const { wa, pbx, bridge, clock, ticker } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 });
    const frames = opusFrames(1000, 12);
    const send = (i: number): void => wa.deliver({ payloadType: 111, sequenceNumber: 1000 + i, timestamp: 960 * i, marker: false, ssrc: WA_SSRC, payload: frames[i] as Buffer });
    [0, 1, 2, 4].forEach(send); // 3 is late
    expect(pbx.sentWith(0).length).toBe(3);
    clock.now += 2;
    send(3); // within the reorder wait: no concealment, 3 and 4 go out in order
    ticker.tick(clock.now);
    expect(pbx.sentWith(0).length).toBe(5);
    [5, 7, 8].forEach(send); // 6 never comes
    clock.now += 20;
    ticker.tick(clock.now);
    const out = pbx.sentWith(0);
    expect(out.length).toBe(9);
    expect(new Set(diffs(out))).toEqual(new Set([160]));
    expect(bridge.stats().jitterBuffer).toMatchObject({ played: 8, lost: 1, concealed: 1 });
    send(6); // too late now: dropped, not played out of order
    expect(pbx.sentWith(0).length).toBe(9);
    expect(bridge.stats().jitterBuffer?.late).toBe(1);
  });

  it('passes Opus through byte for byte, rewriting payload types and timestamps', () => {
    const { wa, pbx, step } = setup({ mode: 'passthrough', pbxPt: 96 });
    const frames = opusFrames(1000, 10);
    frames.forEach((payload, i) =>
      step(() => {
        wa.deliver({ payloadType: 111, sequenceNumber: i, timestamp: 3e9 + 960 * i, marker: false, ssrc: WA_SSRC, payload });
        pbx.deliver({ payloadType: 96, sequenceNumber: i, timestamp: 42 + 960 * i, marker: false, ssrc: PBX_SSRC, payload });
      }),
    );
    for (const [port, outPt] of [
      [pbx, 96],
      [wa, 111],
    ] as const) {
      const out = port.sentWith(outPt);
      expect(out.map((p) => p.payload.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
      expect(new Set(diffs(out))).toEqual(new Set([960]));
    }
  });

  it('relays WhatsApp DTMF to the PBX at the matching G.711 timestamp, durations unchanged, reporting the digit once', () => {
    const { wa, pbx, step, digits, bridge } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 });
    const opus = opusFrames(1000, 30);
    const eventTs = 960 * 10;
    const durations = [0, 160, 320, 480, 640, 800, 960, 1040, 1040, 1040];
    let seq = 0; // one sequence space for audio and events (reference §6.1)
    for (let i = 0; i < 30; i++) {
      step(() => {
        wa.deliver({ payloadType: 111, sequenceNumber: seq++, timestamp: 960 * i, marker: false, ssrc: WA_SSRC, payload: opus[i] as Buffer });
        const k = i - 12;
        if (k >= 0 && k < durations.length) {
          const payload = writeTelephoneEvent({ event: 7, end: k >= 7, volume: 10, duration: durations[k] as number });
          wa.deliver({ payloadType: 126, sequenceNumber: seq++, timestamp: eventTs, marker: k === 0, ssrc: WA_SSRC, payload });
        }
      });
    }
    const audio = pbx.sentWith(0);
    const events = pbx.sentWith(101);
    expect(events.length).toBe(10);
    expect(new Set(events.map((e) => e.timestamp))).toEqual(new Set([(audio[10] as SentPacket).timestamp]));
    expect(events.map((e) => parseTelephoneEvent(e.payload)?.duration)).toEqual(durations);
    expect(events.map((e) => e.marker)).toEqual([true, ...Array(9).fill(false)]);
    expect(digits).toEqual([{ direction: 'wa-to-pbx', digit: '7', durationMs: 130, source: 'rtp' }]);
    expect(bridge.stats().jitterBuffer).toMatchObject({ lost: 0, concealed: 0 }); // event seqs are not lost audio
  });

  it('relays PBX DTMF to WhatsApp in the 48 kHz timestamp space', () => {
    const { wa, pbx, step, digits } = setup({ mode: 'transcode', pbxCodec: 'PCMA', pbxPt: 8 });
    const g711 = g711Frames('PCMA', 400, 20);
    for (let i = 0; i < 20; i++) {
      step(() => {
        pbx.deliver({ payloadType: 8, sequenceNumber: i, timestamp: 160 * i, marker: false, ssrc: PBX_SSRC, payload: g711[i] as Buffer });
        if (i >= 6 && i < 10) {
          const payload = writeTelephoneEvent({ event: 11, end: i === 9, volume: 10, duration: (i - 5) * 160 });
          pbx.deliver({ payloadType: 101, sequenceNumber: 100 + i, timestamp: 160 * 5, marker: i === 6, ssrc: PBX_SSRC, payload });
        }
      });
    }
    const events = wa.sentWith(126);
    expect(events.length).toBe(4);
    expect(new Set(events.map((e) => e.timestamp))).toEqual(new Set([(wa.sentWith(111)[5] as SentPacket).timestamp]));
    expect(events.map((e) => parseTelephoneEvent(e.payload)?.duration)).toEqual([160, 320, 480, 640]);
    expect(digits).toEqual([{ direction: 'pbx-to-wa', digit: '#', durationMs: 80, source: 'rtp' }]);
  });

  it('sends API digits to WhatsApp on PT 126 and reports them', async () => {
    const { wa, pbx, step, digits, bridge } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 });
    const g711 = g711Frames('PCMU', 400, 40);
    const sent = bridge.sendDtmfToWa('1#', 100);
    for (let i = 0; i < 40; i++) step(() => pbx.deliver({ payloadType: 0, sequenceNumber: i, timestamp: 160 * i, marker: false, ssrc: PBX_SSRC, payload: g711[i] as Buffer }));
    await sent;
    const events = wa.sentWith(126).map((p) => ({ ts: p.timestamp, e: parseTelephoneEvent(p.payload) }));
    expect([...new Set(events.map((x) => x.e?.event))]).toEqual([1, 11]);
    expect(events.filter((x) => x.e?.end).map((x) => x.e?.duration)).toEqual([800, 800, 800, 800, 800, 800]);
    expect(new Set(events.map((x) => x.ts)).size).toBe(2);
    expect(digits.map((d) => [d.direction, d.digit, d.durationMs, d.source])).toEqual([
      ['pbx-to-wa', '1', 100, 'api'],
      ['pbx-to-wa', '#', 100, 'api'],
    ]);
  });

  it('without a PBX telephone-event type, reports WhatsApp digits without forwarding them', async () => {
    const { wa, pbx, step, digits, bridge } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 }, {});
    step(() => wa.deliver({ payloadType: 126, sequenceNumber: 1, timestamp: 0, marker: true, ssrc: WA_SSRC, payload: writeTelephoneEvent({ event: 3, end: true, volume: 10, duration: 800 }) }));
    expect(digits.map((d) => d.digit)).toEqual(['3']);
    expect(pbx.sent.length).toBe(0);
    await expect(bridge.sendDtmfToPbx('1')).rejects.toBeInstanceOf(DtmfNotNegotiatedError);
  });

  it('close() stops forwarding, detaches from ports and clock, and rejects pending digits', async () => {
    const { wa, pbx, ticker, bridge, step } = setup({ mode: 'transcode', pbxCodec: 'PCMU', pbxPt: 0 });
    const pending = bridge.sendDtmfToPbx('5', 200);
    bridge.close();
    bridge.close();
    await expect(pending).rejects.toBeInstanceOf(BridgeClosedError);
    await expect(bridge.sendDtmfToWa('1')).rejects.toBeInstanceOf(BridgeClosedError);
    expect([wa.listenerCount, pbx.listenerCount, ticker.listenerCount]).toEqual([0, 0, 0]);
    step(() => wa.deliver({ payloadType: 111, sequenceNumber: 1, timestamp: 0, marker: false, ssrc: WA_SSRC, payload: opusFrames(1000, 1)[0] as Buffer }));
    expect(pbx.sent.length).toBe(0);
  });
});
