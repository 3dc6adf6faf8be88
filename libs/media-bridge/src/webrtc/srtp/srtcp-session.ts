/**
 * SRTCP (RFC 3711 §3.4; RFC 7714 §9 for GCM) for the SRTP fast path: the compound RTCP of a leg (our sender
 * reports out, the remote's in) without werift's per-packet serializers and native ciphers. Packets are
 * always encrypted (E = 1) with a 31-bit SRTCP index; received ones are authenticated before anything is
 * decrypted, and an index seen before is refused (replay).
 *
 *   AES-CM:  header(8) | encrypted rest | E|index(4) | tag(10), tag = HMAC-SHA1 over all before it
 *   GCM:     header(8) | encrypted rest | tag(16) | E|index(4), AAD = header | E|index
 */
import { SRTP_AES128_CM_HMAC_SHA1_32, SrtpCrypto, type SrtpMasterKey, type SrtpProfile } from './srtp-session';

const HEADER = 8;
const WINDOW = 128;

export class SrtcpProtector {
  readonly #c: SrtpCrypto;
  #index = 0;

  constructor(master: SrtpMasterKey, profile: SrtpProfile) {
    this.#c = new SrtpCrypto(master, profile, 3);
  }

  /** A protected copy of one compound RTCP packet (its first SSRC keys the cipher). */
  protect(rtcp: Buffer): Buffer {
    if (rtcp.length < HEADER) throw new RangeError('RTCP packet shorter than its header');
    const c = this.#c;
    this.#index = (this.#index + 1) & 0x7fffffff;
    const eIndex = (0x80000000 | this.#index) >>> 0;
    const ssrc = rtcp.readUInt32BE(4);
    const out = Buffer.allocUnsafe(rtcp.length + 4 + c.tagLength);
    rtcp.copy(out, 0, 0, HEADER);
    if (c.counterMode) {
      rtcp.copy(out, HEADER, HEADER);
      c.ctrXor(out, HEADER, rtcp.length, ssrc, this.#index >>> 16, this.#index & 0xffff);
      out.writeUInt32BE(eIndex, rtcp.length);
      c.ctrTag(out, rtcp.length, eIndex, out, rtcp.length + 4);
      return out;
    }
    const aad = Buffer.allocUnsafe(HEADER + 4);
    rtcp.copy(aad, 0, 0, HEADER);
    aad.writeUInt32BE(eIndex, HEADER);
    c.gcm.seal(c.gcmRtcpIv(ssrc, this.#index), aad, rtcp.subarray(HEADER), out, HEADER);
    out.writeUInt32BE(eIndex, rtcp.length + 16);
    return out;
  }
}

export class SrtcpUnprotector {
  readonly #c: SrtpCrypto;
  readonly #seen = new Float64Array(WINDOW).fill(-1);
  readonly #tag = Buffer.alloc(10);
  #highest = -1;
  rejected = 0;

  constructor(master: SrtpMasterKey, profile: SrtpProfile) {
    this.#c = new SrtpCrypto(master, profile, 3);
  }

  /**
   * The plain compound RTCP packet (a view into `packet`, decrypted in place), or null (counted) when refused.
   * With AES_CM_128_HMAC_SHA1_32, a 32-bit tag is taken too: RFC 5764 gives that profile's SRTCP 80 bits,
   * RFC 4568 does not say, and SDES peers differ (baresip, and libsrtp's policy for the suite, use 32).
   */
  unprotect(packet: Buffer): Buffer | null {
    const c = this.#c;
    const plain = this.#open(packet, c.tagLength) ?? (c.profile === SRTP_AES128_CM_HMAC_SHA1_32 ? this.#open(packet, 4) : null);
    return plain ?? this.#refuse();
  }

  /** Authenticates with a tag of `tagLength` bytes (AES-CM) and decrypts; null, untouched, when it fails. */
  #open(packet: Buffer, tagLength: number): Buffer | null {
    const c = this.#c;
    const len = packet.length;
    const ctr = c.counterMode;
    if (len < HEADER + 4 + (ctr ? tagLength : c.tagLength)) return null;
    const indexAt = ctr ? len - tagLength - 4 : len - 4;
    const eIndex = packet.readUInt32BE(indexAt);
    const index = eIndex & 0x7fffffff;
    if (index <= this.#highest - WINDOW || this.#seen[index % WINDOW] === index) return null;
    const ssrc = packet.readUInt32BE(4);
    const encrypted = eIndex >>> 31 === 1;
    if (ctr) {
      c.ctrTag(packet, indexAt, eIndex, this.#tag, 0, tagLength);
      let diff = 0;
      for (let i = 0; i < tagLength; i++) diff |= (this.#tag[i] as number) ^ (packet[indexAt + 4 + i] as number);
      if (diff !== 0) return null;
      if (encrypted) c.ctrXor(packet, HEADER, indexAt, ssrc, index >>> 16, index & 0xffff);
    } else {
      const tagAt = indexAt - 16;
      // RFC 7714 §9.1: an unencrypted SRTCP packet authenticates all of its RTCP as AAD
      const aadEnd = encrypted ? HEADER : tagAt;
      const aad = Buffer.concat([packet.subarray(0, aadEnd), packet.subarray(indexAt, indexAt + 4)]);
      const body = packet.subarray(aadEnd, tagAt);
      if (!c.gcm.openInPlace(c.gcmRtcpIv(ssrc, index), aad, body, packet.subarray(tagAt, indexAt))) return null;
    }
    if (index > this.#highest) this.#highest = index;
    this.#seen[index % WINDOW] = index;
    return packet.subarray(0, ctr ? indexAt : indexAt - 16);
  }

  #refuse(): null {
    this.rejected++;
    return null;
  }
}
