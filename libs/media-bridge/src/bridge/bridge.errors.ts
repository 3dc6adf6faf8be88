/** Typed errors of the audio bridge (STYLE §5). */

export abstract class BridgeError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** DTMF toward a side that did not negotiate telephone-event (use SIP INFO there instead). */
export class DtmfNotNegotiatedError extends BridgeError {
  readonly code = 'DTMF_NOT_NEGOTIATED' as const;
  constructor(readonly side: 'wa' | 'pbx') {
    super(`the ${side} side has no telephone-event payload type`);
  }
}

/** The bridge was closed before the operation completed. */
export class BridgeClosedError extends BridgeError {
  readonly code = 'BRIDGE_CLOSED' as const;
  constructor() {
    super('the audio bridge is closed');
  }
}
