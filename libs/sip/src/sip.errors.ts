/**
 * Typed errors of libs/sip and the one mapping between our call-failure causes and SIP status codes
 * (STYLE §5: "map ... to SIP in one toSipStatus()").
 */

/** Conditions a caller may handle carry a literal `code`. */
export abstract class SipLibError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A SIP final response to send or that was received, as an error (drachtio `SipError`). */
export class SipError extends SipLibError {
  readonly code = 'SIP_ERROR' as const;
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`SIP ${status} ${reason}`);
  }
}

/** A method was called in a state where it makes no sense (e.g. `bye()` before the call was answered). */
export class InvalidStateError extends SipLibError {
  readonly code = 'SIP_INVALID_STATE' as const;
  constructor(
    readonly operation: string,
    readonly state: string,
  ) {
    super(`cannot ${operation} in state ${state}`);
  }
}

/** An SDP body we cannot use (not parseable, no audio, no codec in common). */
export class SdpError extends SipLibError {
  readonly code = 'SIP_SDP_INVALID' as const;
}

/**
 * Why a call leg failed or should fail, independent of the protocol that reports it.
 * - `busy`: 486/600; `declined`: 603; `no-answer`: 480, or our ring timeout fired;
 * - `timeout`: the far end answered 408; `unreachable`: no response before the transaction timed out
 *   (Timer B), a transport error, or a 502/503/504 we generated or received;
 * - `rejected`: any other final failure; `cancelled`: we cancelled (487 or crossed 200);
 * - `auth-failed`: a second challenge, or one we hold no credentials for.
 */
export const CALL_CAUSES = ['busy', 'declined', 'no-answer', 'unreachable', 'rejected', 'cancelled', 'timeout', 'auth-failed'] as const;
export type CallCause = (typeof CALL_CAUSES)[number];

/** Extra causes other layers (WhatsApp, media) hand to `toSipStatus` when they fail a PBX-originated call. */
export type GatewayCause = CallCause | 'not-found' | 'forbidden' | 'unsupported-media' | 'overloaded' | 'internal';

export interface SipStatus {
  status: number;
  reason: string;
}

const STATUS_BY_CAUSE: Record<GatewayCause, SipStatus> = {
  busy: { status: 486, reason: 'Busy Here' },
  declined: { status: 603, reason: 'Decline' },
  'no-answer': { status: 480, reason: 'Temporarily Unavailable' },
  timeout: { status: 408, reason: 'Request Timeout' },
  unreachable: { status: 503, reason: 'Service Unavailable' },
  rejected: { status: 403, reason: 'Forbidden' },
  cancelled: { status: 487, reason: 'Request Terminated' },
  'auth-failed': { status: 403, reason: 'Forbidden' },
  'not-found': { status: 404, reason: 'Not Found' },
  forbidden: { status: 403, reason: 'Forbidden' },
  'unsupported-media': { status: 488, reason: 'Not Acceptable Here' },
  overloaded: { status: 503, reason: 'Service Unavailable' },
  internal: { status: 500, reason: 'Server Internal Error' },
};

/** The SIP final response for a cause (or the status a SipError carries). */
export function toSipStatus(cause: GatewayCause | SipError): SipStatus {
  if (cause instanceof SipError) return { status: cause.status, reason: cause.reason };
  return { ...STATUS_BY_CAUSE[cause] };
}

/** The cause of a final failure response received from the far end (RFC 3261 §21). */
export function causeFromStatus(status: number): CallCause {
  if (status === 486 || status === 600) return 'busy';
  if (status === 603) return 'declined';
  if (status === 480) return 'no-answer';
  if (status === 408) return 'timeout';
  if (status === 487) return 'cancelled';
  if (status === 401 || status === 407) return 'auth-failed';
  if (status === 502 || status === 503 || status === 504) return 'unreachable';
  return 'rejected';
}

/** Standard reason phrases for the statuses we send, so callers may pass a status alone. */
export const REASON_PHRASES: Readonly<Record<number, string>> = {
  100: 'Trying',
  180: 'Ringing',
  183: 'Session Progress',
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  480: 'Temporarily Unavailable',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  487: 'Request Terminated',
  488: 'Not Acceptable Here',
  491: 'Request Pending',
  500: 'Server Internal Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  603: 'Decline',
};

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? '';
}
