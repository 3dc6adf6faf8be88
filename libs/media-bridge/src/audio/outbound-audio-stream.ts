import { randomInt } from 'node:crypto';
import type { Logger } from '@wagw/logging';
import type { RtpPacketOut } from '../bridge/media-port.types';
import { DtmfSender } from '../bridge/dtmf';
import { FrameClock, type FrameTicker, type FrameTickListener } from '../bridge/frame-clock';
import { OpusCodec } from './opus';
import { ToneGenerator } from './tone';

export const OPUS_PAYLOAD_TYPE = 111;
export const TELEPHONE_EVENT_PAYLOAD_TYPE = 126;

const SAMPLE_RATE = 48000;
const FRAME_MS = 20;
const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

type Source =
  | { kind: 'none' }
  | { kind: 'silence' }
  | { kind: 'tone'; generator: ToneGenerator }
  | { kind: 'pcm'; samples: Int16Array; offset: number; done: () => void };

export type OutboundSourceKind = Source['kind'];

export interface OutboundAudioStreamOptions {
  /** Where each packet goes (the leg's single-SSRC writer stamps SSRC and sequence numbers). */
  send: (packet: RtpPacketOut) => void;
  logger: Logger;
  /** The 20 ms clock; a private drift-free FrameClock when omitted. */
  clock?: FrameTicker;
  opusPayloadType?: number;
  dtmfPayloadType?: number;
}

export class StreamClosedError extends Error {
  readonly code = 'STREAM_CLOSED' as const;
  constructor() {
    super('the outbound audio stream is closed');
    this.name = 'StreamClosedError';
  }
}

/**
 * One paced outgoing audio stream: Opus 48 kHz in 20 ms frames (reference §6.1) from a tone, PCM or
 * silence, with RFC 4733 events (PT 126) in the same timestamp and sequence space; while an event is sent
 * the frame carries no audio. The timestamp advances one frame per tick whether or not anything is sent,
 * so pauses look like real time to the receiver.
 */
export class OutboundAudioStream implements FrameTickListener {
  readonly #send: (packet: RtpPacketOut) => void;
  readonly #logger: Logger;
  readonly #clock: FrameTicker;
  readonly #ownClock: FrameClock | undefined;
  readonly #opusPt: number;
  readonly #dtmfPt: number;
  readonly #codec = new OpusCodec(48000);
  readonly #dtmf = new DtmfSender();
  readonly #silence = new Int16Array(FRAME_SAMPLES);
  #source: Source = { kind: 'none' };
  #timestamp = randomInt(0, 2 ** 31);
  #talkspurt = true;
  #framesSent = 0;
  #ticking = false;
  #closed = false;

  constructor(options: OutboundAudioStreamOptions) {
    this.#send = options.send;
    this.#logger = options.logger;
    this.#ownClock = options.clock ? undefined : new FrameClock({ logger: options.logger, frameMs: FRAME_MS });
    this.#clock = options.clock ?? (this.#ownClock as FrameClock);
    this.#opusPt = options.opusPayloadType ?? OPUS_PAYLOAD_TYPE;
    this.#dtmfPt = options.dtmfPayloadType ?? TELEPHONE_EVENT_PAYLOAD_TYPE;
  }

  get sourceKind(): OutboundSourceKind {
    return this.#source.kind;
  }

  /** RTP packets handed to `send` (audio and telephone-events). */
  get framesSent(): number {
    return this.#framesSent;
  }

  playTone(frequencyHz: number, amplitude = 8000): void {
    this.#setSource({ kind: 'tone', generator: new ToneGenerator(frequencyHz, SAMPLE_RATE, amplitude) });
  }

  playSilence(): void {
    this.#setSource({ kind: 'silence' });
  }

  /** Plays 48 kHz mono PCM once; resolves when it has all been sent or another source replaced it. */
  playPcm(samples: Int16Array): Promise<void> {
    return new Promise((resolve) => this.#setSource({ kind: 'pcm', samples, offset: 0, done: resolve }));
  }

  /** Sends no audio (the clock keeps time; queued DTMF still goes out). */
  stopSending(): void {
    this.#setSource({ kind: 'none' });
  }

  /** Sends RFC 4733 digits (durations 40..5000 ms); resolves when the last end packet went out. */
  async sendDtmf(digits: string, durationMs = 160): Promise<void> {
    if (this.#closed) throw new StreamClosedError();
    const sent = [...digits].map((d) => this.#dtmf.enqueue(d, durationMs));
    this.#startTicking();
    await Promise.all(sent);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.remove(this);
    this.#ownClock?.stop();
    this.#dtmf.cancel(new StreamClosedError());
    this.#setSource({ kind: 'none' });
  }

  onFrameTick(nowMs: number): void {
    const timestamp = this.#timestamp;
    this.#timestamp = (this.#timestamp + FRAME_SAMPLES) >>> 0;
    try {
      const events = this.#dtmf.tick(nowMs, timestamp);
      if (events) {
        for (const e of events) this.#emit({ payloadType: this.#dtmfPt, timestamp: e.timestamp, marker: e.marker, payload: e.payload });
        this.#talkspurt = true;
        return;
      }
      const pcm = this.#nextPcm();
      if (!pcm) return;
      this.#emit({ payloadType: this.#opusPt, timestamp, marker: this.#talkspurt, payload: this.#codec.encode(pcm) });
      this.#talkspurt = false;
    } catch (err) {
      this.#logger.error({ err }, 'outbound audio frame failed');
    }
  }

  #startTicking(): void {
    if (this.#ticking || this.#closed) return;
    this.#ticking = true;
    this.#clock.add(this);
  }

  #setSource(source: Source): void {
    const old = this.#source;
    this.#source = source;
    if (old.kind === 'pcm' && old !== source) old.done();
    if (source.kind === 'none') return;
    this.#talkspurt = true;
    this.#startTicking();
  }

  #emit(packet: RtpPacketOut): void {
    this.#send(packet);
    this.#framesSent++;
  }

  #nextPcm(): Int16Array | undefined {
    const src = this.#source;
    switch (src.kind) {
      case 'none':
        return undefined;
      case 'silence':
        return this.#silence;
      case 'tone':
        return src.generator.next(FRAME_SAMPLES);
      case 'pcm': {
        const frame = new Int16Array(FRAME_SAMPLES);
        frame.set(src.samples.subarray(src.offset, src.offset + FRAME_SAMPLES));
        src.offset += FRAME_SAMPLES;
        if (src.offset >= src.samples.length) this.#setSource({ kind: 'none' });
        return frame;
      }
    }
  }
}
