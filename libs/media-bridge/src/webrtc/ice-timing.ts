import { dirname, join } from 'node:path';

/** First retransmission timeout of a STUN connectivity check, in ms (werift ships 50). */
export const ICE_CHECK_RTO_MS = 200;

let applied = false;

/**
 * werift times out a connectivity check after 5 tries starting at a 50 ms RTO (~1.5 s in all) and then
 * fails the pair at once. A peer whose answers are late by more than that (a busy event loop, or a far
 * relay: RFC 8445 §14.3 asks for an RTO of at least 500 ms with few pairs) fails ICE while it was only slow;
 * seen here as "ICE/DTLS connection failed" ~1 s into a call on a loaded machine. A 200 ms first RTO
 * (~6 s over 5 tries) keeps pacing quick on loss and stays inside media.iceConnectTimeoutMs.
 *
 * The value is a module-level setting of werift's STUN layer (not exported through its package `exports`),
 * set once per process through the file next to the resolved entry point.
 */
export function configureIceCheckTiming(): void {
  if (applied) return;
  applied = true;
  const stunConst = join(dirname(require.resolve('werift')), '..', '..', 'ice-server', 'src', 'stun', 'const.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- werift keeps this module out of its exports map
  const mod = require(stunConst) as { RETRY_RTO: number };
  mod.RETRY_RTO = ICE_CHECK_RTO_MS;
}
