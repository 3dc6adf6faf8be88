import { randomBytes } from 'node:crypto';
import { RtcpSenderInfo, RtcpSrPacket, SrtcpSession } from 'werift';
import { parseRtcp, serializeRtcp } from '../../rtp/rtcp-packet';
import { SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80, SrtpCrypto, type SrtpProfile } from './srtp-session';
import { SrtcpProtector, SrtcpUnprotector } from './srtcp-session';

const PROFILES: [string, SrtpProfile][] = [
  ['AES_CM_128_HMAC_SHA1_80', SRTP_AES128_CM_HMAC_SHA1_80],
  ['AEAD_AES_128_GCM', SRTP_AEAD_AES_128_GCM],
];

describe.each(PROFILES)('SRTCP %s against werift', (_n, profile) => {
  const keys = (): { a: { key: Buffer; salt: Buffer }; b: { key: Buffer; salt: Buffer } } => {
    const saltLength = profile === SRTP_AEAD_AES_128_GCM ? 12 : 14;
    return { a: { key: randomBytes(16), salt: randomBytes(saltLength) }, b: { key: randomBytes(16), salt: randomBytes(saltLength) } };
  };

  it('decrypts werift sender reports and werift decrypts ours', () => {
    const { a, b } = keys();
    const werift = new SrtcpSession({ keys: { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt }, profile });
    const rx = new SrtcpUnprotector(a, profile);
    const tx = new SrtcpProtector(b, profile);
    for (let i = 0; i < 3; i++) {
      const sr = new RtcpSrPacket({ ssrc: 0x1234, senderInfo: new RtcpSenderInfo({ ntpTimestamp: (BigInt(3900000000 + i) << 32n) | 77n, rtpTimestamp: 960 * i, packetCount: i, octetCount: 60 * i }) });
      const plain = rx.unprotect(Buffer.from(werift.encrypt(sr.serialize())));
      expect(parseRtcp(plain as Buffer)[0]).toMatchObject({ type: 'sr', ssrc: 0x1234, ntpSeconds: 3900000000 + i, ntpFraction: 77, packetCount: i });
      const ours = serializeRtcp([
        { type: 'sr', ssrc: 0x5678, ntpSeconds: 1, ntpFraction: 2, rtpTimestamp: 3, packetCount: 4 + i, octetCount: 5, reports: [] },
        { type: 'sdes', chunks: [{ ssrc: 0x5678, items: [{ type: 1, text: 'cname' }] }] },
      ]);
      expect(Buffer.from(werift.decrypt(tx.protect(ours))).toString('hex')).toBe(ours.toString('hex'));
    }
    expect(rx.rejected).toBe(0);
  });

  it('refuses a tampered packet and a replayed one', () => {
    const { a } = keys();
    const tx = new SrtcpProtector(a, profile);
    const rx = new SrtcpUnprotector(a, profile);
    const rtcp = serializeRtcp([{ type: 'rr', ssrc: 9, reports: [] }]);
    const p1 = tx.protect(rtcp);
    const p2 = tx.protect(rtcp);
    const bad = Buffer.from(p2);
    bad[9] = (bad[9] as number) ^ 1;
    expect(rx.unprotect(bad)).toBeNull();
    expect(rx.unprotect(Buffer.from(p1))?.toString('hex')).toBe(rtcp.toString('hex'));
    expect(rx.unprotect(Buffer.from(p1))).toBeNull();
    expect(rx.unprotect(Buffer.from(p2))?.toString('hex')).toBe(rtcp.toString('hex'));
    expect(rx.rejected).toBe(2);
  });
});

describe('SRTCP with AES_CM_128_HMAC_SHA1_32', () => {
  it('sends an 80-bit tag (RFC 5764 §4.1.2: the 32-bit tag is for SRTP only) and round-trips', () => {
    const master = { key: randomBytes(16), salt: randomBytes(14) };
    expect(new SrtpCrypto(master, SRTP_AES128_CM_HMAC_SHA1_32, 3).tagLength).toBe(10);
    expect(new SrtpCrypto(master, SRTP_AES128_CM_HMAC_SHA1_32, 0).tagLength).toBe(4);
    const rtcp = serializeRtcp([{ type: 'rr', ssrc: 9, reports: [] }]);
    const short = new SrtcpProtector(master, SRTP_AES128_CM_HMAC_SHA1_32).protect(rtcp);
    const long = new SrtcpProtector(master, SRTP_AES128_CM_HMAC_SHA1_80).protect(rtcp);
    expect(short.toString('hex')).toBe(long.toString('hex'));
    expect(new SrtcpUnprotector(master, SRTP_AES128_CM_HMAC_SHA1_32).unprotect(short)?.toString('hex')).toBe(rtcp.toString('hex'));
  });

  it('also takes a 32-bit tag, as baresip and libsrtp-based peers send with this suite; a forged one still fails', () => {
    const master = { key: randomBytes(16), salt: randomBytes(14) };
    const rtcp = serializeRtcp([{ type: 'rr', ssrc: 9, reports: [] }]);
    const rx = new SrtcpUnprotector(master, SRTP_AES128_CM_HMAC_SHA1_32);
    const tx = new SrtcpProtector(master, SRTP_AES128_CM_HMAC_SHA1_80);
    // HMAC-SHA1 truncated to 4 bytes is the first 4 of the 10-byte tag
    const short = (p: Buffer): Buffer => p.subarray(0, p.length - 6);
    expect(rx.unprotect(short(tx.protect(rtcp)))?.toString('hex')).toBe(rtcp.toString('hex'));
    const forged = short(tx.protect(rtcp));
    forged[forged.length - 1] = (forged[forged.length - 1] as number) ^ 1;
    expect(rx.unprotect(forged)).toBeNull();
    expect(new SrtcpUnprotector(master, SRTP_AES128_CM_HMAC_SHA1_80).unprotect(short(tx.protect(rtcp)))).toBeNull();
    expect(rx.rejected).toBe(1);
  });
});
