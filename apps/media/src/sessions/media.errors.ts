/**
 * Errors of the media app a caller (signalling, over the bus) may handle; each carries a literal `code`
 * that the bus reply keeps.
 */
export abstract class MediaAppError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** No leg of that id under that call (WhatsApp or PBX side). */
export class LegNotFoundError extends MediaAppError {
  readonly code = 'LEG_NOT_FOUND' as const;
  constructor(
    readonly callId: string,
    readonly legId: string,
    readonly side: 'WhatsApp' | 'PBX' = 'WhatsApp',
  ) {
    super(`no ${side} leg ${legId} for call ${callId}`);
  }
}

/** The app is draining for shutdown: no new legs. */
export class ShuttingDownError extends MediaAppError {
  readonly code = 'MEDIA_SHUTTING_DOWN' as const;
  constructor() {
    super('the media app is shutting down and takes no new legs');
  }
}

/** The app carries media.maxCalls calls already: a new call is refused (its other calls keep their quality). */
export class MediaAtCapacityError extends MediaAppError {
  readonly code = 'MEDIA_AT_CAPACITY' as const;
  constructor(readonly maxCalls: number) {
    super(`the media app carries its maximum of ${maxCalls} calls (media.maxCalls)`);
  }
}

/** The PBX's SDP has nothing we can use (unparseable, no plain RTP audio, no codec in common: RFC 3264 §6). */
export class SdpNotAcceptableError extends MediaAppError {
  readonly code = 'SDP_NOT_ACCEPTABLE' as const;
  constructor(readonly detail: string) {
    super(`PBX SDP not acceptable: ${detail}`);
  }
}

/** The PBX leg has no negotiated codec yet (its offer was not answered): nothing to bridge. */
export class PbxLegNotNegotiatedError extends MediaAppError {
  readonly code = 'PBX_LEG_NOT_NEGOTIATED' as const;
  constructor(readonly legId: string) {
    super(`PBX leg ${legId} has no negotiated codec yet (apply the PBX answer first)`);
  }
}

/** The PBX leg already has its remote description (a second answer, or an answer to the PBX's own offer). */
export class PbxLegStateError extends MediaAppError {
  readonly code = 'PBX_LEG_INVALID_STATE' as const;
  constructor(
    readonly legId: string,
    readonly operation: string,
  ) {
    super(`cannot ${operation} on PBX leg ${legId}: already negotiated`);
  }
}

/** No bridge runs for the call (sendDtmf before startBridge, or after a leg closed). */
export class BridgeNotFoundError extends MediaAppError {
  readonly code = 'BRIDGE_NOT_FOUND' as const;
  constructor(readonly callId: string) {
    super(`no media bridge for call ${callId}`);
  }
}
