/**
 * Retry arithmetic and failure classification for Graph API requests. Pure functions; the transport
 * (`graph-http.ts`) decides what to do with them.
 */

/** Socket error codes raised before any request byte can have left this host: repeating cannot duplicate an effect. */
const NOT_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export interface NetworkFailure {
  /** False only when the failure certainly happened before the request was sent (connection refused, DNS, TLS). */
  maybeSent: boolean;
  reason: string;
}

function errorCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The error and its causes (`cause` chain, `AggregateError.errors`), bounded. */
function errorChain(e: unknown): unknown[] {
  const out: unknown[] = [];
  const queue: unknown[] = [e];
  while (queue.length > 0 && out.length < 16) {
    const cur = queue.shift();
    if (typeof cur !== 'object' || cur === null) continue;
    out.push(cur);
    const { cause, errors } = cur as { cause?: unknown; errors?: unknown };
    if (cause !== undefined) queue.push(cause);
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return out;
}

/**
 * Classifies a fetch rejection. Our own deadline (AbortError/TimeoutError) and resets may have hit a request
 * Meta already received, so they count as possibly sent.
 */
export function classifyNetworkError(e: unknown, timedOut: boolean): NetworkFailure {
  if (timedOut) return { maybeSent: true, reason: 'request timed out' };
  const chain = errorChain(e);
  const codes = chain.map(errorCode).filter((c): c is string => c !== undefined);
  const message = chain.map((x) => (x instanceof Error ? x.message : '')).filter((m) => m !== '')[0] ?? String(e);
  const reason = codes.length > 0 ? `${codes[codes.length - 1]}: ${message}` : message;
  return { maybeSent: !(codes.length > 0 && codes.every((c) => NOT_SENT_CODES.has(c))), reason };
}

/**
 * Exponential backoff with "equal jitter": the n-th retry (n >= 1) waits between half and all of
 * `base * 2^(n-1)`, capped at `capMs`. `random` is in [0, 1).
 */
export function backoffDelayMs(retry: number, baseMs: number, capMs: number, random: () => number): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, retry - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Undefined when absent or unparsable. */
export function parseRetryAfterMs(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}
