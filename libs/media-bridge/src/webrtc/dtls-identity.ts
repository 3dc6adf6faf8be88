import { createPrivateKey, createSign, type KeyObject } from 'node:crypto';
import { weriftModule } from './werift-internals';

/** The parts of @fidm/x509's PrivateKey that werift's cipher context uses. */
interface ParsedPrivateKey {
  toDER(): Buffer;
  sign(data: Buffer, hashAlgorithm: string): Buffer;
}
interface CipherContextLike {
  localCert?: Buffer;
  localPrivateKey?: ParsedPrivateKey;
  signatureHashAlgorithm?: unknown;
}
interface CipherContextModule {
  CipherContext: {
    prototype: {
      parseX509(this: CipherContextLike, certPem: string | Buffer, keyPem: string | Buffer, signatureHash: unknown): void;
      signatureData(this: CipherContextLike, data: Buffer, hash: string): Buffer;
    };
  };
}

interface Identity {
  cert: Buffer;
  key: ParsedPrivateKey;
}

/** One certificate per process in practice; a few more (tests, a rotation) still fit. */
const MAX_IDENTITIES = 8;

/**
 * Signs with a key object node:crypto imported once, for keys createSign takes with a digest (EC, RSA);
 * any other kind keeps the library's own signer.
 */
export function signingWithImportedKey(key: ParsedPrivateKey): ParsedPrivateKey {
  const keyObject: KeyObject = createPrivateKey({ key: key.toDER(), format: 'der', type: 'pkcs8' });
  if (keyObject.asymmetricKeyType !== 'ec' && keyObject.asymmetricKeyType !== 'rsa') return key;
  key.sign = (data: Buffer, hashAlgorithm: string): Buffer => createSign(hashAlgorithm).update(data).sign(keyObject);
  return key;
}

let applied = false;

/**
 * Every DTLS socket werift opens builds a cipher context that parses the process's certificate and key
 * from PEM again in JavaScript (@fidm/x509's ASN.1), and each handshake signs once (the server's
 * ServerKeyExchange, the client's CertificateVerify) through createSign(...).sign(pem), which makes OpenSSL
 * decode the PEM key again. Measured here on an in-memory werift client/server pair (warmed up, with the
 * native key exchange): 4.6-5.3 ms of CPU per handshake pair before, 3.1-4.0 with this. The parsed
 * certificate and key are kept per (certificate, key) PEM pair and shared by the contexts (werift copies the
 * certificate bytes before sending, and reads the key only to sign), and the key signs with a node:crypto
 * key object imported once. Signatures are the same DER-encoded ECDSA (or RSA PKCS#1 v1.5) as before.
 *
 * Patched once per process (werift keeps the module private: weriftModule).
 */
export function reuseDtlsIdentity(): void {
  if (applied) return;
  applied = true;
  const { CipherContext } = weriftModule<CipherContextModule>('dtls', 'context', 'cipher.js');
  const parse = CipherContext.prototype.parseX509;
  const identities = new Map<string, Identity>();
  CipherContext.prototype.parseX509 = function parseOnce(this: CipherContextLike, certPem, keyPem, signatureHash): void {
    const id = `${String(certPem)}\n${String(keyPem)}`;
    let identity = identities.get(id);
    if (!identity) {
      parse.call(this, certPem, keyPem, signatureHash);
      if (!this.localCert || !this.localPrivateKey) return;
      identity = { cert: this.localCert, key: signingWithImportedKey(this.localPrivateKey) };
      if (identities.size >= MAX_IDENTITIES) identities.clear();
      identities.set(id, identity);
    }
    this.localCert = identity.cert;
    this.localPrivateKey = identity.key;
    this.signatureHashAlgorithm = signatureHash;
  };
  CipherContext.prototype.signatureData = function signatureData(this: CipherContextLike, data: Buffer, hash: string): Buffer {
    if (!this.localPrivateKey) throw new Error('DTLS: no private key to sign the CertificateVerify with');
    return this.localPrivateKey.sign(data, hash);
  };
}
