/**
 * Typed errors of the RTP side of the media bridge (STYLE §5): conditions a caller may handle carry a
 * literal `code`. Plain `Error`/`TypeError`/`RangeError` remain for bugs (misuse of an API).
 */

/** Base of every error of the RTP/UDP leg a caller may handle. */
export abstract class RtpError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Bytes that are not a well-formed RTP or RTCP packet (RFC 3550 §5.1, §6.4). */
export class RtpParseError extends RtpError {
  readonly code = 'RTP_PARSE' as const;
}

/** No even/odd port pair of the configured range could be bound (all in use, or taken by other processes). */
export class PortRangeExhaustedError extends RtpError {
  readonly code = 'PORT_RANGE_EXHAUSTED' as const;
  constructor(
    readonly portMin: number,
    readonly portMax: number,
  ) {
    super(`no free RTP/RTCP port pair in ${portMin}-${portMax}`);
  }
}
