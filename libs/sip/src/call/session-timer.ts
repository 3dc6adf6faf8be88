import type { SipMessage } from 'sip';
import { headerValue } from '../message/headers';

/**
 * Session timers (RFC 4028): a dialog whose far end is gone without a BYE (PBX restarted, link down) is
 * found and ended. One side, the refresher, repeats an in-dialog request (UPDATE, or a re-INVITE with the
 * same SDP) every half interval; the other ends the call with BYE when no refresh came before the session
 * expires. What is negotiated: the interval (Session-Expires, not below anyone's Min-SE) and the refresher.
 * `uac`/`uas` in the headers name the roles in that one transaction, so a negotiated result is kept here as
 * `local` (we refresh) or `remote` (the PBX does).
 */
export interface SessionTimerPolicy {
  /** Interval we ask for as UAC, and give a UAC that supports timers but asked for none, in seconds. */
  expiresS: number;
  /** Shortest interval we accept (our Min-SE): shorter asks from a peer that supports timers get 422. */
  minSeS: number;
}

export interface SessionTimerTerms {
  intervalS: number;
  refresher: 'local' | 'remote';
}

export interface SessionExpires {
  deltaS: number;
  refresher?: 'uac' | 'uas';
}

/** RFC 4028 §4: Min-SE must not be below 90 s; a policy may go lower only for tests. */
export const RFC_MIN_SE_S = 90;

/** `Session-Expires` (or its compact form `x`): `delta-seconds *(;param)`; undefined when absent or malformed. */
export function parseSessionExpires(message: SipMessage): SessionExpires | undefined {
  const value = headerValue(message, 'session-expires') ?? headerValue(message, 'x');
  if (value === undefined) return undefined;
  const [delta, ...params] = value.split(';').map((p) => p.trim());
  if (!delta || !/^\d{1,9}$/.test(delta)) return undefined;
  const deltaS = Number(delta);
  if (deltaS <= 0) return undefined;
  const refresher = params.map((p) => p.toLowerCase().replace(/\s+/g, '')).find((p) => p.startsWith('refresher='))?.slice('refresher='.length);
  return refresher === 'uac' || refresher === 'uas' ? { deltaS, refresher } : { deltaS };
}

/** `Min-SE`: delta-seconds; undefined when absent or malformed. */
export function parseMinSe(message: SipMessage): number | undefined {
  const value = headerValue(message, 'min-se')?.split(';')[0]?.trim();
  return value && /^\d{1,9}$/.test(value) ? Number(value) : undefined;
}

/** The option tags of `Supported` and `Require` (npm `sip` folds `k` into `supported`). */
export function optionTags(message: SipMessage, header: 'supported' | 'require'): string[] {
  const value = headerValue(message, header);
  return value === undefined ? [] : value.split(',').map((o) => o.trim().toLowerCase()).filter((o) => o !== '');
}

export function peerSupportsTimer(message: SipMessage): boolean {
  return optionTags(message, 'supported').includes('timer') || optionTags(message, 'require').includes('timer');
}

/** True when a request asks for a shorter interval than ours from a peer that understands 422 (RFC 4028 §9). */
export function sessionIntervalTooSmall(request: SipMessage, policy: SessionTimerPolicy): boolean {
  const se = parseSessionExpires(request);
  return se !== undefined && se.deltaS < policy.minSeS && peerSupportsTimer(request);
}

export interface UasSessionTimer {
  /** undefined: no session timer on this dialog (the peer neither asked nor supports it). */
  terms: SessionTimerTerms | undefined;
  /** Headers for our 2xx. */
  headers: Record<string, string>;
}

/**
 * What we answer, as UAS, to an INVITE or UPDATE (initial or refresh), RFC 4028 §9. The request's interval
 * is kept (raised to our Min-SE for a peer that could not understand a 422; `sessionIntervalTooSmall` tells
 * the others apart first); its refresher is kept; without one the peer refreshes when it supports timers
 * and we do when it does not. A peer that supports timers but asked for none gets our interval.
 */
export function answerSessionTimer(request: SipMessage, policy: SessionTimerPolicy): UasSessionTimer {
  const se = parseSessionExpires(request);
  const supports = peerSupportsTimer(request);
  const headers: Record<string, string> = { supported: 'timer' };
  if (!se && !supports) return { terms: undefined, headers };
  const intervalS = se ? Math.max(se.deltaS, policy.minSeS) : policy.expiresS;
  const refresher = supports ? (se?.refresher ?? 'uac') : 'uas';
  headers['session-expires'] = `${intervalS};refresher=${refresher}`;
  if (refresher === 'uac') headers['require'] = 'timer';
  return { terms: { intervalS, refresher: refresher === 'uac' ? 'remote' : 'local' }, headers };
}

/**
 * The terms a 2xx gives us as UAC, RFC 4028 §7.2: without Session-Expires there is no session timer; a
 * response without a refresher leaves it with us (the UAC).
 */
export function sessionTimerFromResponse(response: SipMessage): SessionTimerTerms | undefined {
  const se = parseSessionExpires(response);
  if (!se) return undefined;
  return { intervalS: se.deltaS, refresher: (se.refresher ?? 'uac') === 'uac' ? 'local' : 'remote' };
}

/**
 * The key of our outgoing Min-SE: npm `sip` writes a key's words capitalised (`min-se` would go out as
 * `Min-Se`), so the RFC's spelling is the key. Header names are case-insensitive, but not to every parser.
 */
export const MIN_SE = 'Min-SE';

/** Headers of a request of ours that asks for (initial INVITE) or refreshes (as refresher) a session timer. */
export function sessionTimerRequestHeaders(intervalS: number, minSeS: number, refresh: boolean): Record<string, string> {
  return { supported: 'timer', 'session-expires': refresh ? `${intervalS};refresher=uac` : String(intervalS), [MIN_SE]: String(minSeS) };
}

/**
 * When the non-refresher gives up (RFC 4028 §10: a BYE before the session expires, at the interval minus
 * a third of it or 32 s, whichever is less), in ms.
 */
export function expiryDelayMs(intervalS: number): number {
  return Math.round((intervalS - Math.min(32, intervalS / 3)) * 1000);
}

/**
 * Longest delay of a timer: Node fires a setTimeout above 2^31-1 ms (~24.8 days) after 1 ms. A refresh or an
 * expiry further off (a PBX may grant any delta-seconds) waits this long instead: we refresh earlier, which
 * RFC 4028 allows, or end a call whose peer has not refreshed it for ~24.8 days.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The timers of one dialog: as refresher, `refresh` at half the interval; either way, `expire` when no
 * successful refresh restarted the timer in time. `start` again on every refresh (ours or the peer's).
 */
export class SessionTimer {
  #terms: SessionTimerTerms | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly hooks: { refresh(): void; expire(): void }) {}

  get terms(): SessionTimerTerms | undefined {
    return this.#terms;
  }

  start(terms: SessionTimerTerms): void {
    this.stop();
    this.#terms = terms;
    if (terms.refresher === 'local') {
      this.#refreshTimer = setTimeout(() => {
        this.#refreshTimer = undefined;
        this.hooks.refresh();
      }, Math.min((terms.intervalS * 1000) / 2, MAX_TIMER_MS));
    }
    this.#expiryTimer = setTimeout(() => {
      this.#expiryTimer = undefined;
      this.hooks.expire();
    }, Math.min(expiryDelayMs(terms.intervalS), MAX_TIMER_MS));
  }

  stop(): void {
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#expiryTimer);
    this.#refreshTimer = undefined;
    this.#expiryTimer = undefined;
    this.#terms = undefined;
  }
}
