/**
 * Typed errors of the WhatsApp Cloud API client. Meta's error body (reference §3.5) is
 * `{ error: { message, type, code, error_subcode?, fbtrace_id?, error_data? } }`; codes are listed in
 * reference §7 (Meta "Calling API troubleshooting", TS-2512). `mapGraphError` is the one place that
 * turns such a body into an error object.
 */

/** Conditions a caller may handle carry a literal `code` (STYLE §5). */
export abstract class AppError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Every documented Meta error code, its kind and a readable reason (reference §7). */
export const GRAPH_ERROR_TABLE = {
  1: { kind: 'api_unknown', reason: 'Graph API unknown error (possibly temporary)' },
  2: { kind: 'api_service_unavailable', reason: 'Graph API service temporarily unavailable' },
  4: { kind: 'app_rate_limited', reason: 'application request limit reached' },
  100: { kind: 'invalid_parameter', reason: 'invalid parameter (for SDP problems the detail is in error_data)' },
  190: { kind: 'access_token_invalid', reason: 'the access token is invalid or expired (whatsapp.accessToken)' },
  613: { kind: 'api_rate_limited', reason: 'API rate limit reached (call_permissions)' },
  80007: { kind: 'waba_rate_limited', reason: 'WhatsApp Business Account rate limit reached' },
  130429: { kind: 'throughput_limited', reason: 'Cloud API message throughput reached' },
  131009: { kind: 'interactive_type_not_supported', reason: 'interactive voice_call not supported for the sender country' },
  131026: { kind: 'message_undeliverable', reason: 'message undeliverable (recipient client outdated)' },
  131030: { kind: 'recipient_not_allowed', reason: 'recipient not on the test-number allow-list' },
  131044: { kind: 'payment_method_missing', reason: 'no valid payment method on the account' },
  131055: { kind: 'sip_enabled_number', reason: 'Graph calling used on a SIP-enabled number' },
  138000: { kind: 'calling_not_enabled', reason: 'calling is not enabled on the number' },
  138001: { kind: 'receiver_not_callable', reason: 'receiver cannot be called (not on WhatsApp, ToS, or unsupported client)' },
  138002: { kind: 'concurrent_call_limit', reason: 'concurrent call limit reached' },
  138003: { kind: 'duplicate_call', reason: 'a call with this user is already in progress' },
  138004: { kind: 'connection_error', reason: 'connection error: check connection parameters' },
  138005: { kind: 'call_rate_limited', reason: 'call initiation rate limit reached for the number' },
  138006: { kind: 'no_call_permission', reason: 'no approved call permission from the user' },
  138007: { kind: 'connect_timeout', reason: "connect timeout: Meta's SDP not applied or answer not sent in time" },
  138009: { kind: 'permission_request_limit', reason: 'call permission request limit reached for this user' },
  138011: { kind: 'unconfirmed_138011', reason: 'error 138011 (meaning undocumented)' },
  138012: { kind: 'daily_call_cap', reason: 'daily cap of connected business-initiated calls reached for this user' },
  138013: { kind: 'bic_country_unavailable', reason: "business-initiated calling not available for this number's country" },
  138014: { kind: 'calling_temporarily_disabled', reason: 'calling temporarily disabled (low quality)' },
  138015: { kind: 'calling_cannot_be_enabled', reason: 'calling cannot be enabled (messaging limit below 2000)' },
  138017: { kind: 'permanent_permission_exists', reason: 'a permanent call permission already exists' },
  138018: { kind: 'prerequisites_not_met', reason: 'no app subscribed to calls and no SIP configured' },
  138019: { kind: 'client_call_setup_failed', reason: 'call setup failed on the client' },
  138020: { kind: 'client_relay_unreachable', reason: 'client could not reach the relay' },
  138021: { kind: 'client_media_receive_timeout', reason: 'client received no media for too long' },
  138022: { kind: 'client_media_send_timeout', reason: 'client transmitted no media for too long' },
  138023: { kind: 'media_connection_unknown', reason: 'accepted but no media-connection signals' },
} as const;

export type KnownGraphErrorCode = keyof typeof GRAPH_ERROR_TABLE;

/** Meta refused the request for load or rate: nothing happened, so repeating it is safe for every operation. */
export const RATE_LIMIT_KINDS: ReadonlySet<string> = new Set(['app_rate_limited', 'api_rate_limited', 'waba_rate_limited', 'throughput_limited']);

/** Meta failed for a passing reason; whether the request took effect is unknown. */
export const TRANSIENT_KINDS: ReadonlySet<string> = new Set(['api_unknown', 'api_service_unavailable']);
export type GraphErrorKind = (typeof GRAPH_ERROR_TABLE)[KnownGraphErrorCode]['kind'] | 'unknown';

export interface GraphErrorDetails {
  httpStatus: number;
  metaCode: number | undefined;
  metaSubcode?: number;
  fbtraceId?: string;
  errorData?: unknown;
  /** Meta's own message, kept verbatim. */
  metaMessage?: string;
}

/** An error response from the Graph API. `kind` names the documented Meta code; `reason` is readable. */
export class GraphApiError extends AppError {
  readonly code = 'WA_GRAPH_API_ERROR' as const;
  readonly kind: GraphErrorKind;
  readonly httpStatus: number;
  readonly metaCode: number | undefined;
  readonly metaSubcode?: number;
  readonly fbtraceId?: string;
  readonly errorData?: unknown;
  readonly metaMessage?: string;
  readonly reason: string;

  constructor(kind: GraphErrorKind, reason: string, details: GraphErrorDetails) {
    super(`Graph API error ${details.metaCode ?? 'n/a'} (HTTP ${details.httpStatus}): ${reason}`);
    this.kind = kind;
    this.reason = reason;
    this.httpStatus = details.httpStatus;
    this.metaCode = details.metaCode;
    if (details.metaSubcode !== undefined) this.metaSubcode = details.metaSubcode;
    if (details.fbtraceId !== undefined) this.fbtraceId = details.fbtraceId;
    if (details.errorData !== undefined) this.errorData = details.errorData;
    if (details.metaMessage !== undefined) this.metaMessage = details.metaMessage;
  }
}

/** 138006: the user has not granted (or has revoked) call permission. */
export class NoCallPermissionError extends GraphApiError {
  override readonly kind = 'no_call_permission' as const;
}

/** 138009: at most 1 permission request per 24 h and 2 per 7 days per pair (reference §4). */
export class PermissionRequestLimitError extends GraphApiError {
  override readonly kind = 'permission_request_limit' as const;
}

/** 138017: a permanent permission exists, so no request may be sent. */
export class PermanentPermissionExistsError extends GraphApiError {
  override readonly kind = 'permanent_permission_exists' as const;
}

/** 138012: daily connected-call cap; `nextAllowedAt` (epoch seconds) when Meta's error_data carries it. */
export class DailyCallCapError extends GraphApiError {
  override readonly kind = 'daily_call_cap' as const;
  readonly nextAllowedAt: number | undefined;
  constructor(reason: string, details: GraphErrorDetails, nextAllowedAt: number | undefined) {
    super('daily_call_cap', reason, details);
    this.nextAllowedAt = nextAllowedAt;
  }
}

/**
 * A non-idempotent request (connect, message send) failed in a way that leaves its effect unknown:
 * a 5xx, a timeout, or a connection dropped after the request was sent. It is not retried because
 * repeating it could place a second call or send a second message.
 */
export class GraphOutcomeUnknownError extends AppError {
  readonly code = 'WA_GRAPH_OUTCOME_UNKNOWN' as const;
  constructor(
    readonly operation: string,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`outcome of ${operation} is unknown: ${reason}; it was not repeated because that could duplicate its effect`);
  }
}

/** The Graph API could not be reached (network error or timeout) and retries, if allowed, were exhausted. */
export class GraphUnreachableError extends AppError {
  readonly code = 'WA_GRAPH_UNREACHABLE' as const;
  constructor(
    readonly operation: string,
    readonly reason: string,
    override readonly cause?: unknown,
  ) {
    super(`${operation}: Graph API unreachable: ${reason}`);
  }
}

/** A 2xx response whose body does not have the documented shape. */
export class GraphResponseError extends AppError {
  readonly code = 'WA_GRAPH_BAD_RESPONSE' as const;
  constructor(
    readonly operation: string,
    readonly reason: string,
  ) {
    super(`${operation}: unexpected Graph API response: ${reason}`);
  }
}
