import { KeyObject, createECDH, createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type ECDH } from 'node:crypto';
import { weriftModule } from './werift-internals';

/** werift's `NamedCurveAlgorithm` values (the TLS supported-groups code points, RFC 8422 §5.1.1). */
export const SECP256R1 = 23;
export const X25519 = 29;

interface KeyPair {
  curve: number;
  privateKey: Buffer;
  publicKey: Buffer;
}
interface NamedCurveModule {
  generateKeyPair(namedCurve: number): KeyPair;
}
interface PrfModule {
  prfPreMasterSecret(publicKey: Buffer, privateKey: Buffer, curve: number): Buffer;
}

const RAW_KEY_BYTES = 32;

/**
 * The node:crypto object behind each private key this module handed out, so the shared secret does not
 * import the key again. Keyed by the Buffer werift keeps in its cipher context; a key from elsewhere is
 * imported again (slowly: OpenSSL 3's decoder takes ~0.34 ms for an X25519 PKCS#8 key). Peer keys come in
 * as JWK, which node:crypto builds directly (~6 µs against ~80 µs through the DER decoder).
 */
const issued = new WeakMap<Buffer, ECDH | KeyObject>();

/**
 * An ephemeral key pair as werift's DTLS layer holds it: P-256 as the raw 32-byte scalar and the 65-byte
 * uncompressed point, X25519 as the raw 32-byte private and public keys.
 */
export function nativeKeyPair(namedCurve: number): KeyPair {
  switch (namedCurve) {
    case SECP256R1: {
      const ecdh = createECDH('prime256v1');
      const publicKey = ecdh.generateKeys();
      // node gives the scalar without its leading zero bytes (1 key in 256 is shorter); werift's is 32 bytes
      const privateKey = fixedLength(ecdh.getPrivateKey(), RAW_KEY_BYTES);
      issued.set(privateKey, ecdh);
      return { curve: namedCurve, privateKey, publicKey };
    }
    case X25519: {
      const keys = generateKeyPairSync('x25519');
      const jwk = keys.privateKey.export({ format: 'jwk' });
      const privateKey = Buffer.from(jwk.d ?? '', 'base64url');
      issued.set(privateKey, keys.privateKey);
      return { curve: namedCurve, privateKey, publicKey: Buffer.from(jwk.x ?? '', 'base64url') };
    }
    default:
      // werift throws a bare Error here too; its server only selects curves from its own list
      throw new Error(`DTLS key exchange: unsupported named curve ${namedCurve}`);
  }
}

/** `bytes` left-padded with zeros to `length` (a big-endian integer's fixed-width encoding). */
function fixedLength(bytes: Buffer, length: number): Buffer {
  if (bytes.length >= length) return bytes;
  const out = Buffer.alloc(length);
  bytes.copy(out, length - bytes.length);
  return out;
}

function p256Agreement(privateKey: Buffer): ECDH {
  const known = issued.get(privateKey);
  if (known && !(known instanceof KeyObject)) return known;
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(privateKey);
  return ecdh;
}

/** PKCS#8 wrapper of a raw 32-byte X25519 private key (RFC 8410 §7). */
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

function x25519PrivateKey(privateKey: Buffer): KeyObject {
  const known = issued.get(privateKey);
  if (known instanceof KeyObject) return known;
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, privateKey]), format: 'der', type: 'pkcs8' });
}

/**
 * The ECDHE shared secret (the pre-master secret): for P-256 the x coordinate of the shared point (an
 * invalid peer point throws, as werift's own code does); for X25519 the 32-byte result, all zeros when
 * the peer sent a low-order point or a key of the wrong length (OpenSSL refuses such a result, tweetnacl
 * returns zeros: the handshake then fails at the Finished check, as before, instead of an exception inside
 * werift's record handler).
 */
export function nativePreMasterSecret(publicKey: Buffer, privateKey: Buffer, curve: number): Buffer {
  switch (curve) {
    case SECP256R1:
      return p256Agreement(privateKey).computeSecret(publicKey);
    case X25519: {
      if (publicKey.length !== RAW_KEY_BYTES || privateKey.length !== RAW_KEY_BYTES) return Buffer.alloc(RAW_KEY_BYTES);
      try {
        const peerKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: publicKey.toString('base64url') }, format: 'jwk' });
        return diffieHellman({ privateKey: x25519PrivateKey(privateKey), publicKey: peerKey });
      } catch {
        return Buffer.alloc(RAW_KEY_BYTES);
      }
    }
    default:
      throw new Error(`DTLS key exchange: unsupported named curve ${curve}`);
  }
}

let applied = false;

/**
 * werift does its DTLS ECDHE in JavaScript: X25519 with tweetnacl (~0.6 ms for the key pair and ~0.56 ms
 * for the shared secret on this machine) and P-256 with @noble/curves (~0.25 ms and ~2.45 ms). That is
 * 1.2-2.7 ms of one core per handshake side, while OpenSSL through node:crypto does both in ~0.15 ms (key
 * import and export included).
 * The two functions the handshake flights call (through the modules' exports, at call time) are swapped
 * for node:crypto ones with the same inputs and outputs (same curves, same raw key encodings).
 *
 * Patched once per process (werift keeps the modules private: weriftModule).
 */
export function useNativeKeyExchange(): void {
  if (applied) return;
  applied = true;
  const namedCurve = weriftModule<NamedCurveModule>('dtls', 'cipher', 'namedCurve.js');
  const prf = weriftModule<PrfModule>('dtls', 'cipher', 'prf.js');
  namedCurve.generateKeyPair = nativeKeyPair;
  prf.prfPreMasterSecret = nativePreMasterSecret;
}
