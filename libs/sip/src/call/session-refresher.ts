import type { Logger } from '@wagw/logging';
import type { SipMessage } from 'sip';
import type { SipReason } from '../message/headers';
import {
  answerSessionTimer,
  parseMinSe,
  SessionTimer,
  sessionTimerFromResponse,
  sessionTimerRequestHeaders,
  type SessionTimerPolicy,
  type SessionTimerTerms,
} from './session-timer';

/** The Reason of the BYE that ends a call whose session timer expired (Q.850 102: recovery on timer expiry). */
export const SESSION_EXPIRED_REASON: SipReason = { protocol: 'Q.850', cause: 102, text: 'Session timer expired' };
/** Glare (491) on our refresh re-INVITE, and refreshes refused with 422: tries per refresh. */
const REFRESH_ATTEMPTS = 3;

/** What the refresher needs of its call leg (STYLE §3: a narrow port, no back-reference). */
export interface SessionRefresherPort {
  readonly log: Logger;
  readonly policy: SessionTimerPolicy | undefined;
  /** The dialog is up and the leg not over. */
  alive(): boolean;
  /** The far end's Allow lists UPDATE: refreshes use it (no SDP), else a re-INVITE with our SDP. */
  peerAllowsUpdate(): boolean;
  /** Another offer/answer is under way (a re-INVITE now would glare), or there is no SDP of ours yet. */
  reinviteBlocked(): boolean;
  /** Sends the refresh in the dialog (a re-INVITE carries our current SDP; its 2xx is ACKed). */
  send(method: 'UPDATE' | 'INVITE', headers: Record<string, unknown>): Promise<{ response: SipMessage; local: boolean }>;
  /** Ends the call: BYE with SESSION_EXPIRED_REASON, `ended` with cause `session-expired`. */
  end(): void;
}

/**
 * A dialog's session timer (RFC 4028) at work: started or restarted from what each INVITE/UPDATE and its 2xx
 * negotiated, refreshing as refresher (§7.4) and ending the call when the session expires (§10).
 */
export class SessionRefresher {
  readonly #port: SessionRefresherPort;
  readonly #timer = new SessionTimer({ refresh: () => void this.#refresh(), expire: () => this.#expired() });
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(port: SessionRefresherPort) {
    this.#port = port;
  }

  get terms(): SessionTimerTerms | undefined {
    return this.#timer.terms;
  }

  /**
   * The headers of our 2xx to a far-end INVITE or UPDATE, and the timer it leaves (RFC 4028 §9): what it
   * asked for, or, when it asks for nothing (a hold re-INVITE of a peer without timers), the timer as it was.
   */
  answer(request: SipMessage): { headers: Record<string, string>; terms: SessionTimerTerms | undefined } {
    const policy = this.#port.policy;
    if (!policy) return { headers: {}, terms: undefined };
    const answer = answerSessionTimer(request, policy);
    return { headers: answer.headers, terms: answer.terms ?? this.#timer.terms };
  }

  /** Starts (or restarts, on each refresh) the timer; nothing when none was negotiated. */
  start(terms: SessionTimerTerms | undefined): void {
    if (!terms || !this.#port.policy || !this.#port.alive()) return;
    const before = this.#timer.terms;
    this.#timer.start(terms);
    if (before?.intervalS === terms.intervalS && before.refresher === terms.refresher) return;
    this.#port.log.info({ sessionExpiresS: terms.intervalS, refresher: terms.refresher === 'local' ? 'gateway' : 'peer' }, 'session timer running (RFC 4028)');
  }

  stop(): void {
    this.#timer.stop();
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /**
   * One refresh: UPDATE without SDP when the far end allows it, else a re-INVITE with our SDP unchanged. A 2xx
   * restarts the timer; 422 retries with the interval it names, 491 after a random 1-3 s; 408, 481 or no
   * response end the call (§10); any other failure leaves the session to expire unless the far end refreshes.
   */
  async #refresh(intervalS?: number, attempt = 1): Promise<void> {
    const port = this.#port;
    const terms = this.#timer.terms;
    if (!port.alive() || !port.policy || !terms) return;
    const interval = intervalS ?? terms.intervalS;
    const method = port.peerAllowsUpdate() ? 'UPDATE' : 'INVITE';
    if (method === 'INVITE' && port.reinviteBlocked()) return this.#retry(interval, attempt, 'another offer is under way');
    let result: { response: SipMessage; local: boolean };
    try {
      result = await port.send(method, sessionTimerRequestHeaders(interval, port.policy.minSeS, true));
    } catch (err) {
      port.log.warn({ err, method }, 'session refresh not sent');
      return;
    }
    if (!port.alive()) return;
    const { response, local } = result;
    const status = response.status ?? 0;
    if (status >= 200 && status < 300) {
      port.log.debug({ method, sessionExpiresS: interval }, 'session refreshed');
      return this.start(sessionTimerFromResponse(response) ?? { ...terms, intervalS: interval });
    }
    const minSe = parseMinSe(response);
    if (status === 422 && minSe !== undefined && minSe > interval && attempt < REFRESH_ATTEMPTS) {
      port.log.info({ minSe }, 'session refresh: 422, again with the interval the far end asks for');
      return this.#refresh(minSe, attempt + 1);
    }
    if (status === 491) return this.#retry(interval, attempt, '491 Request Pending');
    if (local || status === 408 || status === 481) {
      port.log.warn({ method, status, reason: response.reason }, 'session refresh failed: the dialog is gone; ending the call with BYE');
      return port.end();
    }
    port.log.warn({ method, status, reason: response.reason }, 'session refresh refused: the call ends when the session expires unless the far end refreshes it');
  }

  #retry(intervalS: number, attempt: number, why: string): void {
    if (attempt >= REFRESH_ATTEMPTS) {
      this.#port.log.warn({ why }, 'session refresh given up: the call ends when the session expires unless the far end refreshes it');
      return;
    }
    const delayMs = 1000 + Math.floor(Math.random() * 2000);
    this.#port.log.info({ why, delayMs }, 'session refresh postponed');
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => void this.#refresh(intervalS, attempt + 1), delayMs);
  }

  /** No refresh in time (RFC 4028 §10): the far end is presumed gone. */
  #expired(): void {
    const terms = this.#timer.terms;
    if (!this.#port.alive() || !terms) return;
    this.#port.log.warn(
      { sessionExpiresS: terms.intervalS, refresher: terms.refresher === 'local' ? 'gateway' : 'peer' },
      terms.refresher === 'remote' ? 'session timer expired: no refresh from the far end; ending the call with BYE' : 'session timer expired: our refreshes failed; ending the call with BYE',
    );
    this.#port.end();
  }
}
