import { randomBytes } from 'node:crypto';
import { RtpHeader, RtpPacket, SrtpSession } from 'werift';
import { estimateRoc, SRTP_AEAD_AES_128_GCM, SRTP_AES128_CM_HMAC_SHA1_32, SRTP_AES128_CM_HMAC_SHA1_80, SrtpProtector, SrtpUnprotector, type SrtpProfile } from './srtp-session';

/** werift's SRTP (an independent implementation that interoperates with Chrome) as the reference. */
function pair(profile: SrtpProfile): { werift: SrtpSession; ours: { protector: SrtpProtector; unprotector: SrtpUnprotector } } {
  const saltLength = profile === SRTP_AEAD_AES_128_GCM ? 12 : 14;
  const a = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const b = { key: randomBytes(16), salt: randomBytes(saltLength) };
  // werift's local key is what we receive with, its remote key what we send with
  const werift = new SrtpSession({ keys: { localMasterKey: a.key, localMasterSalt: a.salt, remoteMasterKey: b.key, remoteMasterSalt: b.salt }, profile });
  return { werift, ours: { protector: new SrtpProtector(b, profile), unprotector: new SrtpUnprotector(a, profile) } };
}

const PROFILES: [string, SrtpProfile][] = [
  ['AES_CM_128_HMAC_SHA1_80', SRTP_AES128_CM_HMAC_SHA1_80],
  ['AEAD_AES_128_GCM', SRTP_AEAD_AES_128_GCM],
];

describe.each(PROFILES)('SRTP %s against werift', (_name, profile) => {
  const seqs = [65530, 65531, 65532, 65533, 65534, 65535, 0, 1, 2, 3];

  it('decrypts what werift encrypts, across a sequence-number wrap', () => {
    const { werift, ours } = pair(profile);
    for (const [k, seq] of seqs.entries()) {
      const payload = randomBytes(20 + k * 7);
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: 960 * k, ssrc: 0x11223344, marker: k === 0 });
      const got = ours.unprotector.unprotect(Buffer.from(werift.encrypt(payload, header)));
      expect(got).not.toBeNull();
      expect(got).toMatchObject({ payloadType: 111, sequenceNumber: seq, timestamp: 960 * k, ssrc: 0x11223344, marker: k === 0 });
      expect(Buffer.from(got?.payload ?? []).toString('hex')).toBe(payload.toString('hex'));
    }
  });

  it('encrypts what werift decrypts, across a sequence-number wrap', () => {
    const { werift, ours } = pair(profile);
    for (const [k, seq] of seqs.entries()) {
      const payload = randomBytes(33 + k);
      const out = Buffer.alloc(payload.length + ours.protector.overhead);
      const n = ours.protector.protect(out, 126, k === 2, seq, 48000 + k, 0xcafebabe, payload);
      expect(n).toBe(out.length);
      const rtp = RtpPacket.deSerialize(werift.decrypt(out.subarray(0, n)));
      expect(rtp.header).toMatchObject({ payloadType: 126, sequenceNumber: seq, timestamp: 48000 + k, ssrc: 0xcafebabe, marker: k === 2 });
      expect(rtp.payload.toString('hex')).toBe(payload.toString('hex'));
    }
  });

  it('refuses a tampered packet, a replayed one and a truncated one, and counts them', () => {
    const key = randomBytes(16);
    const salt = randomBytes(profile === SRTP_AEAD_AES_128_GCM ? 12 : 14);
    const receiverOfOurs = { tx: new SrtpProtector({ key, salt }, profile), rx: new SrtpUnprotector({ key, salt }, profile) };
    const mk = (seq: number): Buffer => {
      const out = Buffer.alloc(60 + receiverOfOurs.tx.overhead);
      return out.subarray(0, receiverOfOurs.tx.protect(out, 111, false, seq, seq * 960, 7, Buffer.alloc(60, seq & 0xff)));
    };
    const first = mk(100);
    expect(receiverOfOurs.rx.unprotect(Buffer.from(first))).not.toBeNull();
    expect(receiverOfOurs.rx.unprotect(Buffer.from(first))).toBeNull(); // replay
    const tampered = mk(101);
    tampered[20] = (tampered[20] as number) ^ 1;
    expect(receiverOfOurs.rx.unprotect(tampered)).toBeNull();
    expect(receiverOfOurs.rx.unprotect(mk(102).subarray(0, 14))).toBeNull();
    expect(receiverOfOurs.rx).toMatchObject({ replays: 1, authFailures: 1, malformed: 1 });
    expect(receiverOfOurs.rx.unprotect(mk(103))?.sequenceNumber).toBe(103);
  });

  it('takes packets reordered across a wrap (the rollover counter is guessed per packet, RFC 3711 §3.3.1)', () => {
    const key = randomBytes(16);
    const salt = randomBytes(profile === SRTP_AEAD_AES_128_GCM ? 12 : 14);
    const tx = new SrtpProtector({ key, salt }, profile);
    const rx = new SrtpUnprotector({ key, salt }, profile);
    const sent = new Map<number, Buffer>();
    for (const seq of [65533, 65534, 65535, 0, 1, 2]) {
      const out = Buffer.alloc(40 + tx.overhead);
      sent.set(seq, out.subarray(0, tx.protect(out, 111, false, seq, 0, 9, Buffer.alloc(40, seq & 0xff))));
    }
    for (const seq of [65533, 0, 65534, 1, 65535, 2]) {
      const got = rx.unprotect(sent.get(seq) as Buffer);
      expect(got?.sequenceNumber).toBe(seq);
      expect(got?.payload[0]).toBe(seq & 0xff);
    }
    expect(rx.authFailures).toBe(0);
  });
});

describe('SRTP AEAD_AES_128_GCM keystream runs (one cipher call for 16 consecutive packets)', () => {
  // payload sizes that grow (a run restarts with longer slices), one past a run's longest slice (alone)
  const sizeOf = (k: number): number => (k === 37 ? 1100 : 10 + ((k * 37) % 290));

  it('encrypts a long stream across a wrap, with payloads growing and one too long for a run, as werift decrypts', () => {
    const { werift, ours } = pair(SRTP_AEAD_AES_128_GCM);
    for (let k = 0; k < 60; k++) {
      const seq = (65500 + k) & 0xffff;
      const payload = randomBytes(sizeOf(k));
      const out = Buffer.alloc(payload.length + ours.protector.overhead);
      const n = ours.protector.protect(out, 111, false, seq, 960 * k, 0x5555aaaa, payload);
      const rtp = RtpPacket.deSerialize(werift.decrypt(out.subarray(0, n)));
      expect(rtp.header.sequenceNumber).toBe(seq);
      expect(rtp.payload.toString('hex')).toBe(payload.toString('hex'));
    }
  });

  it('decrypts two interleaved SSRCs, packets behind the run, a jump ahead and growing payloads, as werift encrypted them', () => {
    const { werift, ours } = pair(SRTP_AEAD_AES_128_GCM);
    const order: [number, number][] = [];
    for (let k = 0; k < 40; k++) order.push([0x1111, 100 + k], [0x2222, 65530 + k]);
    order.push([0x1111, 60], [0x1111, 2000], [0x1111, 1999], [0x1111, 2001], [0x2222, 65520], [0x2222, 65571], [0x2222, 65572]);
    for (const [i, [ssrc, index]] of order.entries()) {
      const seq = index & 0xffff;
      const payload = randomBytes(sizeOf(i));
      const header = new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: 960 * i, ssrc, marker: false });
      const got = ours.unprotector.unprotect(Buffer.from(werift.encrypt(payload, header)));
      expect(got).toMatchObject({ ssrc, sequenceNumber: seq });
      expect(Buffer.from(got?.payload ?? []).toString('hex')).toBe(payload.toString('hex'));
    }
    expect(ours.unprotector).toMatchObject({ authFailures: 0, replays: 0, malformed: 0 });
  });
});

describe('SRTP AEAD_AES_128_GCM keystream runs after a forged packet far ahead', () => {
  it('refuses the forged packet and goes on decrypting the stream', () => {
    const { werift, ours } = pair(SRTP_AEAD_AES_128_GCM);
    const enc = (seq: number): Buffer => Buffer.from(werift.encrypt(Buffer.alloc(40, seq & 0xff), new RtpHeader({ payloadType: 111, sequenceNumber: seq, timestamp: seq * 960, ssrc: 0x3333, marker: false })));
    for (let seq = 1000; seq < 1010; seq++) expect(ours.unprotector.unprotect(enc(seq))?.sequenceNumber).toBe(seq);
    const forged = enc(30000);
    forged[20] = (forged[20] as number) ^ 1;
    expect(ours.unprotector.unprotect(forged)).toBeNull();
    const replayed = enc(1004); // taken before the forged packet: refused as a replay, not decrypted again
    expect(ours.unprotector.unprotect(replayed)).toBeNull();
    for (let seq = 1010; seq < 1040; seq++) expect(ours.unprotector.unprotect(enc(seq))?.payload[0]).toBe(seq & 0xff);
    expect(ours.unprotector).toMatchObject({ authFailures: 1, replays: 1 });
  });
});

describe('SRTP AES_CM_128_HMAC_SHA1_32 (SDES toward a PBX; werift has no such profile)', () => {
  const master = { key: randomBytes(16), salt: randomBytes(14) };

  it('encrypts as the 80-bit suite does and tags with the first 4 bytes of its HMAC (RFC 3711 §4.2, RFC 4568 §6.2)', () => {
    const long = new SrtpProtector(master, SRTP_AES128_CM_HMAC_SHA1_80);
    const short = new SrtpProtector(master, SRTP_AES128_CM_HMAC_SHA1_32);
    expect(short.overhead).toBe(12 + 4);
    for (const seq of [65534, 65535, 0, 1]) {
      const payload = randomBytes(160);
      const a = Buffer.alloc(payload.length + long.overhead);
      const b = Buffer.alloc(payload.length + short.overhead);
      const na = long.protect(a, 0, false, seq, seq * 160, 0xdeadbeef, payload);
      const nb = short.protect(b, 0, false, seq, seq * 160, 0xdeadbeef, payload);
      expect(nb).toBe(na - 6);
      expect(b.subarray(0, 12 + 160).toString('hex')).toBe(a.subarray(0, 12 + 160).toString('hex'));
      expect(b.subarray(172, 176).toString('hex')).toBe(a.subarray(172, 176).toString('hex'));
    }
  });

  it('round-trips, and refuses a packet tagged for the other suite', () => {
    const tx = new SrtpProtector(master, SRTP_AES128_CM_HMAC_SHA1_32);
    const rx = new SrtpUnprotector(master, SRTP_AES128_CM_HMAC_SHA1_32);
    const payload = randomBytes(160);
    const out = Buffer.alloc(payload.length + tx.overhead);
    const got = rx.unprotect(out.subarray(0, tx.protect(out, 8, true, 7, 1120, 42, payload)));
    expect(got).toMatchObject({ payloadType: 8, marker: true, sequenceNumber: 7, timestamp: 1120, ssrc: 42 });
    expect(Buffer.from(got?.payload ?? []).toString('hex')).toBe(payload.toString('hex'));
    const long = new SrtpProtector(master, SRTP_AES128_CM_HMAC_SHA1_80);
    const other = Buffer.alloc(payload.length + long.overhead);
    expect(rx.unprotect(other.subarray(0, long.protect(other, 8, false, 8, 1280, 42, payload)))).toBeNull();
    expect(rx.authFailures).toBe(1);
  });
});

describe('estimateRoc', () => {
  it('guesses the previous, same or next rollover from the highest sequence number seen', () => {
    expect(estimateRoc(3, 100, 200)).toBe(3);
    expect(estimateRoc(3, 100, 65500)).toBe(2); // late packet from before the wrap
    expect(estimateRoc(3, 65500, 10)).toBe(4); // the wrap itself
    expect(estimateRoc(3, 65500, 65400)).toBe(3);
    expect(estimateRoc(0, 10, 65500)).toBe(0); // nothing before the first rollover
  });
});
