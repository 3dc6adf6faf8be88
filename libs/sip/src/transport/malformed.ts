/** Messages the transport cannot handle (RFC 3261 §8.1.1): why, whether and how they are answered, and their log. */
import type { Logger } from '@wagw/logging';
import type { SipMessage } from 'sip';
import { makeResponse } from 'sip';
import { randomToken, toWire } from '../message/headers';
import type { Endpoint } from './sip-transport';
import { WarningWindow } from './warning-window';

/**
 * Why a parsed message cannot be handled (RFC 3261 §8.1.1: a request carries To, From, CSeq, Call-ID,
 * Max-Forwards and Via, its top Via a branch; §20.16 CSeq is a number and the request's method), or
 * undefined when it can. A branch without RFC 3261's magic cookie (an RFC 2543 peer) is still taken.
 */
export function malformedReason(m: SipMessage): string | undefined {
  const h = m.headers;
  if (m.method === undefined && !(typeof m.status === 'number' && m.status >= 100 && m.status <= 699)) return 'neither a request line nor a status 100-699';
  if (!Array.isArray(h.via) || h.via.length === 0 || typeof h.via[0]?.host !== 'string') return 'no usable Via';
  // transactions are matched by the top Via's branch (RFC 3261 §17.2.3): without one, every such request of
  // a dialog and method would be taken for a retransmission of the first and get its response again
  const branch: unknown = h.via[0].params?.['branch'];
  if (typeof branch !== 'string' || branch === '') return 'top Via without a branch (RFC 3261 §8.1.1.7)';
  if (typeof h['call-id'] !== 'string' || h['call-id'] === '') return 'no Call-ID';
  if (!h.to || typeof h.to.uri !== 'string') return 'no usable To';
  if (!h.from || typeof h.from.uri !== 'string') return 'no usable From';
  if (!h.cseq || !Number.isSafeInteger(h.cseq.seq) || typeof h.cseq.method !== 'string' || h.cseq.method === '') return 'no usable CSeq';
  if (m.method !== undefined && h.cseq.method !== m.method) return `CSeq method ${h.cseq.method} is not the request's ${m.method}`;
  return undefined;
}

/**
 * Whether a request refused by `malformedReason` can still be answered: the peer matches a response by its
 * top Via and CSeq (RFC 3261 §17.1.3) and reads Call-ID, From and To (§8.1.3.3), so all must be usable to
 * copy; an ACK is never answered (§17.1.1.3).
 */
export function canAnswerMalformed(m: SipMessage): boolean {
  const h = m.headers;
  return (
    typeof m.method === 'string' &&
    m.method !== 'ACK' &&
    Array.isArray(h.via) &&
    typeof h.via[0]?.host === 'string' &&
    typeof h['call-id'] === 'string' &&
    h['call-id'] !== '' &&
    typeof h.to?.uri === 'string' &&
    typeof h.from?.uri === 'string' &&
    Number.isSafeInteger(h.cseq?.seq) &&
    typeof h.cseq?.method === 'string' &&
    h.cseq.method !== ''
  );
}

/** The 400 for a malformed request (RFC 3261 §8.2): why in the reason phrase and a Warning (399, §20.43). */
export function badRequestFor(m: SipMessage, reason: string): SipMessage {
  const why = toWire(reason.replace(/["\\\r\n]/g, ' ').slice(0, 120));
  const to = m.headers.to;
  const tagged = to.params?.['tag'] ? to : { ...to, params: { ...to.params, tag: randomToken() } };
  return makeResponse(m, 400, `Bad Request (${why})`, { headers: { to: tagged, warning: `399 wagw "${why}"` } });
}

/**
 * Per source address, what is done with malformed messages: at most one warning per `windowMs` (a flood of
 * garbage must not flood the log; the next warning says how many were refused meanwhile) and at most
 * `answersPerSecond` 400s (a flood must not turn us into a reflector toward a forged source). Bounded:
 * forgets every source when it tracks too many.
 */
export class MalformedLog {
  readonly #warnings: WarningWindow;
  readonly #answers = new Map<string, { second: number; count: number }>();
  constructor(
    private readonly log: Logger,
    windowMs = 10_000,
    private readonly answersPerSecond = 20,
  ) {
    this.#warnings = new WarningWindow(windowMs);
  }

  /** Whether one more 400 may go to this source now. */
  mayAnswer(remote: Endpoint): boolean {
    const key = `${remote.protocol}:${remote.address}`;
    const second = Math.floor(Date.now() / 1000);
    const seen = this.#answers.get(key);
    if (seen && seen.second === second) return seen.count++ < this.answersPerSecond;
    if (this.#answers.size >= 1000) this.#answers.clear();
    this.#answers.set(key, { second, count: 1 });
    return true;
  }

  refused(remote: Endpoint, reason: string, answered: boolean): void {
    const due = this.#warnings.due(`${remote.protocol}:${remote.address}`);
    if (!due) return;
    const from = `${remote.protocol}:${remote.address}:${remote.port}`;
    const since = due.heldBack ? { refusedSinceLastWarning: due.heldBack } : {};
    this.log.warn({ from, reason, ...since }, answered ? 'malformed sip request answered 400' : 'malformed sip message dropped');
  }
}
