import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';

/** One datagram seen by the tap. */
export interface TappedPacket {
  /** 'left': from the party that first sent to the tap (the gateway's leg); 'right': from the target. */
  from: 'left' | 'right';
  data: Buffer;
}

/**
 * Test support: a one-socket UDP relay that records every datagram, to check protocol behaviour on the
 * wire. Point one party at the tap's port (rewrite its candidate); the tap forwards to `target` and back
 * to whoever sent to it first. ICE still works through it: an ICE-lite target sees the tap as a
 * peer-reflexive address, and the full agent gets responses from the address it sent to.
 */
export class UdpWireTap {
  readonly packets: TappedPacket[] = [];
  #left: RemoteInfo | undefined;

  private constructor(
    private readonly socket: Socket,
    private readonly target: { address: string; port: number },
  ) {
    socket.on('message', (data, rinfo) => this.#onMessage(data, rinfo));
  }

  static async start(target: { address: string; port: number }, host = '127.0.0.1'): Promise<UdpWireTap> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, host, () => resolve());
    });
    return new UdpWireTap(socket, target);
  }

  get port(): number {
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  #onMessage(data: Buffer, rinfo: RemoteInfo): void {
    const fromTarget = rinfo.address === this.target.address && rinfo.port === this.target.port;
    if (fromTarget) {
      this.packets.push({ from: 'right', data });
      if (this.#left) this.socket.send(data, this.#left.port, this.#left.address);
      return;
    }
    this.#left ??= rinfo;
    this.packets.push({ from: 'left', data });
    this.socket.send(data, this.target.port, this.target.address);
  }
}

const STUN_MAGIC = 0x2112a442;
export const STUN_ATTR = { USE_CANDIDATE: 0x0025, ICE_CONTROLLED: 0x8029, ICE_CONTROLLING: 0x802a } as const;

/** A STUN message's type and attribute types (RFC 8489 §5, §14), or undefined for non-STUN data. */
export function parseStun(buf: Buffer): { type: number; attributes: number[] } | undefined {
  if (buf.length < 20 || (buf[0] as number) > 3 || buf.readUInt32BE(4) !== STUN_MAGIC) return undefined;
  const attributes: number[] = [];
  const end = Math.min(buf.length, 20 + buf.readUInt16BE(2));
  for (let off = 20; off + 4 <= end; ) {
    attributes.push(buf.readUInt16BE(off));
    off += 4 + Math.ceil(buf.readUInt16BE(off + 2) / 4) * 4;
  }
  return { type: buf.readUInt16BE(0), attributes };
}

/** RFC 7983 demultiplexing: a DTLS record starts with 20..63; a handshake record (22) carries its type at byte 13. */
export function dtlsHandshakeType(buf: Buffer): number | undefined {
  const first = buf[0] as number;
  if (first < 20 || first > 63 || first !== 22 || buf.length < 14) return undefined;
  return buf[13];
}

/** RTP (not RTCP) header fields of an SRTP packet (the header is not encrypted), or undefined. */
export function parseRtpHeader(buf: Buffer): { payloadType: number; ssrc: number; sequenceNumber: number } | undefined {
  const first = buf[0] as number;
  if (first < 128 || first > 191 || buf.length < 12) return undefined;
  const pt = (buf[1] as number) & 0x7f;
  if (pt >= 64 && pt <= 95) return undefined; // RTCP packet types 192-223 (RFC 5761 §4)
  return { payloadType: pt, ssrc: buf.readUInt32BE(8), sequenceNumber: buf.readUInt16BE(2) };
}
