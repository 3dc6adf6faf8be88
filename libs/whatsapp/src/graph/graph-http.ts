import type { Logger } from '@wagw/logging';
import { GraphApiError, GraphOutcomeUnknownError, GraphResponseError, GraphUnreachableError, RATE_LIMIT_KINDS, TRANSIENT_KINDS } from '../whatsapp.errors';
import { mapGraphError } from './map-graph-error';
import { type NetworkFailure, backoffDelayMs, classifyNetworkError, parseRetryAfterMs } from './retry-policy';
import { createNodeHttpFetch, ResponseTooLargeError, type GraphFetch, type GraphFetchInit, type GraphFetchResponse } from './node-http-fetch';

export interface GraphHttpOptions {
  /** e.g. `https://graph.facebook.com` (a trailing slash is ignored). */
  baseUrl: string;
  /** e.g. `v23.0`. */
  apiVersion: string;
  /** Bearer token. Sent in the Authorization header only; never logged. */
  accessToken: string;
  /** Deadline of one HTTP attempt, body included. */
  requestTimeoutMs: number;
  /** Retries after the first attempt, where repeating is safe (see `GraphRequest.idempotent`). */
  maxRetries: number;
  /** First backoff delay; doubles per retry, with jitter. */
  retryBaseDelayMs: number;
  logger: Logger;
  /** The HTTP exchange; default createNodeHttpFetch() (keep-alive node:http). Global `fetch` fits too. */
  fetch?: GraphFetch;
  sleep?: (ms: number) => Promise<void>;
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number;
  /** Clock for HTTP-date Retry-After values. Default Date.now. */
  now?: () => number;
  /** A retry that would have to wait longer than this (backoff or Retry-After) is not made. Default 30000. */
  maxRetryDelayMs?: number;
}

export interface GraphRequest {
  /** Name used in logs and errors, e.g. `calls.terminate`. */
  operation: string;
  method: 'GET' | 'POST';
  /** Path below the version, e.g. `/123456/calls`. */
  path: string;
  /** A whole URL to use instead of base URL, version and path: a media download link Meta gave. */
  url?: string;
  /** A body that is no JSON (a media upload's multipart/form-data), sent as these bytes with this type. */
  rawBody?: { contentType: string; bytes: Buffer };
  /**
   * The 2xx body is bytes, not JSON: `request` returns a `GraphBytes`. A body over `maxBytes` fails with
   * GraphResponseError (not retried).
   */
  binary?: { maxBytes: number };
  query?: Record<string, string>;
  body?: unknown;
  /**
   * True when Meta applies a repeat at most once (GETs, settings, pre_accept/accept/reject/terminate on a
   * call id): retried on 429, 5xx and network errors. False (connect, message sends): retried only on 429
   * or when the connection failed before anything was sent; otherwise the outcome is unknown.
   */
  idempotent: boolean;
  /**
   * For actions whose repeat Meta refuses once the first took effect (terminate/reject on an ended call):
   * `when(error)` on a retry means the earlier attempt succeeded, and `body` stands for its answer.
   */
  doneOnRetry?: { when: (error: GraphApiError) => boolean; body: unknown };
}

/** A binary 2xx body (`GraphRequest.binary`). */
export interface GraphBytes {
  bytes: Buffer;
  contentType: string | undefined;
}

type Attempt =
  | { kind: 'response'; status: number; body: unknown; retryAfterMs: number | undefined }
  | { kind: 'too_large'; error: GraphResponseError }
  | { kind: 'network'; failure: NetworkFailure; cause: unknown };

type Decision = { kind: 'done'; body: unknown } | { kind: 'fail'; error: Error } | { kind: 'retry'; giveUp: Error; retryAfterMs?: number | undefined };

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** One Graph API HTTP exchange with deadline, retry policy and error mapping. Returns the 2xx JSON body. */
export class GraphHttp {
  readonly #o: Required<Omit<GraphHttpOptions, 'logger'>>;
  readonly #logger: Logger;

  constructor(options: GraphHttpOptions) {
    const { logger, ...rest } = options;
    this.#logger = logger;
    this.#o = {
      ...rest,
      baseUrl: rest.baseUrl.replace(/\/+$/, ''),
      fetch: rest.fetch ?? createNodeHttpFetch(),
      sleep: rest.sleep ?? defaultSleep,
      random: rest.random ?? Math.random,
      now: rest.now ?? Date.now,
      maxRetryDelayMs: rest.maxRetryDelayMs ?? 30_000,
    };
  }

  async request(req: GraphRequest): Promise<unknown> {
    const attempts = this.#o.maxRetries + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const decision = decide(req, await this.#attempt(req, attempt));
      if (decision.kind === 'done') return decision.body;
      if (decision.kind === 'fail' && attempt > 1 && decision.error instanceof GraphApiError && req.doneOnRetry?.when(decision.error)) {
        this.#logger.info({ operation: req.operation, attempt, metaCode: decision.error.metaCode }, 'graph retry refused as already done: the earlier attempt took effect');
        return req.doneOnRetry.body;
      }
      if (decision.kind === 'fail') throw decision.error;
      if (attempt === attempts) throw decision.giveUp;
      const delayMs = decision.retryAfterMs ?? backoffDelayMs(attempt, this.#o.retryBaseDelayMs, this.#o.maxRetryDelayMs, this.#o.random);
      if (delayMs > this.#o.maxRetryDelayMs) {
        this.#logger.warn({ operation: req.operation, attempt, delayMs }, 'graph request not retried: requested delay too long');
        throw decision.giveUp;
      }
      this.#logger.debug({ operation: req.operation, attempt, delayMs }, 'graph request will be retried');
      await this.#o.sleep(delayMs);
    }
    throw new Error(`unreachable: ${req.operation} exhausted ${attempts} attempts without a decision`);
  }

  #url(req: GraphRequest): string {
    if (req.url !== undefined) return req.url;
    const query = req.query && Object.keys(req.query).length > 0 ? `?${new URLSearchParams(req.query).toString()}` : '';
    return `${this.#o.baseUrl}/${this.#o.apiVersion}${req.path}${query}`;
  }

  async #attempt(req: GraphRequest, attempt: number): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.#o.requestTimeoutMs);
    const headers: Record<string, string> = { authorization: `Bearer ${this.#o.accessToken}`, accept: 'application/json' };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    if (req.rawBody !== undefined) headers['content-type'] = req.rawBody.contentType;
    try {
      const init: GraphFetchInit = { method: req.method, headers, signal: controller.signal };
      if (req.body !== undefined) init.body = JSON.stringify(req.body);
      else if (req.rawBody !== undefined) init.body = Uint8Array.from(req.rawBody.bytes);
      const res = await this.#o.fetch(this.#url(req), init);
      if (req.binary && res.status >= 200 && res.status < 300) return await this.#bytesOf(req, req.binary.maxBytes, res, attempt);
      const text = await res.text();
      this.#logger.debug({ operation: req.operation, method: req.method, status: res.status, attempt }, 'graph request');
      return { kind: 'response', status: res.status, body: parseBody(text), retryAfterMs: parseRetryAfterMs(res.headers.get('retry-after'), this.#o.now()) };
    } catch (cause) {
      if (cause instanceof ResponseTooLargeError) return { kind: 'too_large', error: new GraphResponseError(req.operation, `body over ${cause.limitBytes} bytes`) };
      const failure = classifyNetworkError(cause, timedOut);
      this.#logger.debug({ operation: req.operation, method: req.method, status: 'network-error', attempt, reason: failure.reason }, 'graph request');
      return { kind: 'network', failure, cause };
    } finally {
      clearTimeout(deadline);
    }
  }

  async #bytesOf(req: GraphRequest, maxBytes: number, res: GraphFetchResponse, attempt: number): Promise<Attempt> {
    const declared = Number(res.headers.get('content-length') ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(req, maxBytes, declared);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > maxBytes) return tooLarge(req, maxBytes, bytes.length);
    this.#logger.debug({ operation: req.operation, method: req.method, status: res.status, attempt, bytes: bytes.length }, 'graph request');
    const body: GraphBytes = { bytes, contentType: res.headers.get('content-type') ?? undefined };
    return { kind: 'response', status: res.status, body, retryAfterMs: undefined };
  }
}

/** A binary answer over its limit (declared or received): refused, not retried. */
function tooLarge(req: GraphRequest, maxBytes: number, bytes: number): Attempt {
  return { kind: 'too_large', error: new GraphResponseError(req.operation, `body of ${bytes} bytes is over the ${maxBytes}-byte limit`) };
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // not JSON (a proxy's HTML page): mapGraphError reports it as an error without a Graph body
  }
}

/** Retry policy of one attempt's outcome (see `GraphRequest.idempotent`). */
function decide(req: GraphRequest, a: Attempt): Decision {
  if (a.kind === 'too_large') return { kind: 'fail', error: a.error };
  if (a.kind === 'network') {
    const unreachable = new GraphUnreachableError(req.operation, a.failure.reason, a.cause);
    if (req.idempotent || !a.failure.maybeSent) return { kind: 'retry', giveUp: unreachable };
    return { kind: 'fail', error: new GraphOutcomeUnknownError(req.operation, a.failure.reason, a.cause) };
  }
  if (a.status >= 200 && a.status < 300) return { kind: 'done', body: a.body };
  const mapped = mapGraphError(a.status, a.body);
  // 429 or a rate-limit code: Meta refused the request, nothing happened; safe to repeat for every operation.
  if (a.status === 429 || RATE_LIMIT_KINDS.has(mapped.kind)) return { kind: 'retry', giveUp: mapped, retryAfterMs: a.retryAfterMs };
  // codes 1/2: a passing failure whose effect is unknown: repeat only what may be repeated
  if (TRANSIENT_KINDS.has(mapped.kind)) {
    if (req.idempotent) return { kind: 'retry', giveUp: mapped, retryAfterMs: a.retryAfterMs };
    return { kind: 'fail', error: new GraphOutcomeUnknownError(req.operation, `HTTP ${a.status} code ${mapped.metaCode}`, mapped) };
  }
  if (a.status < 500) return { kind: 'fail', error: mapped };
  // A 5xx with a documented code (138004 connection error, 138007 connect timeout) is Meta's definite answer.
  if (mapped.kind !== 'unknown') return { kind: 'fail', error: mapped };
  if (req.idempotent) return { kind: 'retry', giveUp: mapped, retryAfterMs: a.retryAfterMs };
  return { kind: 'fail', error: new GraphOutcomeUnknownError(req.operation, `HTTP ${a.status}`, mapped) };
}
