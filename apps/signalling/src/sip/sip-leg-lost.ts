import type { CallEndedEvent } from '@wagw/sip';

/** A SIP leg that ended without us hanging it up: the call it carried must end too. */
export interface SipLegLost {
  /** For the CDR's `sipCause`: `BYE`, `BYE (Q.850 16)`, `session timer expired`. */
  sipCause: string;
  /** Set when the far end did not hang up itself (the session timer ran out): the call's cause. */
  cause?: string;
}

/**
 * Tells apart the ends of a SIP leg that the call must follow: the PBX's BYE, a session timer (RFC 4028)
 * that expired (the PBX stopped refreshing, or our refresh got 408/481; the stack sent the BYE), and a
 * reliable 180/183 the PBX never PRACKed (RFC 3262; the stack rejected its INVITE). undefined
 * for ends we caused (our own hangup, shutdown) and for `no-ack`, which callers handle on their own.
 */
export function sipLegLost(e: CallEndedEvent): SipLegLost | undefined {
  if (e.by === 'remote') return { sipCause: e.reason ? `BYE (${e.reason.protocol} ${e.reason.cause})` : 'BYE' };
  if (e.cause === 'no-prack') return { sipCause: 'no PRACK', cause: 'the PBX never acknowledged our reliable provisional response (no PRACK within 32 s, RFC 3262)' };
  if (e.cause === 'session-expired') return { sipCause: 'session timer expired', cause: 'the SIP session was not refreshed in time: the PBX is presumed gone (session timer, RFC 4028)' };
  return undefined;
}
