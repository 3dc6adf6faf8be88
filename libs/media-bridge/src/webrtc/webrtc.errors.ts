/**
 * Typed errors of the WhatsApp (WebRTC) leg (STYLE §5): conditions a caller may handle carry a literal
 * `code`. Misuse of the API (bad arguments) stays a plain Error/RangeError.
 */
export abstract class WaLegError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An operation the leg's current state or role does not allow (applyAnswer on an answering leg, ...). */
export class WaLegStateError extends WaLegError {
  readonly code = 'WA_LEG_INVALID_STATE' as const;
  constructor(
    readonly operation: string,
    readonly state: string,
  ) {
    super(`${operation} is not allowed in state ${state}`);
  }
}

/** A remote SDP the leg cannot use, or a local one that would break Meta's rules (reference §6.1). */
export class SdpRejectedError extends WaLegError {
  readonly code = 'WA_SDP_REJECTED' as const;
  constructor(
    readonly problems: readonly string[],
    readonly side: 'remote' | 'local',
  ) {
    super(`${side} SDP rejected: ${problems.join('; ')}`);
  }
}

/** The leg failed (ICE/DTLS did not connect in time, or the connection failed) before it could be used. */
export class WaLegFailedError extends WaLegError {
  readonly code = 'WA_LEG_FAILED' as const;
  constructor(readonly reason: string) {
    super(`WhatsApp leg failed: ${reason}`);
  }
}
