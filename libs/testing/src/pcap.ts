import { writeFileSync } from 'node:fs';
import { encodeG711, type G711Codec } from './g711';
import { sineSamples } from './wav';

/**
 * Minimal libpcap writer/reader for RTP test captures: Ethernet + IPv4 + UDP + RTP (RFC 3550 §5.1), one
 * packet per ptime with pcap timestamps spaced by the ptime, which is what SIPp's `play_pcap_audio` paces
 * by. SIPp replaces addresses and ports when it plays a capture; the ones written here are placeholders.
 */

const PCAP_MAGIC = 0xa1b2c3d4;
const LINKTYPE_ETHERNET = 1;
const ETH_LEN = 14;
const IP_LEN = 20;
const UDP_LEN = 8;
const RTP_LEN = 12;

export interface RtpCaptureOptions {
  payloads: readonly Buffer[];
  payloadType: number;
  /** RTP timestamp step per packet (160 for 20 ms of 8 kHz audio). */
  samplesPerPacket?: number;
  ptimeMs?: number;
  ssrc?: number;
  srcIp?: string;
  dstIp?: string;
  srcPort?: number;
  dstPort?: number;
}

function ipv4Bytes(ip: string): number[] {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new TypeError(`not an IPv4 address: ${ip}`);
  }
  return parts;
}

function ipChecksum(header: Buffer): number {
  let sum = 0;
  for (let i = 0; i < header.length; i += 2) sum += header.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function frame(o: Required<RtpCaptureOptions>, index: number, payload: Buffer): Buffer {
  const udpLen = UDP_LEN + RTP_LEN + payload.length;
  const buf = Buffer.alloc(ETH_LEN + IP_LEN + udpLen);
  Buffer.from([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1]).copy(buf, 0);
  buf.writeUInt16BE(0x0800, 12);
  const ip = buf.subarray(ETH_LEN, ETH_LEN + IP_LEN);
  ip.writeUInt8(0x45, 0);
  ip.writeUInt16BE(IP_LEN + udpLen, 2);
  ip.writeUInt16BE(index & 0xffff, 4);
  ip.writeUInt16BE(0x4000, 6);
  ip.writeUInt8(64, 8);
  ip.writeUInt8(17, 9);
  Buffer.from(ipv4Bytes(o.srcIp)).copy(ip, 12);
  Buffer.from(ipv4Bytes(o.dstIp)).copy(ip, 16);
  ip.writeUInt16BE(ipChecksum(ip), 10);
  const udp = ETH_LEN + IP_LEN;
  buf.writeUInt16BE(o.srcPort, udp);
  buf.writeUInt16BE(o.dstPort, udp + 2);
  buf.writeUInt16BE(udpLen, udp + 4); // checksum 0: none (IPv4)
  const rtp = udp + UDP_LEN;
  buf.writeUInt8(0x80, rtp);
  buf.writeUInt8((index === 0 ? 0x80 : 0) | (o.payloadType & 0x7f), rtp + 1); // marker on the first packet
  buf.writeUInt16BE(index & 0xffff, rtp + 2);
  buf.writeUInt32BE((index * o.samplesPerPacket) >>> 0, rtp + 4);
  buf.writeUInt32BE(o.ssrc >>> 0, rtp + 8);
  payload.copy(buf, rtp + RTP_LEN);
  return buf;
}

/** A pcap file (bytes) with one RTP packet per payload. */
export function buildRtpPcap(options: RtpCaptureOptions): Buffer {
  const o: Required<RtpCaptureOptions> = {
    samplesPerPacket: 160,
    ptimeMs: 20,
    ssrc: 0x5ca1ab1e,
    srcIp: '10.0.0.1',
    dstIp: '10.0.0.2',
    srcPort: 40000,
    dstPort: 40002,
    ...options,
  };
  const header = Buffer.alloc(24);
  header.writeUInt32LE(PCAP_MAGIC, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(LINKTYPE_ETHERNET, 20);
  const parts: Buffer[] = [header];
  o.payloads.forEach((payload, i) => {
    const data = frame(o, i, payload);
    const rec = Buffer.alloc(16);
    const usec = i * o.ptimeMs * 1000;
    rec.writeUInt32LE(1_700_000_000 + Math.floor(usec / 1e6), 0);
    rec.writeUInt32LE(usec % 1e6, 4);
    rec.writeUInt32LE(data.length, 8);
    rec.writeUInt32LE(data.length, 12);
    parts.push(rec, data);
  });
  return Buffer.concat(parts);
}

export interface TonePcapOptions {
  path: string;
  frequencyHz: number;
  seconds: number;
  codec?: G711Codec;
  amplitude?: number;
}

/** Writes a pcap of a G.711 tone at 8 kHz, 20 ms per packet (PT 8 for PCMA, 0 for PCMU); returns the path. */
export function writeTonePcap(o: TonePcapOptions): string {
  const codec = o.codec ?? 'PCMA';
  const encoded = encodeG711(sineSamples(o.frequencyHz, 8000, o.seconds, o.amplitude ?? 8000), codec);
  const payloads: Buffer[] = [];
  for (let off = 0; off + 160 <= encoded.length; off += 160) payloads.push(encoded.subarray(off, off + 160));
  writeFileSync(o.path, buildRtpPcap({ payloads, payloadType: codec === 'PCMA' ? 8 : 0 }));
  return o.path;
}

export interface CapturedUdp {
  timestampUs: number;
  srcPort: number;
  dstPort: number;
  payload: Buffer;
}

/** UDP payloads of an Ethernet/IPv4 pcap (microsecond, little-endian files only). */
export function readUdpPcap(buf: Buffer): CapturedUdp[] {
  if (buf.length < 24 || buf.readUInt32LE(0) !== PCAP_MAGIC) throw new TypeError('not a little-endian microsecond pcap');
  if (buf.readUInt32LE(20) !== LINKTYPE_ETHERNET) throw new TypeError('pcap link type is not Ethernet');
  const out: CapturedUdp[] = [];
  let off = 24;
  while (off + 16 <= buf.length) {
    const sec = buf.readUInt32LE(off);
    const usec = buf.readUInt32LE(off + 4);
    const len = buf.readUInt32LE(off + 8);
    const pkt = buf.subarray(off + 16, off + 16 + len);
    off += 16 + len;
    if (pkt.length < ETH_LEN + IP_LEN + UDP_LEN || pkt.readUInt16BE(12) !== 0x0800) continue;
    const ihl = (pkt.readUInt8(ETH_LEN) & 0x0f) * 4;
    if (pkt.readUInt8(ETH_LEN + 9) !== 17) continue;
    const udp = ETH_LEN + ihl;
    const udpLen = pkt.readUInt16BE(udp + 4);
    out.push({
      timestampUs: sec * 1e6 + usec,
      srcPort: pkt.readUInt16BE(udp),
      dstPort: pkt.readUInt16BE(udp + 2),
      payload: pkt.subarray(udp + UDP_LEN, udp + udpLen),
    });
  }
  return out;
}
