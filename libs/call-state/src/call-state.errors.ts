/**
 * Typed errors of the call-state lib (STYLE §5). Conditions a caller may handle carry a literal `code`;
 * `InvalidTransitionError` marks internal misuse of the state machine (a bug in a use case), as SIP.js does.
 */

/** Base of every error a caller of this lib may handle. */
export abstract class CallStateError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An internal event was applied in a state where it is impossible (external ones are ignored instead). */
export class InvalidTransitionError extends CallStateError {
  readonly code = 'INVALID_TRANSITION' as const;
  constructor(
    readonly from: string,
    readonly event: string,
    detail?: string,
  ) {
    super(`event ${event} is impossible in state ${from}${detail ? `: ${detail}` : ''}`);
  }
}

/** A record was created in, or moved to, a state that is not allowed there (e.g. created in `active`). */
export class InvalidStateError extends CallStateError {
  readonly code = 'INVALID_STATE' as const;
  constructor(
    readonly state: string,
    detail: string,
  ) {
    super(`state ${state}: ${detail}`);
  }
}

/** The compare-and-set lost: the record's version is no longer the one the writer read. */
export class VersionConflictError extends CallStateError {
  readonly code = 'VERSION_CONFLICT' as const;
  constructor(
    readonly callId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`call ${callId}: expected version ${expectedVersion}, found ${actualVersion}`);
  }
}

export class CallNotFoundError extends CallStateError {
  readonly code = 'CALL_NOT_FOUND' as const;
  constructor(readonly callId: string) {
    super(`call ${callId} not found`);
  }
}

export class CallExistsError extends CallStateError {
  readonly code = 'CALL_EXISTS' as const;
  constructor(readonly callId: string) {
    super(`call ${callId} already exists`);
  }
}

/** The WhatsApp call id already maps to another call, or a record's waCallId would change. */
export class WaCallIdConflictError extends CallStateError {
  readonly code = 'WA_CALL_ID_CONFLICT' as const;
  constructor(
    readonly waCallId: string,
    readonly callId: string,
    readonly detail: string,
  ) {
    super(`wa call ${waCallId} cannot be linked to ${callId}: ${detail}`);
  }
}

/** A stored hash that does not validate as a call record (schema drift or a foreign writer). */
export class InvalidCallRecordError extends CallStateError {
  readonly code = 'INVALID_CALL_RECORD' as const;
  constructor(
    readonly callId: string,
    readonly issues: string,
  ) {
    super(`stored call ${callId} is invalid: ${issues}`);
  }
}
