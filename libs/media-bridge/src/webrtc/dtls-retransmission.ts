import { weriftModule } from './werift-internals';

interface Flight3Like {
  dtls: { flight: number };
}
interface Flight3Module {
  Flight3: { prototype: { exec(this: Flight3Like, verifyRequest: unknown): Promise<void> } };
}

let applied = false;

/**
 * werift's DTLS client fails the whole handshake when a second HelloVerifyRequest arrives: its flight 3
 * throws if it already runs (and one arriving later still would restart the handshake from flight 3).
 * A second one is normal on a busy machine: the ClientHello is retransmitted after 500 ms without an
 * answer, the server answers both, and the call ends with "ICE connected, DTLS failed as client" (seen
 * here about once in 30 calls while the event loop stalls for up to 0.7 s; once in CI). RFC 6347 §4.2.4:
 * a duplicate of a message already answered is no reason to fail; the ClientHello with the cookie is
 * already on its way and retransmitted by flight 3's own timer. So a HelloVerifyRequest that arrives once
 * flight 3 has started is ignored (werift 0.24 and 0.25 both have the throw).
 *
 * Patched once per process (werift keeps the flight's module private: weriftModule).
 */
export function ignoreRepeatedHelloVerifyRequests(): void {
  if (applied) return;
  applied = true;
  const { Flight3 } = weriftModule<Flight3Module>('dtls', 'flight', 'client', 'flight3.js');
  const exec = Flight3.prototype.exec;
  Flight3.prototype.exec = function execOnce(this: Flight3Like, verifyRequest: unknown): Promise<void> {
    if (this.dtls.flight >= 3) return Promise.resolve();
    return exec.call(this, verifyRequest);
  };
}
