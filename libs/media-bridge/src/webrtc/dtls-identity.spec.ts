import { createPublicKey, createVerify, generateKeyPairSync } from 'node:crypto';
import { RTCDtlsTransport } from 'werift';
import { reuseDtlsIdentity, signingWithImportedKey } from './dtls-identity';
import { inMemoryDtlsHandshake, sameSrtpKeys } from './testing/in-memory-dtls';
import { weriftModule } from './werift-internals';

interface CipherContextInstance {
  localCert: Buffer;
  localPrivateKey: { toDER(): Buffer; sign(data: Buffer, hash: string): Buffer };
  signatureData(data: Buffer, hash: string): Buffer;
}
const { CipherContext } = weriftModule<{
  CipherContext: {
    new (sessionType: number, cert: string, key: string, hash: unknown): CipherContextInstance;
    createSelfSignedCertificateWithKey(signatureHash: { signature: number; hash: number }, curve: number): Promise<{ certPem: string; keyPem: string; signatureHash: unknown }>;
  };
}>('dtls', 'context', 'cipher.js');
const CLIENT = 1;

describe('reuseDtlsIdentity', () => {
  it('keeps the library signer for a key createSign cannot take with a digest (Ed25519)', () => {
    const der = generateKeyPairSync('ed25519').privateKey.export({ format: 'der', type: 'pkcs8' });
    const ownSign = (): Buffer => Buffer.from('library signer');
    const key = { toDER: () => der, sign: ownSign };
    expect(signingWithImportedKey(key).sign).toBe(ownSign);
  });

  it('signs with the imported key: ECDSA signatures verify against the certificate’s public key', async () => {
    const cert = await RTCDtlsTransport.SetupCertificate();
    const before = new CipherContext(CLIENT, cert.certPem, cert.privateKey, cert.signatureHash);
    reuseDtlsIdentity();
    const first = new CipherContext(CLIENT, cert.certPem, cert.privateKey, cert.signatureHash);
    const second = new CipherContext(CLIENT, cert.certPem, cert.privateKey, cert.signatureHash);
    // parsed once, shared; the same certificate bytes as werift's own parse
    expect(second.localPrivateKey).toBe(first.localPrivateKey);
    expect(second.localCert).toBe(first.localCert);
    expect(first.localCert.equals(before.localCert)).toBe(true);

    const data = Buffer.from('handshake messages so far');
    const publicKey = createPublicKey(cert.certPem);
    for (const signature of [first.signatureData(data, 'sha256'), first.localPrivateKey.sign(data, 'sha256'), before.signatureData(data, 'sha256')]) {
      expect(createVerify('sha256').update(data).verify(publicKey, signature)).toBe(true);
      expect(createVerify('sha256').update(Buffer.from('something else')).verify(publicKey, signature)).toBe(false);
    }

    // a second certificate (werift's SetupCertificate keeps one per process): ECDSA with SHA-256 on P-256
    const other = await CipherContext.createSelfSignedCertificateWithKey({ signature: 3, hash: 4 }, 23);
    const third = new CipherContext(CLIENT, other.certPem, other.keyPem, other.signatureHash);
    expect(third.localPrivateKey).not.toBe(first.localPrivateKey);
    expect(createVerify('sha256').update(data).verify(createPublicKey(other.certPem), third.signatureData(data, 'sha256'))).toBe(true);
  });

  it('a werift client and server sharing one certificate complete handshakes (mutual authentication)', async () => {
    reuseDtlsIdentity();
    for (let i = 0; i < 3; i++) {
      const { client, server, errors } = await inMemoryDtlsHandshake();
      expect(errors).toEqual([]);
      expect(sameSrtpKeys(client, server)).toBe(true);
    }
  }, 15_000);
});
