import { weriftModule } from './werift-internals';

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
 * The value is a module-level setting of werift's STUN layer, set once per process (werift keeps the module
 * private: weriftModule).
 */
export function configureIceCheckTiming(): void {
  if (applied) return;
  applied = true;
  const mod = weriftModule<{ RETRY_RTO: number }>('ice-server', 'stun', 'const.js');
  mod.RETRY_RTO = ICE_CHECK_RTO_MS;
}
