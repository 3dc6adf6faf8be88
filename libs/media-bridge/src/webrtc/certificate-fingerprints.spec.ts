import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSelfSignedCert } from '@wagw/testing';
import { RTCCertificate, RTCDtlsTransport } from 'werift';
import { memoizeCertificateFingerprints } from './certificate-fingerprints';

describe('memoizeCertificateFingerprints', () => {
  it("returns the certificate's SHA-256 fingerprint, the same after the first call, in a new array each time", async () => {
    const cert = await RTCDtlsTransport.SetupCertificate();
    const before = cert.getFingerprints();
    memoizeCertificateFingerprints();
    const first = cert.getFingerprints();
    expect(first).toEqual(before);
    expect(first).toEqual([{ algorithm: 'sha-256', value: new X509Certificate(cert.certPem).fingerprint256 }]);
    const again = cert.getFingerprints();
    expect(again).not.toBe(first); // a caller changing its array changes nothing here
    again.pop();
    expect(cert.getFingerprints()).toEqual(first);
  });

  it('keeps the fingerprints of each certificate apart', async () => {
    memoizeCertificateFingerprints();
    const dir = mkdtempSync(join(tmpdir(), 'wagw-fingerprints-'));
    try {
      const certs = [];
      for (const name of ['a', 'b']) {
        mkdirSync(join(dir, name));
        const pem = await createSelfSignedCert(join(dir, name));
        const certPem = readFileSync(pem.cert, 'utf8');
        certs.push({ cert: new RTCCertificate(readFileSync(pem.key, 'utf8'), certPem, (await RTCDtlsTransport.SetupCertificate()).signatureHash), expected: new X509Certificate(certPem).fingerprint256 });
      }
      for (let round = 0; round < 2; round++) {
        for (const { cert, expected } of certs) expect(cert.getFingerprints()[0]?.value).toBe(expected);
      }
      expect(certs[0]?.expected).not.toBe(certs[1]?.expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
