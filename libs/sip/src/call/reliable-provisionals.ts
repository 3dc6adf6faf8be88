import type { Logger } from '@wagw/logging';
import type { SipMessage } from 'sip';
import { headerValue } from '../message/headers';
import type { SipTimers } from './leg-context';

/**
 * Reliable provisional responses of one INVITE server transaction (RFC 3262 §3), for a UAC that sent
 * `Require: 100rel`: each 180/183 carries `Require: 100rel` and an `RSeq` one higher than the last, is
 * retransmitted (T1, doubling) until a PRACK with the matching `RAck` arrives, and the next one waits for
 * that PRACK. Without one within 64*T1 the owner rejects the INVITE (`onTimeout`). Plain class behind a
 * narrow port: the leg builds the responses and sends them.
 */

export interface ReliableProvisionalsDeps {
  timers: SipTimers;
  /** CSeq number of the INVITE (the RAck's second field). */
  inviteSeq: number;
  send(response: SipMessage): void;
  /** The early dialog starts to take requests (PRACKs) / stops. */
  listen(): void;
  unlisten(): void;
  /** A PRACK acknowledged the outstanding provisional (after our 200 to it). */
  onAcknowledged(): void;
  /** 64*T1 without the PRACK. */
  onTimeout(): void;
  log: Logger;
}

/** Builds the provisional response with these extra headers (Require, RSeq). */
export type ProvisionalBuilder = (headers: Record<string, string>) => SipMessage;

interface Outstanding {
  rseq: number;
  response: SipMessage;
  /** It carried SDP: a 2xx must wait for its PRACK. */
  sdp: boolean;
  retransmit: NodeJS.Timeout | undefined;
  deadline: NodeJS.Timeout;
  delayMs: number;
}

/** `RAck: <rseq> <cseq> <method>` (RFC 3262 §7.2). */
export function parseRack(value: string | undefined): { rseq: number; seq: number; method: string } | undefined {
  const m = /^\s*(\d{1,10})\s+(\d{1,10})\s+([A-Za-z]+)\s*$/.exec(value ?? '');
  if (!m) return undefined;
  return { rseq: Number(m[1]), seq: Number(m[2]), method: (m[3] as string).toUpperCase() };
}

export class ReliableProvisionals {
  readonly #deps: ReliableProvisionalsDeps;
  /** RFC 3262 §3: the first RSeq is random in 1..2^31-1 (kept below 2^30 so it never wraps). */
  #nextRseq = 1 + Math.floor(Math.random() * 2 ** 30);
  #outstanding: Outstanding | undefined;
  #queued: { build: ProvisionalBuilder; sdp: boolean } | undefined;
  #listening = false;
  #stopped = false;

  constructor(deps: ReliableProvisionalsDeps) {
    this.#deps = deps;
  }

  /** Sends a provisional reliably, or queues it (the latest one only) behind the one awaiting its PRACK. */
  send(build: ProvisionalBuilder, sdp: boolean): void {
    if (this.#stopped) return;
    if (this.#outstanding) {
      this.#queued = { build, sdp };
      return;
    }
    const rseq = this.#nextRseq++;
    const response = build({ Require: '100rel', RSeq: String(rseq) });
    if (!this.#listening) {
      this.#listening = true;
      this.#deps.listen();
    }
    const o: Outstanding = { rseq, response, sdp, retransmit: undefined, deadline: setTimeout(() => this.#timedOut(o), 64 * this.#deps.timers.t1Ms), delayMs: this.#deps.timers.t1Ms };
    this.#outstanding = o;
    this.#deps.send(response);
    this.#arm(o);
  }

  /** A reliable provisional with SDP awaits its PRACK: the 2xx must wait too. */
  holdsFinal(): boolean {
    return this.#outstanding?.sdp === true;
  }

  /**
   * A PRACK: true when its RAck names the outstanding provisional (then `respond(200)` is called before
   * `onAcknowledged`); false when it matches none (the caller answers 481).
   */
  onPrack(prack: SipMessage, respond: () => void): boolean {
    const o = this.#outstanding;
    const rack = parseRack(headerValue(prack, 'rack'));
    if (!o || !rack || rack.rseq !== o.rseq || rack.seq !== this.#deps.inviteSeq || rack.method !== 'INVITE') {
      this.#deps.log.info({ rack: headerValue(prack, 'rack'), outstanding: o?.rseq }, 'PRACK matches no reliable provisional of ours: 481');
      return false;
    }
    this.#clear(o);
    this.#outstanding = undefined;
    respond();
    this.#deps.log.debug({ rseq: o.rseq }, 'reliable provisional acknowledged (PRACK)');
    const queued = this.#queued;
    this.#queued = undefined;
    this.#deps.onAcknowledged();
    if (queued) this.send(queued.build, queued.sdp);
    return true;
  }

  /** No more provisionals (the final response is going, or the leg ended): timers stopped, early dialog released. */
  stop(): void {
    this.#stopped = true;
    if (this.#outstanding) this.#clear(this.#outstanding);
    this.#outstanding = undefined;
    this.#queued = undefined;
    if (this.#listening) {
      this.#listening = false;
      this.#deps.unlisten();
    }
  }

  #arm(o: Outstanding): void {
    o.retransmit = setTimeout(() => {
      if (this.#outstanding !== o) return;
      this.#deps.send(o.response);
      o.delayMs *= 2;
      this.#arm(o);
    }, o.delayMs);
  }

  #clear(o: Outstanding): void {
    clearTimeout(o.retransmit);
    clearTimeout(o.deadline);
  }

  #timedOut(o: Outstanding): void {
    if (this.#outstanding !== o) return;
    this.stop();
    this.#deps.onTimeout();
  }
}
