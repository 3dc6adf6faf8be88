import { createCipheriv, randomBytes } from 'node:crypto';
import { AesGcm, writeCounterBlocks } from './aes-gcm';

function nodeSeal(key: Buffer, iv: Buffer, aad: Buffer, pt: Buffer): Buffer {
  const c = createCipheriv('aes-128-gcm', key, iv);
  c.setAAD(aad);
  const ct = c.update(pt);
  c.final();
  return Buffer.concat([ct, c.getAuthTag()]);
}

describe('AesGcm', () => {
  it('matches node:crypto AES-128-GCM for payloads of 0..200 bytes and headers of 0..40 bytes', () => {
    for (let n = 0; n <= 200; n += 1) {
      const key = randomBytes(16);
      const iv = randomBytes(12);
      const aad = randomBytes(n % 41);
      const pt = randomBytes(n);
      const out = Buffer.alloc(n + 16);
      new AesGcm(key).seal(iv, aad, pt, out, 0);
      expect(out.toString('hex')).toBe(nodeSeal(key, iv, aad, pt).toString('hex'));
    }
  });

  it('NIST GCM test case 4 (60-byte plaintext, 20-byte AAD)', () => {
    const key = Buffer.from('feffe9928665731c6d6a8f9467308308', 'hex');
    const iv = Buffer.from('cafebabefacedbaddecaf888', 'hex');
    const pt = Buffer.from('d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39', 'hex');
    const aad = Buffer.from('feedfacedeadbeeffeedfacedeadbeefabaddad2', 'hex');
    const out = Buffer.alloc(pt.length + 16);
    new AesGcm(key).seal(iv, aad, pt, out, 0);
    expect(out.subarray(pt.length).toString('hex')).toBe('5bc94fbc3221a5db94fae95ae7121a47');
    expect(out.subarray(0, 8).toString('hex')).toBe('42831ec221777424');
  });

  it('opens what it sealed in place, and refuses a tampered ciphertext, AAD or tag without decrypting', () => {
    const gcm = new AesGcm(randomBytes(16));
    const iv = randomBytes(12);
    const aad = randomBytes(12);
    const pt = randomBytes(77);
    const sealed = Buffer.alloc(pt.length + 16);
    gcm.seal(iv, aad, pt, sealed, 0);
    const ct = Buffer.from(sealed.subarray(0, pt.length));
    const tag = sealed.subarray(pt.length);
    const tampered = Buffer.from(ct);
    tampered[5] = (tampered[5] as number) ^ 0x40;
    expect(gcm.openInPlace(iv, aad, tampered, tag)).toBe(false);
    expect(tampered.equals(Buffer.from(ct).fill(ct[5] as number ^ 0x40, 5, 6))).toBe(true); // untouched
    const badAad = Buffer.from(aad);
    badAad[0] = (badAad[0] as number) ^ 1;
    expect(gcm.openInPlace(iv, badAad, Buffer.from(ct), tag)).toBe(false);
    expect(gcm.openInPlace(iv, aad, ct, tag)).toBe(true);
    expect(ct.equals(pt)).toBe(true);
  });

  it('seals and opens a packet whose AAD is its own header with a keystream made beforehand (encryptBlocks, sealWith / openWith), as node:crypto does', () => {
    const key = randomBytes(16);
    const gcm = new AesGcm(key);
    for (const [hdr, n] of [[12, 0], [12, 1], [12, 77], [16, 160], [28, 33]] as const) {
      const iv = randomBytes(12);
      const header = randomBytes(hdr);
      const pt = randomBytes(n);
      const packet = Buffer.alloc(hdr + n + 16);
      header.copy(packet);
      // the packet's slice sits after another's in the keystream buffer, as in an SRTP run
      const blocks = Buffer.alloc(16 * (3 + 1 + Math.ceil(n / 16)));
      writeCounterBlocks(blocks, 48, iv, 1 + Math.ceil(n / 16));
      const ks = gcm.encryptBlocks(blocks);
      gcm.sealWith(ks, 48, packet, hdr, pt);
      expect(packet.subarray(0, hdr).equals(header)).toBe(true);
      expect(packet.subarray(hdr).toString('hex')).toBe(nodeSeal(key, iv, header, pt).toString('hex'));
      const tampered = Buffer.from(packet);
      tampered[0] = (tampered[0] as number) ^ 1;
      expect(gcm.openWith(ks, 48, tampered, hdr, hdr + n)).toBe(false);
      expect(tampered.subarray(hdr, hdr + n).equals(packet.subarray(hdr, hdr + n))).toBe(true); // untouched
      expect(gcm.openWith(ks, 48, packet, hdr, hdr + n)).toBe(true);
      expect(packet.subarray(hdr, hdr + n).equals(pt)).toBe(true);
    }
  });
});
