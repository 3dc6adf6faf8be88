/**
 * Errors of the emulator core. `GraphError` is what Meta's Graph API would answer (reference §3.5, §7):
 * the HTTP layer writes it as `{ error: { message, type, code, error_subcode?, fbtrace_id, error_data? } }`.
 * `ControlError` is a refusal of the emulator's own control API (/emulator/*).
 */

export abstract class EmulatorError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export interface GraphErrorData {
  details: string;
  [key: string]: unknown;
}

export class GraphError extends EmulatorError {
  readonly code = 'WA_EMULATOR_GRAPH_ERROR' as const;
  constructor(
    /** Meta's numeric error code (reference §7). */
    readonly metaCode: number,
    readonly httpStatus: number,
    message: string,
    readonly errorData?: GraphErrorData,
    readonly type: string = 'OAuthException',
    readonly subcode?: number,
  ) {
    super(message);
  }
}

/** 100 / HTTP 400: invalid parameter; the reason goes into error_data.details (TS-2512). */
export function invalidParameter(details: string, extra: Record<string, unknown> = {}): GraphError {
  return new GraphError(100, 400, '(#100) Invalid parameter', { details, ...extra });
}

export function noCallPermission(waId: string): GraphError {
  return new GraphError(138006, 401, 'No approved call permission from the recipient', {
    details: `No approved call permission found for user ${waId}`,
  });
}

export function duplicateCall(waId: string): GraphError {
  return new GraphError(138003, 400, 'Duplicate call', { details: `A call with user ${waId} is already in progress` });
}

/** 138012: error_data carries the next allowed time (TS-2512), here as Unix seconds and ISO text. */
export function dailyCallCap(cap: number, nextAllowedAtMs: number): GraphError {
  const seconds = Math.floor(nextAllowedAtMs / 1000);
  return new GraphError(138012, 400, 'Business initiated connected call limit reached', {
    details: `Reached the limit of ${cap} connected business initiated calls per 24 hours with this user. Next call allowed at ${new Date(nextAllowedAtMs).toISOString()}`,
    next_allowed_call_time: seconds,
  });
}

export function permissionRequestLimit(details: string): GraphError {
  return new GraphError(138009, 400, 'Call permission request limit reached', { details });
}

export function permanentPermissionExists(waId: string): GraphError {
  return new GraphError(138017, 400, 'Permanent call permission already exists', {
    details: `User ${waId} has already granted permanent call permission`,
  });
}

/**
 * 131009 / HTTP 400: the interactive `voice_call` type is not supported, depending on the sender's country
 * (reference §3.8, §7; TS-2512). The emulator answers it for a user whose behaviour has `callButtons: false`.
 */
export function voiceCallNotSupported(waId: string): GraphError {
  return new GraphError(131009, 400, 'Interactive voice_call not supported for the sender country', {
    details: `The interactive voice_call message type is not supported for user ${waId} (it depends on the sender's country)`,
  });
}

export function callingNotEnabled(): GraphError {
  return new GraphError(138000, 401, 'Calling is not enabled for this phone number', {
    details: 'Enable calling with POST /<PHONE_NUMBER_ID>/settings',
  });
}

export function sipEnabledNumber(): GraphError {
  return new GraphError(131055, 400, 'Calling API is not available for SIP enabled phone numbers', {
    details: 'SIP is enabled on this phone number; use SIP signaling',
  });
}

export function invalidToken(): GraphError {
  return new GraphError(190, 401, 'Invalid OAuth access token - Cannot parse access token');
}

/** 100 / HTTP 400, subcode 33: Graph's answer for an id it does not know (a phone number id, a media id). */
export function unknownObject(id: string, method: 'get' | 'post' = 'post'): GraphError {
  return new GraphError(
    100,
    400,
    `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
    undefined,
    'GraphMethodException',
    33,
  );
}

/**
 * A media download URL the emulated lookaside server refuses (HTTP 404): a signature that does not match, a
 * URL past its 5 minutes, or media that is gone. Not a Graph error: the download host is not the Graph API.
 */
export class MediaLinkError extends EmulatorError {
  readonly code = 'WA_EMULATOR_MEDIA_LINK_ERROR' as const;
  readonly httpStatus = 404 as const;
}

export type ControlErrorKind = 'not_found' | 'conflict' | 'invalid';

/** A control-API request the emulator cannot honour (404 / 409 / 400). */
export class ControlError extends EmulatorError {
  readonly code = 'WA_EMULATOR_CONTROL_ERROR' as const;
  constructor(
    readonly kind: ControlErrorKind,
    message: string,
  ) {
    super(message);
  }
}
