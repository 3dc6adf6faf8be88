import {
  DailyCallCapError,
  GRAPH_ERROR_TABLE,
  GraphApiError,
  type GraphErrorDetails,
  type KnownGraphErrorCode,
  NoCallPermissionError,
  PermanentPermissionExistsError,
  PermissionRequestLimitError,
} from '../whatsapp.errors';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) return Number(v);
  return undefined;
}

function isKnownCode(code: number | undefined): code is KnownGraphErrorCode {
  return code !== undefined && Object.prototype.hasOwnProperty.call(GRAPH_ERROR_TABLE, code);
}

/** Epoch seconds from a number (seconds or ms) or an ISO date string. */
function toEpochSeconds(v: unknown): number | undefined {
  const n = num(v);
  if (n !== undefined) return n > 1e12 ? Math.floor(n / 1000) : n;
  if (typeof v === 'string') {
    const iso = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/.exec(v);
    if (iso) {
      const ms = Date.parse(iso[0]);
      if (!Number.isNaN(ms)) return Math.floor(ms / 1000);
    }
    const unix = /\b(1\d{9})\b/.exec(v);
    if (unix?.[1]) return Number(unix[1]);
  }
  return undefined;
}

/**
 * 138012: "error_data holds the next allowed time" (TS-2512) without a documented key. Inferred: take a
 * key that names a time (`next_allowed…`, `…time`, `…timestamp`), else a Unix or ISO time inside `details`.
 */
export function parseNextAllowedAt(errorData: unknown): number | undefined {
  if (!isRecord(errorData)) return toEpochSeconds(errorData);
  const keys = Object.keys(errorData);
  const preferred = keys.filter((k) => /next|allowed/i.test(k)).concat(keys.filter((k) => /time|timestamp|expir/i.test(k)));
  for (const k of preferred) {
    const t = toEpochSeconds(errorData[k]);
    if (t !== undefined) return t;
  }
  return toEpochSeconds(errorData['details']);
}

function detailsOf(httpStatus: number, body: unknown): GraphErrorDetails {
  const err = isRecord(body) && isRecord(body['error']) ? body['error'] : undefined;
  const details: GraphErrorDetails = { httpStatus, metaCode: num(err?.['code']) };
  const sub = num(err?.['error_subcode']);
  if (sub !== undefined) details.metaSubcode = sub;
  if (typeof err?.['fbtrace_id'] === 'string') details.fbtraceId = err['fbtrace_id'];
  if (err?.['error_data'] !== undefined) details.errorData = err['error_data'];
  if (typeof err?.['message'] === 'string') details.metaMessage = err['message'];
  return details;
}

function errorDataText(errorData: unknown): string | undefined {
  if (typeof errorData === 'string') return errorData;
  if (isRecord(errorData) && typeof errorData['details'] === 'string') return errorData['details'];
  return undefined;
}

/** Pure: an HTTP status and a (possibly non-JSON) Graph error body to a typed error. */
export function mapGraphError(httpStatus: number, body: unknown): GraphApiError {
  const details = detailsOf(httpStatus, body);
  const extra = errorDataText(details.errorData);
  if (!isKnownCode(details.metaCode)) {
    const base = details.metaMessage ?? (details.metaCode === undefined ? `HTTP ${httpStatus} without a Graph error body` : 'unknown error');
    return new GraphApiError('unknown', extra ? `${base} (${extra})` : base, details);
  }
  const entry = GRAPH_ERROR_TABLE[details.metaCode];
  const reason = extra ? `${entry.reason}: ${extra}` : entry.reason;
  switch (entry.kind) {
    case 'no_call_permission':
      return new NoCallPermissionError(entry.kind, reason, details);
    case 'permission_request_limit':
      return new PermissionRequestLimitError(entry.kind, reason, details);
    case 'permanent_permission_exists':
      return new PermanentPermissionExistsError(entry.kind, reason, details);
    case 'daily_call_cap':
      return new DailyCallCapError(reason, details, parseNextAllowedAt(details.errorData));
    default:
      return new GraphApiError(entry.kind, reason, details);
  }
}
