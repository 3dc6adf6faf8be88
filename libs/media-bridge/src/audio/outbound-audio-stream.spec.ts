import { silentLogger } from '@wagw/logging';
import type { RtpPacketOut } from '../bridge/media-port.types';
import type { FrameTicker, FrameTickListener } from '../bridge/frame-clock';
import { parseTelephoneEvent } from '../bridge/dtmf';
import { OpusCodec } from './opus';
import { OutboundAudioStream } from './outbound-audio-stream';
import { analyseTone, concatSamples } from './tone';

class ManualTicker implements FrameTicker {
  readonly listeners = new Set<FrameTickListener>();
  #now = 0;
  add(l: FrameTickListener): void {
    this.listeners.add(l);
  }
  remove(l: FrameTickListener): void {
    this.listeners.delete(l);
  }
  tick(frames: number): void {
    for (let i = 0; i < frames; i++) {
      this.#now += 20;
      for (const l of [...this.listeners]) l.onFrameTick(this.#now);
    }
  }
}

function setup(): { stream: OutboundAudioStream; sent: RtpPacketOut[]; clock: ManualTicker } {
  const sent: RtpPacketOut[] = [];
  const clock = new ManualTicker();
  const stream = new OutboundAudioStream({ send: (p) => sent.push(p), logger: silentLogger(), clock });
  return { stream, sent, clock };
}

function decode(packets: RtpPacketOut[]): Int16Array {
  const codec = new OpusCodec(48000);
  return concatSamples(packets.map((p) => codec.decode(p.payload)));
}

describe('OutboundAudioStream', () => {
  it('sends one 20 ms Opus frame per tick with timestamps 960 apart and the marker on the first', () => {
    const { stream, sent, clock } = setup();
    stream.playTone(400);
    clock.tick(50);

    expect(sent).toHaveLength(50);
    expect(sent.every((p) => p.payloadType === 111)).toBe(true);
    expect(sent.map((p) => p.marker)).toEqual([true, ...Array(49).fill(false)]);
    expect(sent.slice(1).every((p, i) => ((p.timestamp - (sent[i] as RtpPacketOut).timestamp) >>> 0) === 960)).toBe(true);
    const pcm = decode(sent);
    expect(analyseTone(pcm, 400, 48000).framesWithTone).toBeGreaterThan(15);
    expect(analyseTone(pcm, 1000, 48000).framesWithTone).toBe(0);
  });

  it('sends nothing while stopped but keeps time', () => {
    const { stream, sent, clock } = setup();
    stream.playSilence();
    clock.tick(1);
    stream.stopSending();
    clock.tick(10);
    stream.playSilence();
    clock.tick(1);

    expect(sent).toHaveLength(2);
    expect(((sent[1] as RtpPacketOut).timestamp - (sent[0] as RtpPacketOut).timestamp) >>> 0).toBe(11 * 960);
  });

  it('puts RFC 4733 events in the audio timeline, suppressing audio while a digit lasts', async () => {
    const { stream, sent, clock } = setup();
    stream.playTone(400);
    clock.tick(2);
    const done = stream.sendDtmf('5', 60);
    clock.tick(10);
    await done;

    const events = sent.filter((p) => p.payloadType === 126);
    const firstEvent = sent.findIndex((p) => p.payloadType === 126);
    const audioBefore = sent[firstEvent - 1] as RtpPacketOut;
    expect(events.every((e) => e.timestamp === ((audioBefore.timestamp + 960) >>> 0))).toBe(true);
    expect(events.filter((e) => e.marker)).toHaveLength(1);
    const parsed = events.map((e) => parseTelephoneEvent(e.payload));
    expect(parsed.every((p) => p?.event === 5)).toBe(true);
    expect(parsed.filter((p) => p?.end).map((p) => p?.duration)).toEqual([480, 480, 480]);
    const lastEvent = sent.map((p) => p.payloadType).lastIndexOf(126);
    expect(sent.slice(firstEvent, lastEvent + 1).every((p) => p.payloadType === 126)).toBe(true);
    expect(sent.slice(lastEvent + 1).some((p) => p.payloadType === 111)).toBe(true);
  });

  it('plays PCM once and resolves when it is sent; close() rejects pending digits', async () => {
    const { stream, sent, clock } = setup();
    const played = stream.playPcm(new Int16Array(960 * 3));
    clock.tick(5);
    await played;
    expect(sent).toHaveLength(3);

    const pending = stream.sendDtmf('1', 200);
    clock.tick(2);
    stream.close();
    await expect(pending).rejects.toMatchObject({ code: 'STREAM_CLOSED' });
    expect(clock.listeners.size).toBe(0);
  });
});
