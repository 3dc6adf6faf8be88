import type { Logger } from '@wagw/logging';
import type { NameAddr, SipMessage } from 'sip';
import { signRequest, type DigestContext } from 'sip/digest';
import { signCreds } from '../call/call-leg';
import { requestFinal, type LegContext } from '../call/leg-context';
import { headerValue, nameAddr, parseDeltaSeconds, randomToken, uriString } from '../message/headers';
import type { DigestCredentials } from '../sip.types';
import type { TransportProtocol } from '../transport/sip-transport';
import { TypedEmitter } from '../typed-emitter';

/**
 * The gateway registering to a PBX or SIP provider (RFC 3261 §10.2), as a phone or a registering trunk
 * does: REGISTER of our Contact for the address of record `sip:user@domain`, digest credentials for a
 * 401/407, the interval the registrar grants (a 423's Min-Expires taken), a refresh before it runs out
 * (same Call-ID, CSeq + 1, §10.2.4), a retry with back-off after a failure, and `Expires: 0` on stop.
 */
export interface RegistrationOptions {
  /**
   * Where the REGISTERs go: `host[:port]` or a SIP URI; several (a trunk's hosts, best first): after a
   * failed attempt the next one is tried, and a registration stays where it succeeded.
   */
  registrar: string | readonly string[];
  transport: TransportProtocol;
  /** Address of record `sip:<user>@<domain>` (To and From); `user` is also our Contact's user. */
  user: string;
  domain: string;
  auth?: DigestCredentials;
  /** Interval asked for, in seconds. */
  expiresS: number;
  /** First retry after a failure, in seconds (doubling up to `maxRetryS`). Default 30. */
  retryS?: number;
  /** Default 300. */
  maxRetryS?: number;
}

export type RegistrationState = 'registering' | 'registered' | 'failed' | 'stopped';

export interface RegistrationStatus {
  state: RegistrationState;
  /** The registrar of the last attempt. */
  registrar?: string;
  /** Epoch ms the registration runs out (registered). */
  expiresAt?: number;
  /** Epoch ms of the last successful REGISTER. */
  registeredAt?: number;
  /** The last final status, and what went wrong last (failed). */
  lastStatus?: number;
  lastError?: string;
  /** Epoch ms of the next attempt (failed) or refresh (registered). */
  nextAttemptAt?: number;
}

export interface RegistrationEvents {
  /** Every change of state (and each refresh). */
  status: [RegistrationStatus];
}

export interface RegistrationDeps {
  ctx: LegContext;
  contact(transport: TransportProtocol): NameAddr;
  logger: Logger;
  /** Epoch ms. */
  now?: () => number;
}

/** Refresh this share of the granted interval in (a 3600 s registration is refreshed after 48 min). */
const REFRESH_AT = 0.8;
/** How long `stop` waits for a REGISTER under way before it gives up on removing the binding. */
const STOP_WAIT_MS = 2000;
/** Longest Min-Expires of a 423 we follow, and longest grant we take (a longer one is refreshed within a day). */
const MAX_EXPIRES_S = 86_400;

export class Registration extends TypedEmitter<RegistrationEvents> {
  readonly #o: Required<Omit<RegistrationOptions, 'auth' | 'registrar'>> & { auth?: DigestCredentials };
  readonly #registrars: readonly string[];
  #registrarIndex = 0;
  readonly #deps: RegistrationDeps;
  readonly #log: Logger;
  readonly #callId: string;
  readonly #fromTag = randomToken(6);
  #cseq = 0;
  #expiresS: number;
  #digest: DigestContext | undefined;
  #timer: NodeJS.Timeout | undefined;
  #retryS: number;
  #status: RegistrationStatus = { state: 'registering' };
  #running = false;
  #inFlight: Promise<void> | undefined;
  /** The registrar holds our binding (its last answer was a 2xx): `stop` removes it. */
  #bound = false;

  constructor(options: RegistrationOptions, deps: RegistrationDeps) {
    const log = deps.logger.child({ aor: `sip:${options.user}@${options.domain}` });
    super(log);
    if (!Number.isInteger(options.expiresS) || options.expiresS < 1) throw new RangeError(`expiresS must be a positive whole number of seconds: ${options.expiresS}`);
    const { registrar, ...rest } = options;
    this.#registrars = typeof registrar === 'string' ? [registrar] : [...registrar];
    if (this.#registrars.length === 0) throw new RangeError('a registration needs a registrar');
    this.#o = { retryS: 30, maxRetryS: 300, ...rest };
    this.#deps = deps;
    this.#log = log;
    this.#callId = `${randomToken(12)}@${deps.ctx.advertisedHost}`;
    this.#expiresS = options.expiresS;
    this.#retryS = this.#o.retryS;
  }

  get status(): RegistrationStatus {
    return { ...this.#status };
  }

  /** The registrar the REGISTERs go to now. */
  get registrar(): string {
    return this.#registrars[this.#registrarIndex] ?? '';
  }

  /** Registers at once, then keeps the registration up until `stop`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#attempt();
  }

  /**
   * Stops refreshing and, when registered, removes the binding (`Expires: 0`); resolves when that is
   * answered. A REGISTER still unanswered gets `STOP_WAIT_MS` to bind first; after that the registrar's
   * binding, if any, is left to run out.
   */
  async stop(): Promise<void> {
    if (!this.#running) return;
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let waited: NodeJS.Timeout | undefined;
    await Promise.race([this.#inFlight, new Promise((resolve) => (waited = setTimeout(resolve, STOP_WAIT_MS)))]);
    clearTimeout(waited);
    this.#setStatus({ state: 'stopped' });
    if (!this.#bound) return;
    this.#bound = false;
    const answered = await Promise.race([this.#send(0), new Promise<undefined>((resolve) => (waited = setTimeout(() => resolve(undefined), STOP_WAIT_MS)))]);
    clearTimeout(waited);
    if (answered) this.#log.info({ status: answered.response.status }, 'unregistered (Expires: 0)');
    else this.#log.warn('no answer to our Expires: 0 in time: the registrar keeps the binding until it runs out');
  }

  /** Stops every timer without signalling (the stack closing). */
  dispose(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#status.state !== 'stopped') this.#setStatus({ state: 'stopped' });
  }

  #attempt(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    this.#inFlight = this.#register().catch((err: unknown) => {
      this.#log.error({ err }, 'REGISTER failed unexpectedly');
      this.#failed(0, err instanceof Error ? err.message : String(err));
    });
  }

  async #register(): Promise<void> {
    if (this.#status.state !== 'registered') this.#setStatus({ ...this.#status, state: 'registering' });
    let { response, local } = await this.#send(this.#expiresS);
    let status = response.status ?? 0;
    if (!local && (status === 401 || status === 407) && this.#o.auth) {
      // the first challenge, or a stale nonce on a refresh: answer it once
      ({ response, local } = await this.#send(this.#expiresS, response));
      status = response.status ?? 0;
    }
    if (!local && status === 423) {
      const min = Number(headerValue(response, 'min-expires'));
      if (Number.isInteger(min) && min > this.#expiresS && min <= MAX_EXPIRES_S) {
        this.#log.info({ minExpires: min }, '423 Interval Too Brief: registering again for the Min-Expires asked');
        this.#expiresS = min;
        ({ response, local } = await this.#send(this.#expiresS, undefined));
        status = response.status ?? 0;
      }
    }
    this.#bound = status >= 200 && status < 300;
    if (!this.#running) return;
    if (this.#bound) return this.#registered(response);
    const why = local ? `no answer from the registrar (${status} ${response.reason ?? ''})` : `${status} ${response.reason ?? ''}`;
    this.#failed(status, why.trim());
  }

  #registered(response: SipMessage): void {
    const granted = grantedExpires(response, this.#expiresS, this.#contactUri());
    const now = this.#now();
    const refreshMs = Math.max(1000, Math.round(granted * REFRESH_AT * 1000));
    const first = this.#status.state !== 'registered';
    this.#retryS = this.#o.retryS;
    this.#setStatus({ state: 'registered', registrar: this.registrar, registeredAt: now, expiresAt: now + granted * 1000, lastStatus: response.status ?? 200, nextAttemptAt: now + refreshMs });
    if (first) this.#log.info({ registrar: this.registrar, expiresS: granted }, 'registered');
    else this.#log.debug({ expiresS: granted }, 'registration refreshed');
    this.#timer = setTimeout(() => this.#attempt(), refreshMs);
  }

  #failed(status: number, why: string): void {
    const delayS = this.#retryS;
    this.#retryS = Math.min(this.#retryS * 2, this.#o.maxRetryS);
    const failedAt = this.registrar;
    if (this.#registrars.length > 1) {
      this.#registrarIndex = (this.#registrarIndex + 1) % this.#registrars.length;
      this.#digest = undefined; // another registrar challenges afresh
    }
    this.#setStatus({ state: 'failed', registrar: failedAt, lastStatus: status, lastError: why, nextAttemptAt: this.#now() + delayS * 1000 });
    this.#log.warn({ registrar: failedAt, status, why, retryInS: delayS, next: this.registrar }, 'registration failed: calls from the registrar cannot reach the gateway until it succeeds');
    this.#timer = setTimeout(() => this.#attempt(), delayS * 1000);
  }

  /** One REGISTER (CSeq + 1); signed for `challenge`, or with the digest context of an earlier challenge. */
  #send(expiresS: number, challenge?: SipMessage): Promise<{ response: SipMessage; local: boolean }> {
    this.#cseq += 1;
    const o = this.#o;
    const aor = `sip:${o.user}@${o.domain}`;
    const contactUri = this.#contactUri();
    const request: SipMessage = {
      method: 'REGISTER',
      uri: `sip:${o.domain}`,
      headers: {
        via: [],
        'max-forwards': 70,
        from: nameAddr(aor, undefined, this.#fromTag),
        to: nameAddr(aor),
        'call-id': this.#callId,
        cseq: { seq: this.#cseq, method: 'REGISTER' },
        contact: [{ uri: contactUri, params: {} }],
        expires: String(expiresS),
        allow: this.#deps.ctx.allow,
      },
    };
    const auth = o.auth;
    if (auth && (challenge || this.#digest?.nonce)) {
      try {
        if (challenge) this.#digest = {};
        signRequest(this.#digest, request, challenge, signCreds(auth));
      } catch (err) {
        this.#log.warn({ err }, 'cannot answer the registrar\'s challenge');
      }
    }
    return requestFinal(this.#deps.ctx, request, { transport: o.transport, proxy: this.registrar });
  }

  /** Our Contact with the address of record's user: a registrar's INVITEs to it name that user. */
  #contactUri(): string {
    return uriString(this.#deps.contact(this.#o.transport).uri).replace(/^(sips?:)[^@]*@/, `$1${encodeURIComponent(this.#o.user)}@`);
  }

  #setStatus(status: RegistrationStatus): void {
    this.#status = status;
    this.safeEmit('status', { ...status });
  }

  #now(): number {
    return (this.#deps.now ?? Date.now)();
  }
}

/**
 * The interval a 2xx grants (RFC 3261 §10.2.4): the `expires` parameter of our Contact among the bindings it
 * lists (others may be the AOR's other devices, or ours from before a restart), else the Expires header,
 * else what we asked for. Only delta-seconds count; a grant above MAX_EXPIRES_S is taken as MAX_EXPIRES_S, so
 * the refresh timer can wait for it (Node fires a setTimeout above 2^31-1 ms at once).
 */
export function grantedExpires(response: SipMessage, asked: number, ourContact: string): number {
  const bare = (uri: string): string => uri.replace(/;.*$/, '').toLowerCase();
  const contacts = response.headers.contact;
  const ours = Array.isArray(contacts) ? contacts.find((c) => bare(uriString(c.uri)) === bare(ourContact)) : undefined;
  const e = parseDeltaSeconds(ours?.params?.['expires']);
  if (e !== undefined && e > 0) return Math.min(e, MAX_EXPIRES_S);
  const header = parseDeltaSeconds(headerValue(response, 'expires'));
  return header !== undefined && header > 0 ? Math.min(header, MAX_EXPIRES_S) : asked;
}
