import { silentLogger } from '@wagw/logging';
import {
  decodeG711,
  encodeG711,
  OpusCodec,
  parseTelephoneEvent,
  RtpLeg,
  ToneGenerator,
  writeTelephoneEvent,
  type G711Law,
  type RtpPortAllocator,
} from '@wagw/media-bridge';
import { buildAnswer, buildOffer, parseSdp, type CodecName } from '@wagw/sip';

const HOST = '127.0.0.1';

export type PhoneCodec = { name: G711Law; pt: number } | { name: 'opus'; pt: number };

interface Heard {
  pt: number;
  timestamp: number;
  payload: Buffer;
}

/**
 * A minimal SIP phone's media side for tests: a plain RtpLeg on loopback that answers or offers SDP with
 * the @wagw/sip helpers, talks a tone in its negotiated codec every 20 ms, records what it hears, and sends
 * and reads RFC 4733 telephone-events on PT 101.
 */
export class RtpPhone {
  readonly heard: Heard[] = [];
  readonly #timers: NodeJS.Timeout[] = [];
  #leg: RtpLeg | undefined;
  #codec: PhoneCodec | undefined;
  #nextTs = 0;
  #port = 0;
  #pending: Awaited<ReturnType<RtpPortAllocator['allocate']>> | undefined;

  private constructor() {}

  static async create(allocator: RtpPortAllocator): Promise<RtpPhone> {
    const phone = new RtpPhone();
    phone.#pending = await allocator.allocate();
    phone.#port = phone.#pending.rtpPort;
    return phone;
  }

  get leg(): RtpLeg {
    if (!this.#leg) throw new Error('phone has no negotiated media yet');
    return this.#leg;
  }

  /** The phone answers the gateway's offer (preferring `preferences`). */
  answer(offerSdp: string, preferences: CodecName[]): string {
    const answer = buildAnswer(offerSdp, { address: HOST, port: this.#port, preferences });
    this.#start({ name: answer.codec.name as PhoneCodec['name'], pt: answer.codec.payloadType } as PhoneCodec, answer.remote);
    return answer.sdp;
  }

  /** The phone offers (it places the INVITE); `applyAnswer` completes it. */
  offer(codecs: CodecName[]): string {
    return buildOffer({ address: HOST, port: this.#port, codecs });
  }

  applyAnswer(answerSdp: string): void {
    const audio = parseSdp(answerSdp).audio;
    const codec = audio?.codecs[0];
    if (!audio || !codec) throw new Error('answer without audio');
    this.#start({ name: codec.name as PhoneCodec['name'], pt: codec.payloadType } as PhoneCodec, { address: audio.connectionAddress, port: audio.port });
  }

  /** Sends a tone every 20 ms in the negotiated codec. */
  talk(frequencyHz: number): void {
    const codec = this.#codecOrThrow();
    const rate = codec.name === 'opus' ? 48000 : 8000;
    const samples = rate / 50;
    const gen = new ToneGenerator(frequencyHz, rate);
    const opus = codec.name === 'opus' ? new OpusCodec(48000) : undefined;
    this.#every(20, () => {
      const pcm = gen.next(samples);
      let payload: Buffer;
      if (opus) payload = opus.encode(pcm);
      else {
        payload = Buffer.alloc(samples);
        encodeG711(codec.name as G711Law, pcm, payload);
      }
      this.leg.sendRtp({ payloadType: codec.pt, timestamp: this.#nextTs, marker: false, payload });
      this.#nextTs = (this.#nextTs + samples) >>> 0;
    });
  }

  /** One digit as RFC 4733 events on PT 101 at the audio's current timestamp: 4 updates, then 3 ends. */
  pressDigit(event: number): void {
    const ts = this.#nextTs;
    let k = 0;
    const timer = this.#every(20, () => {
      const end = k >= 4;
      const payload = writeTelephoneEvent({ event, end, volume: 10, duration: Math.min(k, 4) * 160 });
      this.leg.sendRtp({ payloadType: 101, timestamp: ts, marker: k === 0, payload });
      if (++k >= 7) clearInterval(timer);
    });
  }

  /** Decoded audio heard in the negotiated codec, and its sample rate. */
  audio(): { samples: Int16Array; sampleRate: number } {
    const codec = this.#codecOrThrow();
    const packets = this.heard.filter((h) => h.pt === codec.pt);
    if (codec.name === 'opus') {
      const dec = new OpusCodec(48000);
      const parts = packets.map((p) => dec.decode(p.payload));
      const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
      parts.reduce((off, p) => (out.set(p, off), off + p.length), 0);
      return { samples: out, sampleRate: 48000 };
    }
    const out = new Int16Array(packets.reduce((n, p) => n + p.payload.length, 0));
    let off = 0;
    for (const p of packets) off += decodeG711(codec.name, p.payload, out.subarray(off));
    return { samples: out, sampleRate: 8000 };
  }

  /** Telephone-event numbers of the completed (end-bit) events heard on PT 101, in order, each once. */
  digitsHeard(): number[] {
    const ends = new Map<number, number>();
    for (const h of this.heard.filter((x) => x.pt === 101)) {
      const e = parseTelephoneEvent(h.payload);
      if (e?.end) ends.set(h.timestamp, e.event);
    }
    return [...ends.values()];
  }

  async close(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    if (this.#leg) await this.#leg.close();
    else await this.#pending?.release();
  }

  #start(codec: PhoneCodec, remote: { address: string; port: number }): void {
    if (!this.#pending) throw new Error('phone media already started');
    this.#codec = codec;
    const clockRate = codec.name === 'opus' ? 48000 : 8000;
    this.#leg = new RtpLeg({ pair: this.#pending, payloadTypes: [codec.pt, 101], clockRate, logger: silentLogger(), remote });
    this.#pending = undefined;
    this.#leg.onRtp((p) => this.heard.push({ pt: p.payloadType, timestamp: p.timestamp, payload: Buffer.from(p.payload) }));
  }

  #codecOrThrow(): PhoneCodec {
    if (!this.#codec) throw new Error('phone has no negotiated codec');
    return this.#codec;
  }

  #every(ms: number, fn: () => void): NodeJS.Timeout {
    const timer = setInterval(fn, ms);
    this.#timers.push(timer);
    return timer;
  }
}
