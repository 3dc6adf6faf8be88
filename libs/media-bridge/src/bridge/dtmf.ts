/**
 * RFC 4733 telephone-events (DTMF) for the bridge: the 4-byte payload, a receiver that reports each event
 * once when it ends, and a sender for digits this side originates.
 *
 * Timestamps and durations (reference §6.1): an event's RTP timestamp is the audio stream's timestamp at the
 * event start, in the audio stream's clock (48 kHz on the Opus stream, 8 kHz with G.711); the duration is
 * always in 8 kHz units (telephone-event/8000). So durations are copied unchanged between the legs, and only
 * the event timestamp is converted between the clocks.
 */

export const DTMF_DIGITS = '0123456789*#ABCD';
/** Units of the duration field per ms (telephone-event/8000). */
export const DTMF_UNITS_PER_MS = 8;

/** The digit of an event code (0-15), or null for other events (flash, tones). */
export function dtmfDigitOf(event: number): string | null {
  return event < 16 ? (DTMF_DIGITS[event] as string) : null;
}

/** The event code of a DTMF digit; throws RangeError for anything else. */
export function dtmfEventOf(digit: string): number {
  const i = digit.length === 1 ? DTMF_DIGITS.indexOf(digit.toUpperCase()) : -1;
  if (i < 0) throw new RangeError(`not a DTMF digit: ${JSON.stringify(digit)}`);
  return i;
}

export interface TelephoneEvent {
  event: number;
  end: boolean;
  volume: number;
  /** 8 kHz units. */
  duration: number;
}

/** Parses the RFC 4733 §2.3 payload (event, E|R|volume, duration); null when shorter than 4 bytes. */
export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | null {
  if (payload.length < 4) return null;
  const b1 = payload[1] as number;
  return {
    event: payload[0] as number,
    end: (b1 & 0x80) !== 0,
    volume: b1 & 0x3f,
    duration: ((payload[2] as number) << 8) | (payload[3] as number),
  };
}

export function writeTelephoneEvent(e: TelephoneEvent): Buffer {
  const out = Buffer.allocUnsafe(4);
  out[0] = e.event & 0xff;
  out[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  out.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.round(e.duration))), 2);
  return out;
}

export interface CompletedDigit {
  digit: string;
  durationMs: number;
}

/** What a received telephone-event packet was. */
export type DtmfPacketKind = 'start' | 'update' | 'end' | 'repeat' | 'invalid';

/**
 * Follows the events of one incoming stream. Each event is identified by its RTP timestamp; it completes on
 * its first end packet (the two retransmissions are 'repeat'), when a new event starts, or after `timeoutMs`
 * without packets (all end packets lost).
 */
export class DtmfReceiver {
  #ts = -1;
  #event = 0;
  #duration = 0;
  #lastAt = 0;
  #open = false;
  #ended = new Set<number>();
  #completed: CompletedDigit | null = null;

  constructor(readonly timeoutMs = 1000) {}

  /** The digit completed by the last `onPacket`/`poll` call, if any. */
  get completed(): CompletedDigit | null {
    return this.#completed;
  }

  onPacket(timestamp: number, payload: Uint8Array, nowMs: number): DtmfPacketKind {
    this.#completed = null;
    const e = parseTelephoneEvent(payload);
    if (!e) return 'invalid';
    if (timestamp !== this.#ts) {
      if (this.#ended.has(timestamp)) return 'repeat'; // a retransmitted end of an earlier event
      if (this.#open) this.#complete(); // the previous event never sent its end
      this.#ts = timestamp;
      this.#event = e.event;
      this.#open = true;
      this.#duration = e.duration;
      this.#lastAt = nowMs;
      if (e.end) return this.#end(e.duration);
      return 'start';
    }
    this.#lastAt = nowMs;
    if (!this.#open) return 'repeat';
    this.#duration = Math.max(this.#duration, e.duration);
    return e.end ? this.#end(e.duration) : 'update';
  }

  /** Completes an event whose end never arrived; call periodically. Returns the digit, if one completed. */
  poll(nowMs: number): CompletedDigit | null {
    this.#completed = null;
    if (this.#open && nowMs - this.#lastAt >= this.timeoutMs) this.#complete();
    return this.#completed;
  }

  #end(duration: number): DtmfPacketKind {
    this.#duration = Math.max(this.#duration, duration);
    this.#complete();
    return 'end';
  }

  #complete(): void {
    this.#open = false;
    this.#ended.add(this.#ts);
    if (this.#ended.size > 8) this.#ended.delete(this.#ended.values().next().value as number);
    const digit = dtmfDigitOf(this.#event);
    this.#completed = digit === null ? null : { digit, durationMs: this.#duration / DTMF_UNITS_PER_MS };
  }
}

export interface DtmfOutPacket {
  timestamp: number;
  marker: boolean;
  payload: Buffer;
}

interface QueuedDigit {
  event: number;
  durationMs: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/**
 * Sends digits this side originates, one at a time, driven by the 20 ms frame tick: a first packet with the
 * marker bit, an update per tick with the growing duration, then the final packet three times (RFC 4733
 * §2.5.1). The event timestamp is the destination stream's current timestamp when the digit starts.
 */
export class DtmfSender {
  readonly #queue: QueuedDigit[] = [];
  #current: QueuedDigit | null = null;
  #startedAt = 0;
  #timestamp = 0;
  #gapUntil = 0;

  constructor(
    readonly volume = 10,
    readonly interDigitGapMs = 60,
    readonly maxQueued = 32,
  ) {}

  get busy(): boolean {
    return this.#current !== null || this.#queue.length > 0;
  }

  /** Queues one digit; resolves when its end packets went out. */
  enqueue(digit: string, durationMs: number): Promise<void> {
    const event = dtmfEventOf(digit);
    if (!(durationMs >= 40 && durationMs <= 5000)) throw new RangeError(`DTMF duration ${durationMs} ms outside 40..5000`);
    if (this.#queue.length >= this.maxQueued) throw new RangeError('too many DTMF digits queued');
    return new Promise((resolve, reject) => this.#queue.push({ event, durationMs, resolve, reject }));
  }

  /** Packets to send at this tick (zero to three). `currentTimestamp` is the destination's timestamp now. */
  tick(nowMs: number, currentTimestamp: number): DtmfOutPacket[] | null {
    if (!this.#current) {
      if (this.#queue.length === 0 || nowMs < this.#gapUntil) return null;
      this.#current = this.#queue.shift() as QueuedDigit;
      this.#startedAt = nowMs;
      this.#timestamp = currentTimestamp;
      return [this.#packet(false, 0, true)];
    }
    const cur = this.#current;
    const elapsedMs = nowMs - this.#startedAt;
    if (elapsedMs < cur.durationMs) return [this.#packet(false, elapsedMs, false)];
    const end = this.#packet(true, cur.durationMs, false);
    this.#current = null;
    this.#gapUntil = nowMs + this.interDigitGapMs;
    cur.resolve();
    return [end, end, end];
  }

  /** Drops queued digits (their promises reject with `err`). */
  cancel(err: Error): void {
    const pending = this.#current ? [this.#current, ...this.#queue] : [...this.#queue];
    this.#current = null;
    this.#queue.length = 0;
    for (const d of pending) d.reject(err);
  }

  #packet(end: boolean, durationMs: number, marker: boolean): DtmfOutPacket {
    const cur = this.#current as QueuedDigit;
    const payload = writeTelephoneEvent({ event: cur.event, end, volume: this.volume, duration: durationMs * DTMF_UNITS_PER_MS });
    return { timestamp: this.#timestamp, marker, payload };
  }
}
