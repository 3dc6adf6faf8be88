import type { SipTimers } from '../call/leg-context';

/**
 * The UAS core's 2xx retransmission (RFC 3261 §13.3.1.4), which npm `sip` leaves to us: the 2xx goes out
 * again after T1, doubling up to T2, until the ACK arrives; without an ACK after 64*T1 the core gives up
 * (and should end the dialog with a BYE).
 */
export class TwoXxRetransmitter {
  readonly #send: () => void;
  readonly #onGiveUp: () => void;
  readonly #timers: SipTimers;
  #retransmit: NodeJS.Timeout | undefined;
  #giveUp: NodeJS.Timeout | undefined;
  #sent = 0;

  constructor(send: () => void, timers: SipTimers, onGiveUp: () => void) {
    this.#send = send;
    this.#timers = timers;
    this.#onGiveUp = onGiveUp;
  }

  /** Number of retransmissions so far (the first send not counted). */
  get retransmissions(): number {
    return Math.max(0, this.#sent - 1);
  }

  get active(): boolean {
    return this.#giveUp !== undefined;
  }

  start(): void {
    this.#fire();
    this.#schedule(this.#timers.t1Ms);
    this.#giveUp = setTimeout(() => {
      this.stop();
      this.#onGiveUp();
    }, 64 * this.#timers.t1Ms);
  }

  stop(): void {
    clearTimeout(this.#retransmit);
    clearTimeout(this.#giveUp);
    this.#retransmit = undefined;
    this.#giveUp = undefined;
  }

  #fire(): void {
    this.#sent += 1;
    this.#send();
  }

  #schedule(intervalMs: number): void {
    this.#retransmit = setTimeout(() => {
      this.#fire();
      this.#schedule(Math.min(intervalMs * 2, this.#timers.t2Ms));
    }, intervalMs);
  }
}
