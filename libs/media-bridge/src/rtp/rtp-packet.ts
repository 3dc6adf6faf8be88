/**
 * RTP packets (RFC 3550 §5.1): the 12-byte fixed header, CSRC list, header extension (§5.3.1) and padding.
 *
 * Two APIs: `parseRtp`/`serializeRtp` allocate and are for tools and tests; `parseRtpInto`/`writeRtp` are the
 * hot path of the RTP leg (no allocation unless the packet carries CSRCs or an extension).
 *
 * Padding is kept as a size: written back as zero octets followed by the count octet (RFC 3550 §5.1 "P"),
 * which is how every sender we know fills it, so such packets round-trip byte for byte.
 */
import { RtpParseError } from './rtp.errors';

export const RTP_VERSION = 2;
export const RTP_FIXED_HEADER_LENGTH = 12;

/** A header extension (RFC 3550 §5.3.1): 16-bit profile id and data whose length is a multiple of 4. */
export interface RtpHeaderExtension {
  profile: number;
  data: Buffer;
}

export interface RtpPacket {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension: RtpHeaderExtension | null;
  /** A view of the datagram (parse) or the bytes to send (serialize). */
  payload: Buffer;
  /** Padding octets after the payload, including the final count octet; 0 when the P bit is clear. */
  paddingSize: number;
}

/** An empty packet to reuse with `parseRtpInto`. */
export function createRtpPacket(): RtpPacket {
  return {
    marker: false,
    payloadType: 0,
    sequenceNumber: 0,
    timestamp: 0,
    ssrc: 0,
    csrcs: [],
    extension: null,
    payload: Buffer.alloc(0),
    paddingSize: 0,
  };
}

/**
 * Parses `buf` into `out` (reused). Returns null when valid, else the reason. `out.payload` is a view of
 * `buf`, so keep `buf` alive (and unmodified) as long as the payload is used.
 */
function decodeRtp(buf: Buffer, out: RtpPacket): string | null {
  const len = buf.length;
  if (len < RTP_FIXED_HEADER_LENGTH) return 'shorter than the fixed header';
  const b0 = buf[0] as number;
  if (b0 >> 6 !== RTP_VERSION) return 'version is not 2';
  const cc = b0 & 0x0f;
  let off = RTP_FIXED_HEADER_LENGTH + 4 * cc;
  if (off > len) return 'CSRC list beyond the packet';
  const b1 = buf[1] as number;
  out.marker = (b1 & 0x80) !== 0;
  out.payloadType = b1 & 0x7f;
  out.sequenceNumber = buf.readUInt16BE(2);
  out.timestamp = buf.readUInt32BE(4);
  out.ssrc = buf.readUInt32BE(8);
  out.csrcs.length = cc;
  for (let i = 0; i < cc; i++) out.csrcs[i] = buf.readUInt32BE(12 + 4 * i);
  if (b0 & 0x10) {
    if (off + 4 > len) return 'extension header beyond the packet';
    const profile = buf.readUInt16BE(off);
    const words = buf.readUInt16BE(off + 2);
    const end = off + 4 + 4 * words;
    if (end > len) return 'extension data beyond the packet';
    out.extension = { profile, data: buf.subarray(off + 4, end) };
    off = end;
  } else {
    out.extension = null;
  }
  let paddingSize = 0;
  if (b0 & 0x20) {
    paddingSize = buf[len - 1] as number;
    if (paddingSize === 0 || off + paddingSize > len) return 'bad padding count';
  }
  out.paddingSize = paddingSize;
  out.payload = buf.subarray(off, len - paddingSize);
  return null;
}

/** Hot path: parses into a reused packet; false when `buf` is not a valid RTP packet. */
export function parseRtpInto(buf: Buffer, out: RtpPacket): boolean {
  return decodeRtp(buf, out) === null;
}

/** Parses one RTP packet (allocating). Throws `RtpParseError` when `buf` is not valid RTP. */
export function parseRtp(buf: Buffer): RtpPacket {
  const out = createRtpPacket();
  const reason = decodeRtp(buf, out);
  if (reason !== null) throw new RtpParseError(`invalid RTP packet: ${reason}`);
  return out;
}

/** Number of bytes `writeRtp` writes for `p`. */
export function rtpSerializedLength(p: RtpPacket): number {
  const ext = p.extension ? 4 + p.extension.data.length : 0;
  return RTP_FIXED_HEADER_LENGTH + 4 * p.csrcs.length + ext + p.payload.length + p.paddingSize;
}

/**
 * Writes `p` at `target[offset]`; returns the bytes written. Throws `RangeError` when the packet does not fit
 * or a field is out of range (a caller bug, not a wire condition).
 */
export function writeRtp(p: RtpPacket, target: Buffer, offset = 0): number {
  const total = rtpSerializedLength(p);
  if (offset + total > target.length) throw new RangeError(`RTP packet of ${total} bytes does not fit`);
  if (p.csrcs.length > 15) throw new RangeError('at most 15 CSRCs');
  if (p.payloadType < 0 || p.payloadType > 127) throw new RangeError(`payload type ${p.payloadType}`);
  if (p.paddingSize > 255) throw new RangeError('padding above 255 octets');
  const ext = p.extension;
  if (ext && ext.data.length % 4 !== 0) throw new RangeError('extension data must be a multiple of 4 bytes');
  target[offset] =
    (RTP_VERSION << 6) | (p.paddingSize > 0 ? 0x20 : 0) | (ext ? 0x10 : 0) | p.csrcs.length;
  target[offset + 1] = (p.marker ? 0x80 : 0) | p.payloadType;
  target.writeUInt16BE(p.sequenceNumber & 0xffff, offset + 2);
  target.writeUInt32BE(p.timestamp >>> 0, offset + 4);
  target.writeUInt32BE(p.ssrc >>> 0, offset + 8);
  let off = offset + RTP_FIXED_HEADER_LENGTH;
  for (let i = 0; i < p.csrcs.length; i++, off += 4) target.writeUInt32BE((p.csrcs[i] as number) >>> 0, off);
  if (ext) {
    target.writeUInt16BE(ext.profile, off);
    target.writeUInt16BE(ext.data.length / 4, off + 2);
    off += 4 + ext.data.copy(target, off + 4);
  }
  off += p.payload.copy(target, off);
  if (p.paddingSize > 0) {
    target.fill(0, off, off + p.paddingSize - 1);
    off += p.paddingSize;
    target[off - 1] = p.paddingSize;
  }
  return off - offset;
}

/** Serializes one packet into a new buffer. */
export function serializeRtp(p: RtpPacket): Buffer {
  const out = Buffer.allocUnsafe(rtpSerializedLength(p));
  writeRtp(p, out, 0);
  return out;
}

/**
 * Hot path for the plain header this gateway sends (no CSRC, extension or padding): writes the 12-byte header
 * and the payload at `target[0]`; returns the packet length.
 */
export function writeSimpleRtp(
  target: Buffer,
  payloadType: number,
  marker: boolean,
  sequenceNumber: number,
  timestamp: number,
  ssrc: number,
  payload: Uint8Array,
): number {
  const total = RTP_FIXED_HEADER_LENGTH + payload.length;
  if (total > target.length) throw new RangeError(`RTP packet of ${total} bytes does not fit`);
  target[0] = RTP_VERSION << 6;
  target[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  target.writeUInt16BE(sequenceNumber & 0xffff, 2);
  target.writeUInt32BE(timestamp >>> 0, 4);
  target.writeUInt32BE(ssrc >>> 0, 8);
  target.set(payload, RTP_FIXED_HEADER_LENGTH);
  return total;
}
