import { EmulatorError } from '../domain/emulator.errors';

/** The phone page did not fulfil a media job in time (no page open with ?media=browser, or it hung). */
export class BrowserJobTimeoutError extends EmulatorError {
  readonly code = 'WA_EMULATOR_BROWSER_JOB_TIMEOUT' as const;
  constructor(
    readonly waId: string,
    readonly kind: string,
    readonly timeoutMs: number,
    pageConnected: boolean,
  ) {
    super(
      `the phone page of user ${waId} did not fulfil "${kind}" within ${timeoutMs} ms` +
        (pageConnected ? '' : ` (no page is open: open /phone/${waId}?media=browser)`),
    );
  }
}

/** The page reported that its RTCPeerConnection could not do the job (e.g. setRemoteDescription threw). */
export class BrowserJobFailedError extends EmulatorError {
  readonly code = 'WA_EMULATOR_BROWSER_JOB_FAILED' as const;
  constructor(
    readonly kind: string,
    readonly reason: string,
  ) {
    super(`the browser could not ${kind}: ${reason}`);
  }
}

/** A job that can no longer complete: the call's media was closed or the emulator is shutting down. */
export class BrowserJobCancelledError extends EmulatorError {
  readonly code = 'WA_EMULATOR_BROWSER_JOB_CANCELLED' as const;
  constructor(kind: string, reason: string) {
    super(`"${kind}" cancelled: ${reason}`);
  }
}

/** An operation a browser-backed user cannot do (playWav of a server path, recording). */
export class BrowserMediaUnsupportedError extends EmulatorError {
  readonly code = 'WA_EMULATOR_BROWSER_UNSUPPORTED' as const;
  constructor(operation: string) {
    super(`${operation} is not supported when the user's media is the browser (media mode "browser")`);
  }
}
