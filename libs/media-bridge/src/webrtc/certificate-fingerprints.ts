import { RTCCertificate } from 'werift';

type GetFingerprints = RTCCertificate['getFingerprints'];

let applied = false;

/**
 * werift computes a certificate's fingerprint by parsing its PEM again (ASN.1, X.509) each time a peer
 * connection writes its SDP (`localParameters`): ~0.26 ms of the media app's CPU per call for a value that
 * never changes (every leg shares the process's one certificate). The fingerprints are kept per certificate
 * object after the first call; callers get a new array of the same (immutable) fingerprint objects.
 * Patched once per process, like the other werift adjustments in peerConfig.
 */
export function memoizeCertificateFingerprints(): void {
  if (applied) return;
  applied = true;
  const compute: GetFingerprints = RTCCertificate.prototype.getFingerprints;
  const known = new WeakMap<RTCCertificate, ReturnType<GetFingerprints>>();
  RTCCertificate.prototype.getFingerprints = function memoized(this: RTCCertificate): ReturnType<GetFingerprints> {
    let fingerprints = known.get(this);
    if (!fingerprints) {
      fingerprints = compute.call(this);
      known.set(this, fingerprints);
    }
    return [...fingerprints];
  };
}
