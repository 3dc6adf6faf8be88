import { GraphError } from './emulator.errors';

/**
 * Test switch: transient Graph failures. The next `count` Graph requests that match a rule answer `status`
 * with one of Meta's transient error bodies, either before anything is done (`before`: a rate limiter or an
 * overloaded front end refused the request) or after the side effect happened (`after`: the call was placed
 * or the message sent, then the response was lost as a 5xx). Rules are consumed in the order they were
 * armed; one request consumes at most one rule.
 */

/**
 * Calls actions, then endpoints; `media` is GET /<MEDIA_ID>, `media_download` the download URL it gives,
 * `media_upload` POST /<PHONE_NUMBER_ID>/media.
 */
export const GRAPH_FAULT_ACTIONS = ['connect', 'pre_accept', 'accept', 'reject', 'terminate', 'messages', 'call_permissions', 'settings', 'media', 'media_download', 'media_upload'] as const;
export type GraphFaultAction = (typeof GRAPH_FAULT_ACTIONS)[number];

export const GRAPH_FAULT_STATUSES = [429, 500, 503] as const;
export type GraphFaultStatus = (typeof GRAPH_FAULT_STATUSES)[number];

export type GraphFaultWhen = 'before' | 'after';

export interface GraphFailureRule {
  /** Which Graph request the rule matches; omitted: any. */
  action?: GraphFaultAction;
  status: GraphFaultStatus;
  /** Requests still to fail (1-10 when armed). */
  count: number;
  when: GraphFaultWhen;
  /** Sent as a `Retry-After` header (seconds) when set. */
  retryAfterS?: number;
}

/** The first `calls` action named in a request body, if it is one the emulator knows. */
export function callsFaultAction(body: unknown): GraphFaultAction | undefined {
  const action = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['action'] : undefined;
  return GRAPH_FAULT_ACTIONS.includes(action as GraphFaultAction) ? (action as GraphFaultAction) : undefined;
}

/** A GraphError that also carries the Retry-After the HTTP layer writes as a header. */
export class TransientGraphError extends GraphError {
  /** Meta marks these errors as worth retrying (`is_transient: true` in the error body). */
  readonly isTransient = true;

  constructor(
    metaCode: number,
    httpStatus: number,
    message: string,
    details: string,
    readonly retryAfterS: number | undefined,
    /** Whether the request's effect happened (`after`) or not (`before`). */
    readonly when: GraphFaultWhen,
  ) {
    super(metaCode, httpStatus, message, { details });
  }
}

/**
 * Meta's documented transient codes (Graph "Handling errors"; WhatsApp Cloud API error codes): 1 API Unknown,
 * 2 API Service (temporarily unavailable), 4 API Too Many Calls (application request limit), 80007 WhatsApp
 * Business Account rate limit, 613 call_permissions rate limit (reference §3.7, §7).
 */
export function transientError(rule: GraphFailureRule, action: GraphFaultAction | undefined): TransientGraphError {
  const details = `injected by the emulator's graphFailures fault (${rule.when}, ${action ?? 'any request'})`;
  if (rule.status === 503) return new TransientGraphError(2, 503, 'Service temporarily unavailable', details, rule.retryAfterS, rule.when);
  if (rule.status === 500) return new TransientGraphError(1, 500, 'An unknown error has occurred.', details, rule.retryAfterS, rule.when);
  if (action === 'messages') return new TransientGraphError(80007, 429, '(#80007) The WhatsApp Business Account has reached its rate limit.', details, rule.retryAfterS, rule.when);
  if (action === 'call_permissions') return new TransientGraphError(613, 429, '(#613) Calls to this api have exceeded the rate limit.', details, rule.retryAfterS, rule.when);
  return new TransientGraphError(4, 429, '(#4) Application request limit reached', details, rule.retryAfterS, rule.when);
}

export class GraphFaults {
  #rules: GraphFailureRule[] = [];

  /** The rules still armed, with the requests each still fails. */
  get rules(): GraphFailureRule[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  /** Replaces every armed rule (an empty list disarms). */
  arm(rules: readonly GraphFailureRule[]): void {
    for (const r of rules) {
      if (!Number.isInteger(r.count) || r.count < 1) throw new TypeError(`graph fault count must be a positive integer, got ${r.count}`);
    }
    this.#rules = rules.map((r) => ({ ...r }));
  }

  clear(): void {
    this.#rules = [];
  }

  /** Throws the injected error when a `before` rule matches the request; consumes one of its count. */
  before(action: GraphFaultAction | undefined): void {
    this.#fire('before', action);
  }

  /** Throws the injected error when an `after` rule matches a request that succeeded; consumes one of its count. */
  after(action: GraphFaultAction | undefined): void {
    this.#fire('after', action);
  }

  #fire(when: GraphFaultWhen, action: GraphFaultAction | undefined): void {
    const rule = this.#rules.find((r) => r.when === when && (r.action === undefined || r.action === action));
    if (!rule) return;
    rule.count -= 1;
    if (rule.count <= 0) this.#rules = this.#rules.filter((r) => r !== rule);
    throw transientError(rule, action);
  }
}
