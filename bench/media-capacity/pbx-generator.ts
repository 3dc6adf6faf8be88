/**
 * Load generator, PBX side (its own process): N plain RTP endpoints on loopback, like desk phones or a PBX
 * trunk. Each answers the SDP offer of the system under test (PCMU for transcode, Opus for passthrough),
 * sends 50 packets/s and counts and times what comes back. RPC methods are called by the driver. With
 * `srtp` (target media-srtp) each endpoint answers the offer's AES_CM_128_HMAC_SHA1_80 line with its own
 * SDES key and speaks SRTP (libs/media-bridge's SRTP classes; this process's cost is not the target's).
 */
import type { RemoteInfo } from 'node:dgram';
import { formatSdesKeyParams, newSdesKey, parseSdesKeyParams, RtpPortAllocator, SRTP_AES128_CM_HMAC_SHA1_80, SrtpProtector, SrtpUnprotector, type RtpSocketPair } from '@wagw/media-bridge';
import { buildAnswer, parseSdp } from '@wagw/sip';
import { LatencyHistogram, LOOP_FRAMES, readStampedIndex, meanAbsPcmu, monoUs, OnsetDetector, pcmuLoop, readStamp, stampedPayload, type MarkedLoop } from './audio-marks';
import { serveRpc } from './generator-rpc';
import { runSchedule, type PumpPlan } from './pump-schedule';
import { ArrivalMarks, SendMarks } from './loss-count';
import { collectResults, startCounting, type BenchMode, type CallCounts, type GeneratorResults } from './generator-counts';

interface PbxCall extends CallCounts {
  pair: RtpSocketPair;
  remote: { address: string; port: number } | null;
  pt: number;
  ssrc: number;
  seq: number;
  detector: OnsetDetector;
  /** SRTP, when the target runs SDES toward the PBX. */
  tx?: SrtpProtector;
  rx?: SrtpUnprotector;
}

const SRTP_TAG = 10;

export type PbxResults = GeneratorResults;

let calls: PbxCall[] = [];
let mode: BenchMode = 'transcode';
let loop: MarkedLoop | undefined;
let allocator: RtpPortAllocator | undefined;
let hist = new LatencyHistogram();
let window = { from: 0, to: 0 };
let lateMaxMs = 0;
let countFrom = 0;
let srtp = false;

function onMessage(c: PbxCall, packet: Buffer, _rinfo: RemoteInfo): void {
  if (packet.length < 12 || (packet[0] as number) >> 6 !== 2) return;
  if (c.rx && !c.rx.unprotect(packet)) return; // decrypted in place: header as sent, tag cut off below
  const msg = c.rx ? packet.subarray(0, packet.length - SRTP_TAG) : packet;
  const pt = (msg[1] as number) & 0x7f;
  if (pt !== c.pt) return; // telephone-event or comfort noise: not audio
  const now = monoUs();
  const cc = (msg[0] as number) & 0x0f;
  let off = 12 + 4 * cc;
  if ((msg[0] as number) & 0x10) off += 4 + 4 * msg.readUInt16BE(off + 2);
  const payload = msg.subarray(off);
  c.received++;
  if (mode === 'passthrough') {
    if (readStampedIndex(payload) >= countFrom) c.receivedCounted++;
  } else c.arrivals.note(now);
  if (mode === 'passthrough') {
    const sentUs = readStamp(payload);
    if (sentUs !== undefined && sentUs >= window.from && sentUs <= window.to) hist.add((now - sentUs) / 1000);
    return;
  }
  if (c.detector.push(meanAbsPcmu(payload))) c.onsetReceivedUs.push(now);
}

/** Binds `n` RTP/RTCP pairs from [portMin, portMax]; returns nothing (ports go into the answers). */
async function allocate(n: number, benchMode: BenchMode, host: string, portMin: number, portMax: number, pbxSrtp = false): Promise<void> {
  mode = benchMode;
  srtp = pbxSrtp;
  loop ??= pcmuLoop();
  allocator ??= new RtpPortAllocator({ portMin, portMax, host });
  for (let i = 0; i < n; i++) {
    const pair = await allocator.allocate();
    const c: PbxCall = {
      pair,
      remote: null,
      pt: 0,
      ssrc: (Math.random() * 0xffffffff) >>> 0,
      seq: (Math.random() * 0xffff) | 0,
      sent: 0,
      received: 0,
      sentCounted: 0,
      receivedCounted: 0,
      countFromUs: Number.POSITIVE_INFINITY,
      sendMarks: new SendMarks(0),
      arrivals: new ArrivalMarks(),
      onsetSentUs: [],
      onsetReceivedUs: [],
      detector: new OnsetDetector(),
    };
    pair.rtp.on('message', (msg, rinfo) => onMessage(c, msg, rinfo));
    pair.rtcp.on('message', () => undefined);
    calls.push(c);
  }
}

/** Answers the offer of the system under test for call `i`: PCMU (transcode) or Opus (passthrough). */
function answer(i: number, offerSdp: string, host: string): string {
  const c = calls[i] as PbxCall;
  let crypto;
  if (srtp) {
    const line = parseSdp(offerSdp).audio?.crypto.find((l) => l.suite === 'AES_CM_128_HMAC_SHA1_80');
    if (!line) throw new Error('the target offered no AES_CM_128_HMAC_SHA1_80 line');
    const local = newSdesKey();
    c.tx = new SrtpProtector(local, SRTP_AES128_CM_HMAC_SHA1_80);
    c.rx = new SrtpUnprotector(parseSdesKeyParams(line.keyParams), SRTP_AES128_CM_HMAC_SHA1_80);
    crypto = [{ tag: line.tag, suite: line.suite, keyParams: formatSdesKeyParams(local), sessionParams: [] }];
  }
  const a = buildAnswer(offerSdp, { address: host, port: c.pair.rtpPort, preferences: [mode === 'transcode' ? 'PCMU' : 'opus'], protocols: ['RTP/AVP', 'RTP/SAVP'], ...(crypto ? { crypto } : {}) });
  c.pt = a.codec.payloadType;
  c.remote = a.remote;
  return a.sdp;
}

async function pump(plan: PumpPlan): Promise<void> {
  hist = new LatencyHistogram();
  window = { from: plan.windowFromUs, to: plan.windowToUs };
  countFrom = plan.countFromFrame;
  startCounting(calls, plan);
  const frames = (loop as MarkedLoop).frames;
  const onset = (loop as MarkedLoop).onset;
  const r = await runSchedule(calls.length, plan, (i, k, now) => {
    const c = calls[i] as PbxCall;
    if (!c.remote) return;
    let payload: Buffer;
    let ts: number;
    if (mode === 'passthrough') {
      payload = stampedPayload(now, i, k);
      ts = k * 960;
    } else {
      const f = (k + i * 11) % LOOP_FRAMES;
      payload = frames[f] as Buffer;
      if (onset[f]) c.onsetSentUs.push(now);
      ts = k * 160;
    }
    c.seq = (c.seq + 1) & 0xffff;
    if (c.tx) {
      const out = Buffer.allocUnsafe(payload.length + c.tx.overhead);
      const len = c.tx.protect(out, c.pt, k === 0, c.seq, ts, c.ssrc, payload);
      c.pair.rtp.send(out.subarray(0, len), c.remote.port, c.remote.address);
    } else {
      const h = Buffer.allocUnsafe(12);
      h[0] = 0x80;
      h[1] = (k === 0 ? 0x80 : 0) | c.pt;
      h.writeUInt16BE(c.seq, 2);
      h.writeUInt32BE(ts >>> 0, 4);
      h.writeUInt32BE(c.ssrc, 8);
      c.pair.rtp.send([h, payload], c.remote.port, c.remote.address);
    }
    c.sent++;
    if (mode === 'passthrough') {
      if (k >= plan.countFromFrame) c.sentCounted++;
    } else c.sendMarks.note(k, now);
  });
  lateMaxMs = r.lateMaxMs;
}

function results(): PbxResults {
  return collectResults(calls, mode, hist, lateMaxMs);
}

async function closeAll(): Promise<void> {
  const closing = calls.map((c) => c.pair.release());
  calls = [];
  await Promise.all(closing);
}

serveRpc({ allocate, answer, pump, results, closeAll }, 'pbx');
