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

export class LegNotFoundError extends MediaAppError {
  readonly code = 'LEG_NOT_FOUND' as const;
  constructor(
    readonly callId: string,
    readonly legId: string,
  ) {
    super(`no WhatsApp leg ${legId} for call ${callId}`);
  }
}

/** The app is draining for shutdown: no new legs. */
export class ShuttingDownError extends MediaAppError {
  readonly code = 'MEDIA_SHUTTING_DOWN' as const;
  constructor() {
    super('the media app is shutting down and takes no new legs');
  }
}
