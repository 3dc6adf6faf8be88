/**
 * SRTP for RTP packets (RFC 3711), with the two DTLS-SRTP profiles WebRTC peers negotiate (RFC 5764):
 * SRTP_AES128_CM_HMAC_SHA1_80 (0x0001) and SRTP_AEAD_AES_128_GCM (0x0007, RFC 7714), and, for SDES keys
 * toward a PBX (RFC 4568), SRTP_AES128_CM_HMAC_SHA1_32 (0x0002: a 32-bit SRTP tag; SRTCP keeps 80 bits as
 * RFC 5764 §4.1.2 defines the profile, and takes 32-bit ones too: see srtcp-session.ts). SRTCP is in
 * srtcp-session.ts.
 *
 * Hot-path choices, measured on the media app's profile (werift allocates a native cipher, a native HMAC,
 * a BigInt and several buffers per packet):
 * - AES-CM: one AES-128-ECB cipher per direction, reused, turns the packet's counter blocks into keystream
 *   in one native call; the XOR and the HMAC-SHA1 tag (hmac-sha1.ts) are plain JavaScript.
 * - AES-GCM: aes-gcm.ts (the same reused ECB cipher for the counter blocks, GHASH in JavaScript), because
 *   node:crypto's GCM needs a new stream-based cipher object per packet (its IV changes every packet); the
 *   counter blocks of 16 packets of a stream go through the cipher in one call (`gcmKeystream`).
 * - Receiving decrypts in place in the datagram's own buffer (Node allocates one per datagram) and hands out
 *   a view of it.
 * Packet index (ROC) estimation and the replay window follow RFC 3711 §3.3.1-3.3.2 (werift has no replay
 * protection; its ROC guess ignores reordering across a wrap).
 */
import { createCipheriv, type Cipher } from 'node:crypto';
import { AesGcm, writeCounterBlocks } from './aes-gcm';
import { HmacSha1 } from './hmac-sha1';

export const SRTP_AES128_CM_HMAC_SHA1_80 = 0x0001;
export const SRTP_AES128_CM_HMAC_SHA1_32 = 0x0002;
export const SRTP_AEAD_AES_128_GCM = 0x0007;
export type SrtpProfile = typeof SRTP_AES128_CM_HMAC_SHA1_80 | typeof SRTP_AES128_CM_HMAC_SHA1_32 | typeof SRTP_AEAD_AES_128_GCM;

export interface SrtpMasterKey {
  /** 16 bytes. */
  key: Uint8Array;
  /** 14 bytes (AES-CM) or 12 bytes (GCM). */
  salt: Uint8Array;
}

export interface SrtpSessionKeys {
  key: Buffer;
  /** 14 bytes; GCM uses the first 12. */
  salt: Buffer;
  /** 20 bytes (AES-CM only). */
  auth: Buffer;
}

const RTP_HEADER = 12;
const REPLAY_WINDOW = 128;
/** GCM: packets whose keystream one cipher call makes (consecutive indexes of one SSRC, 320 ms of 20 ms audio). */
const GCM_RUN = 16;
/** GCM: SSRCs whose runs are kept at once. */
const GCM_RUN_SSRCS = 4;
/** GCM: blocks per packet of a run at most (J0 and 63 keystream blocks: payloads up to 1008 bytes); longer ones alone. */
const GCM_RUN_MAX_BLOCKS = 64;

/** The DTLS-SRTP profiles the WebRTC fast path takes (what werift negotiates). */
export function isSupportedProfile(p: number): p is SrtpProfile {
  return p === SRTP_AES128_CM_HMAC_SHA1_80 || p === SRTP_AEAD_AES_128_GCM;
}

/** Tag bytes: SRTP (labelBase 0) or SRTCP (labelBase 3: 80 bits with HMAC-SHA1, RFC 5764 §4.1.2). */
function tagLengthOf(profile: SrtpProfile, labelBase: 0 | 3): number {
  if (profile === SRTP_AEAD_AES_128_GCM) return 16;
  return profile === SRTP_AES128_CM_HMAC_SHA1_32 && labelBase === 0 ? 4 : 10;
}

/** AES-CM PRF output for one label (RFC 3711 §4.3.1, key derivation rate 0); a 12-byte salt is zero-padded. */
function prf(master: SrtpMasterKey, label: number, length: number): Buffer {
  const x = Buffer.alloc(16);
  x.set(master.salt.subarray(0, 14), 0);
  x[7] = (x[7] as number) ^ label;
  const blocks = Buffer.alloc(16 * Math.ceil(length / 16));
  for (let i = 0; i < blocks.length; i += 16) {
    x.copy(blocks, i);
    blocks.writeUInt16BE(i / 16, i + 14);
  }
  const ecb = createCipheriv('aes-128-ecb', master.key, null).setAutoPadding(false);
  return ecb.update(blocks).subarray(0, length);
}

/** SRTP session keys (labels 0, 1, 2), or SRTCP's with `labelBase` 3 (labels 3, 4, 5). */
export function deriveSrtpSessionKeys(master: SrtpMasterKey, labelBase: 0 | 3 = 0): SrtpSessionKeys {
  if (master.key.length !== 16) throw new RangeError('SRTP master key must be 16 bytes');
  return { key: prf(master, labelBase, 16), auth: prf(master, labelBase + 1, 20), salt: prf(master, labelBase + 2, 14) };
}

/** The RTP packet unprotect() returns: one reused object; `payload` is a view of the datagram. */
export interface SrtpRtpPacket {
  payloadType: number;
  marker: boolean;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

/** Shared by both directions (and SRTCP): keys, the cipher, and the per-packet AES-CM keystream or GCM IV. */
export class SrtpCrypto {
  readonly profile: SrtpProfile;
  /** AES counter mode with an HMAC-SHA1 tag (else AES-GCM). */
  readonly counterMode: boolean;
  readonly tagLength: number;
  readonly #keys: SrtpSessionKeys;
  readonly #ecb: Cipher | null;
  readonly #mac: HmacSha1 | null;
  readonly #gcm: AesGcm | null;
  #counters = Buffer.alloc(16 * 96);
  readonly #iv = Buffer.alloc(12);

  constructor(master: SrtpMasterKey, profile: SrtpProfile, labelBase: 0 | 3 = 0) {
    this.profile = profile;
    this.counterMode = profile !== SRTP_AEAD_AES_128_GCM;
    this.tagLength = tagLengthOf(profile, labelBase);
    this.#keys = deriveSrtpSessionKeys(master, labelBase);
    if (this.counterMode) {
      this.#ecb = createCipheriv('aes-128-ecb', this.#keys.key, null).setAutoPadding(false);
      this.#mac = new HmacSha1(this.#keys.auth);
      this.#gcm = null;
    } else {
      this.#ecb = null;
      this.#mac = null;
      this.#gcm = new AesGcm(this.#keys.key);
    }
  }

  /** AES-CM: XORs keystream for (ssrc, roc, seq) over buf[start..end) in place (RFC 3711 §4.1.1). */
  ctrXor(buf: Buffer, start: number, end: number, ssrc: number, roc: number, seq: number): void {
    const n = Math.ceil((end - start) / 16);
    if (n === 0) return;
    if (n * 16 > this.#counters.length) this.#counters = Buffer.alloc(n * 32);
    const c = this.#counters;
    const salt = this.#keys.salt;
    for (let b = 0; b < n; b++) {
      const o = 16 * b;
      for (let i = 0; i < 14; i++) c[o + i] = salt[i] as number;
      c[o + 4] = (c[o + 4] as number) ^ (ssrc >>> 24);
      c[o + 5] = (c[o + 5] as number) ^ ((ssrc >>> 16) & 0xff);
      c[o + 6] = (c[o + 6] as number) ^ ((ssrc >>> 8) & 0xff);
      c[o + 7] = (c[o + 7] as number) ^ (ssrc & 0xff);
      c[o + 8] = (c[o + 8] as number) ^ (roc >>> 24);
      c[o + 9] = (c[o + 9] as number) ^ ((roc >>> 16) & 0xff);
      c[o + 10] = (c[o + 10] as number) ^ ((roc >>> 8) & 0xff);
      c[o + 11] = (c[o + 11] as number) ^ (roc & 0xff);
      c[o + 12] = (c[o + 12] as number) ^ (seq >>> 8);
      c[o + 13] = (c[o + 13] as number) ^ (seq & 0xff);
      c[o + 14] = b >>> 8;
      c[o + 15] = b & 0xff;
    }
    const ks = (this.#ecb as Cipher).update(c.subarray(0, n * 16));
    for (let i = start, k = 0; i < end; i++, k++) buf[i] = (buf[i] as number) ^ (ks[k] as number);
  }

  /** AES-CM: the tag (`tagLength` bytes unless given) of buf[0..end) || uint32(suffix) (SRTP: the ROC; SRTCP: E|index), into out. */
  ctrTag(buf: Buffer, end: number, suffix: number, out: Buffer, outOff: number, tagLength = this.tagLength): void {
    (this.#mac as HmacSha1).tagWithSuffix(buf, 0, end, suffix, out, outOff, tagLength);
  }

  /** GCM IV (RFC 7714 §8.1): 00 00 | SSRC | ROC | SEQ, XOR the 12-byte session salt. */
  gcmIv(ssrc: number, roc: number, seq: number): Buffer {
    const iv = this.#iv;
    iv.fill(0);
    iv.writeUInt32BE(ssrc >>> 0, 2);
    iv.writeUInt32BE(roc >>> 0, 6);
    iv.writeUInt16BE(seq, 10);
    const salt = this.#keys.salt;
    for (let i = 0; i < 12; i++) iv[i] = (iv[i] as number) ^ (salt[i] as number);
    return iv;
  }

  /** SRTCP GCM IV (RFC 7714 §9.1): 00 00 | SSRC | 00 00 | index, XOR the 12-byte session salt. */
  gcmRtcpIv(ssrc: number, index: number): Buffer {
    const iv = this.#iv;
    iv.fill(0);
    iv.writeUInt32BE(ssrc >>> 0, 2);
    iv.writeUInt32BE(index >>> 0, 8);
    const salt = this.#keys.salt;
    for (let i = 0; i < 12; i++) iv[i] = (iv[i] as number) ^ (salt[i] as number);
    return iv;
  }

  get gcm(): AesGcm {
    return this.#gcm as AesGcm;
  }

  /** GCM runs, per SSRC: the keystream of GCM_RUN consecutive packets from packet index `first` on. */
  readonly #runs = new Map<number, { first: number; blocks: number; ks: Buffer }>();
  /** The buffer the last `gcmKeystream` offset points into. */
  gcmKs: Buffer = Buffer.alloc(0);

  /**
   * GCM: E(J0) and the keystream for `length` payload bytes of packet (ssrc, roc, seq), at the returned offset of
   * `gcmKs`. One cipher call (and one buffer) serves a run of GCM_RUN consecutive packets of an SSRC: the
   * counter blocks of a packet depend only on its IV, so those of the packets after it are known in advance,
   * and a slice is byte for byte what a call for that packet alone would give. A packet inside its SSRC's run
   * takes its slice; one after the run or longer than its slices starts a new run; one a little before it (a
   * late packet, within the replay window) is computed alone; one far before it starts a new run too, so a
   * stream whose run was moved far ahead (a forged packet is only found out after this: its tag needs E(J0))
   * gets runs again from its next packet.
   */
  gcmKeystream(ssrc: number, roc: number, seq: number, length: number): number {
    const blocks = 1 + Math.ceil(length / 16);
    const index = roc * 0x10000 + seq;
    const run = this.#runs.get(ssrc);
    const k = run ? index - run.first : 0;
    if (run && k >= 0 && k < GCM_RUN && blocks <= run.blocks) {
      this.gcmKs = run.ks;
      return k * run.blocks * 16;
    }
    if ((run && k < 0 && k >= -REPLAY_WINDOW) || blocks > GCM_RUN_MAX_BLOCKS) {
      this.gcmKs = this.#gcmBlocks(ssrc, index, 1, blocks);
      return 0;
    }
    const perPacket = Math.max(blocks, run?.blocks ?? 0);
    const fresh = this.#gcmBlocks(ssrc, index, GCM_RUN, perPacket);
    // copied into the SSRC's own buffer: a run lives ~320 ms, long enough for the cipher's new buffer to be
    // promoted to the old generation and die there (only a full collection frees it: one every few seconds
    // at 400 calls, each pausing the process); the copy dies young
    let ks = run?.ks;
    if (!ks || ks.length < fresh.length) ks = Buffer.alloc(fresh.length);
    fresh.copy(ks);
    if (run) {
      run.first = index;
      run.blocks = perPacket;
      run.ks = ks;
    } else {
      // a stream has one SSRC per direction, a few after a change of source: more than that are forgotten
      if (this.#runs.size >= GCM_RUN_SSRCS) this.#runs.clear();
      this.#runs.set(ssrc, { first: index, blocks: perPacket, ks });
    }
    this.gcmKs = ks;
    return 0;
  }

  /** E(counter blocks) of `packets` packets from index `first` on, `perPacket` blocks each. */
  #gcmBlocks(ssrc: number, first: number, packets: number, perPacket: number): Buffer {
    const size = packets * perPacket * 16;
    if (size > this.#counters.length) this.#counters = Buffer.alloc(size);
    const c = this.#counters;
    for (let j = 0; j < packets; j++) {
      const index = first + j;
      writeCounterBlocks(c, j * perPacket * 16, this.gcmIv(ssrc, Math.floor(index / 0x10000) >>> 0, index & 0xffff), perPacket);
    }
    return this.gcm.encryptBlocks(c.subarray(0, size));
  }
}

/** Outbound SRTP for one SSRC; the caller numbers packets (consecutive sequence numbers, wrap counted here). */
export class SrtpProtector {
  readonly #c: SrtpCrypto;
  #roc = 0;
  #lastSeq = -1;

  constructor(master: SrtpMasterKey, profile: SrtpProfile) {
    this.#c = new SrtpCrypto(master, profile);
  }

  /** Bytes added to the payload: the 12-byte header and the tag. */
  get overhead(): number {
    return RTP_HEADER + this.#c.tagLength;
  }

  /** Writes header, encrypted payload and tag into `out` (at least payload + overhead bytes); returns the length. */
  protect(out: Buffer, payloadType: number, marker: boolean, seq: number, timestamp: number, ssrc: number, payload: Uint8Array): number {
    if (this.#lastSeq >= 0 && seq < this.#lastSeq && this.#lastSeq - seq > 0x8000) this.#roc = (this.#roc + 1) >>> 0;
    this.#lastSeq = seq;
    out[0] = 0x80;
    out[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
    out.writeUInt16BE(seq & 0xffff, 2);
    out.writeUInt32BE(timestamp >>> 0, 4);
    out.writeUInt32BE(ssrc >>> 0, 8);
    const end = RTP_HEADER + payload.length;
    const c = this.#c;
    if (c.counterMode) {
      out.set(payload, RTP_HEADER);
      c.ctrXor(out, RTP_HEADER, end, ssrc, this.#roc, seq);
      c.ctrTag(out, end, this.#roc, out, end);
      return end + c.tagLength;
    }
    const ksOff = c.gcmKeystream(ssrc, this.#roc, seq, payload.length);
    c.gcm.sealWith(c.gcmKs, ksOff, out, RTP_HEADER, payload);
    return end + 16;
  }
}

/** Inbound SRTP for the streams of one remote (several SSRCs possible). */
export class SrtpUnprotector {
  readonly #c: SrtpCrypto;
  readonly #streams = new Map<number, { roc: number; lastSeq: number; highest: number; seen: Float64Array }>();
  readonly #tag = Buffer.alloc(16);
  readonly #out: SrtpRtpPacket = { payloadType: 0, marker: false, sequenceNumber: 0, timestamp: 0, ssrc: 0, payload: Buffer.alloc(0) };
  authFailures = 0;
  replays = 0;
  malformed = 0;

  constructor(master: SrtpMasterKey, profile: SrtpProfile) {
    this.#c = new SrtpCrypto(master, profile);
  }

  /** Authenticates and decrypts (in place); null for a forged, replayed or malformed packet (counted). */
  unprotect(packet: Buffer): SrtpRtpPacket | null {
    const c = this.#c;
    const len = packet.length;
    const b0 = packet[0] as number;
    let hdr = RTP_HEADER + 4 * (b0 & 0x0f);
    if ((b0 & 0xc0) !== 0x80 || len < hdr + c.tagLength) return this.#bad();
    if (b0 & 0x10) {
      if (len < hdr + 4) return this.#bad();
      hdr += 4 + 4 * packet.readUInt16BE(hdr + 2);
      if (len < hdr + c.tagLength) return this.#bad();
    }
    const seq = packet.readUInt16BE(2);
    const ssrc = packet.readUInt32BE(8);
    let s = this.#streams.get(ssrc);
    if (!s) {
      s = { roc: 0, lastSeq: seq, highest: -1, seen: new Float64Array(REPLAY_WINDOW).fill(-1) };
      this.#streams.set(ssrc, s);
    }
    const v = estimateRoc(s.roc, s.lastSeq, seq);
    const index = v * 0x10000 + seq;
    if (index <= s.highest - REPLAY_WINDOW || s.seen[index % REPLAY_WINDOW] === index) {
      this.replays++;
      return null;
    }
    const bodyEnd = len - c.tagLength;
    let payload: Buffer;
    if (c.counterMode) {
      c.ctrTag(packet, bodyEnd, v, this.#tag, 0);
      let diff = 0;
      for (let i = 0; i < c.tagLength; i++) diff |= (this.#tag[i] as number) ^ (packet[bodyEnd + i] as number);
      if (diff !== 0) return this.#forged();
      c.ctrXor(packet, hdr, bodyEnd, ssrc, v, seq);
      payload = packet.subarray(hdr, bodyEnd);
    } else {
      const ksOff = c.gcmKeystream(ssrc, v, seq, bodyEnd - hdr);
      if (!c.gcm.openWith(c.gcmKs, ksOff, packet, hdr, bodyEnd)) return this.#forged();
      payload = packet.subarray(hdr, bodyEnd);
    }
    // RFC 3711 §3.3.1: the ROC and s_l move only for authenticated packets
    if (v === s.roc + 1 || (v === s.roc && seq > s.lastSeq)) {
      s.roc = v;
      s.lastSeq = seq;
    }
    if (index > s.highest) s.highest = index;
    s.seen[index % REPLAY_WINDOW] = index;
    if (b0 & 0x20) {
      const pad = payload.length > 0 ? (payload[payload.length - 1] as number) : 0;
      if (pad === 0 || pad > payload.length) return this.#bad();
      payload = payload.subarray(0, payload.length - pad);
    }
    const out = this.#out;
    out.payloadType = (packet[1] as number) & 0x7f;
    out.marker = ((packet[1] as number) & 0x80) !== 0;
    out.sequenceNumber = seq;
    out.timestamp = packet.readUInt32BE(4);
    out.ssrc = ssrc;
    out.payload = payload;
    return out;
  }

  #bad(): null {
    this.malformed++;
    return null;
  }

  #forged(): null {
    this.authFailures++;
    return null;
  }
}

/** RFC 3711 §3.3.1 / Appendix A: the ROC guess for `seq` given the stream's ROC and highest seq s_l. */
export function estimateRoc(roc: number, sl: number, seq: number): number {
  if (sl < 0x8000) return seq - sl > 0x8000 && roc > 0 ? roc - 1 : roc;
  return sl - 0x8000 > seq ? roc + 1 : roc;
}
