/**
 * Test doubles for bridge tests: an in-memory `MediaPort` that records what is sent and delivers what a test
 * injects, and a frame ticker driven by hand. Sequence numbers of sent packets are assigned like a real leg
 * (one SSRC, +1 per packet) so tests can check the outgoing stream.
 */
import type { FrameTicker, FrameTickListener } from './frame-clock';
import type { MediaPort, RtpPacketIn, RtpPacketOut } from './media-port.types';

export interface SentPacket extends RtpPacketOut {
  sequenceNumber: number;
  ssrc: number;
}

export class FakeMediaPort implements MediaPort {
  readonly sent: SentPacket[] = [];
  readonly ssrc: number;
  #listeners: ((p: RtpPacketIn) => void)[] = [];
  #seq = 1000;
  #waiters: (() => void)[] = [];

  constructor(ssrc = 0x0a0b0c0d) {
    this.ssrc = ssrc;
  }

  get listenerCount(): number {
    return this.#listeners.length;
  }

  onRtp(listener: (packet: RtpPacketIn) => void): () => void {
    this.#listeners.push(listener);
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener);
    };
  }

  sendRtp(packet: RtpPacketOut): void {
    this.#seq = (this.#seq + 1) & 0xffff;
    this.sent.push({ ...packet, payload: Buffer.from(packet.payload), sequenceNumber: this.#seq, ssrc: this.ssrc });
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once `count` packets of `payloadType` were sent; rejects after `timeoutMs`. */
  waitForSent(payloadType: number, count: number, timeoutMs = 5000): Promise<SentPacket[]> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const got = this.sentWith(payloadType);
        if (got.length < count) return;
        clearTimeout(timer);
        this.#waiters = this.#waiters.filter((w) => w !== check);
        resolve(got);
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== check);
        reject(new Error(`only ${this.sentWith(payloadType).length} of ${count} packets of PT ${payloadType} sent`));
      }, timeoutMs);
      this.#waiters.push(check);
      check();
    });
  }

  /** Delivers a packet as if it had arrived from the network. */
  deliver(packet: Omit<RtpPacketIn, 'receivedAt'> & { receivedAt?: number }): void {
    const p: RtpPacketIn = { ...packet, receivedAt: packet.receivedAt ?? 0 };
    for (const l of [...this.#listeners]) l(p);
  }

  /** Sent packets of one payload type. */
  sentWith(payloadType: number): SentPacket[] {
    return this.sent.filter((p) => p.payloadType === payloadType);
  }
}

export class ManualFrameTicker implements FrameTicker {
  #listeners: FrameTickListener[] = [];

  get listenerCount(): number {
    return this.#listeners.length;
  }

  add(listener: FrameTickListener): void {
    if (!this.#listeners.includes(listener)) this.#listeners.push(listener);
  }

  remove(listener: FrameTickListener): void {
    this.#listeners = this.#listeners.filter((l) => l !== listener);
  }

  tick(nowMs: number): void {
    for (const l of [...this.#listeners]) l.onFrameTick(nowMs);
  }
}
