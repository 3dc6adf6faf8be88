import type { AuthHeader, SipMessage } from 'sip';
import { makeResponse } from 'sip';
import { authenticateRequest, challenge, type DigestContext } from 'sip/digest';
import type { InviteAuthDecision } from '../sip.types';

type DigestDecision = Extract<InviteAuthDecision, { action: 'digest' }>;

function unquote(value: string | undefined): string | undefined {
  return value !== undefined && value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * Digest authentication of inbound requests (RFC 3261 §22.3, RFC 2617) with npm `sip/digest`: a
 * challenge remembers its nonce for `ttlMs`, and a request answering it is checked against the password
 * the decision looks up. At most `maxNonces` challenges are remembered (oldest dropped first).
 */
export class DigestVerifier {
  readonly #contexts = new Map<string, { ctx: DigestContext; at: number }>();
  readonly #ttlMs: number;
  readonly #maxNonces: number;

  constructor(ttlMs = 300_000, maxNonces = 10_000) {
    this.#ttlMs = ttlMs;
    this.#maxNonces = maxNonces;
  }

  /** True when the request carries valid credentials answering one of our live challenges. */
  async verify(request: SipMessage, decision: DigestDecision): Promise<boolean> {
    return (await this.check(request, decision)).outcome === 'ok';
  }

  /**
   * What the request's credentials are worth: `ok`; `absent` (none for our realm: a first request);
   * `stale` (a nonce we no longer know: after a restart, or too old: the client retries on the new
   * challenge); `unknown-user` or `bad-password` (an authentication failure worth logging and counting).
   */
  async check(request: SipMessage, decision: DigestDecision): Promise<{ outcome: 'ok' | 'absent' | 'stale' | 'unknown-user' | 'bad-password'; username?: string }> {
    const headers = (decision.proxy ? request.headers['proxy-authorization'] : request.headers.authorization) ?? [];
    const creds = headers.find((h: AuthHeader) => h.scheme.toLowerCase() === 'digest' && unquote(h['realm']) === decision.realm);
    const nonce = unquote(creds?.['nonce']);
    const username = unquote(creds?.['username']);
    if (!nonce || !username) return { outcome: 'absent' };
    const entry = this.#contexts.get(nonce);
    if (!entry || Date.now() - entry.at > this.#ttlMs) return { outcome: 'stale', username };
    const password = await decision.password(username);
    if (password === undefined) return { outcome: 'unknown-user', username };
    return { outcome: authenticateRequest(entry.ctx, request, { user: username, password }) ? 'ok' : 'bad-password', username };
  }

  /** A 401 (or 407 with `proxy`) challenging the request, with a fresh nonce. */
  challenge(request: SipMessage, decision: DigestDecision): SipMessage {
    this.#sweep();
    const status = decision.proxy ? 407 : 401;
    const response = makeResponse(request, status, decision.proxy ? 'Proxy Authentication Required' : 'Unauthorized');
    const ctx: DigestContext = { realm: decision.realm, qop: 'auth' };
    challenge(ctx, response);
    if (typeof ctx.nonce === 'string') this.#contexts.set(ctx.nonce, { ctx, at: Date.now() });
    return response;
  }

  get size(): number {
    return this.#contexts.size;
  }

  #sweep(): void {
    const now = Date.now();
    for (const [nonce, entry] of this.#contexts) {
      if (now - entry.at <= this.#ttlMs && this.#contexts.size < this.#maxNonces) break;
      this.#contexts.delete(nonce);
    }
  }
}
