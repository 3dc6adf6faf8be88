/**
 * Load generator, WhatsApp side (its own process): N simulated WhatsApp users, each a werift peer shaped
 * like Meta's relay (ICE-lite, DTLS server in its offer, Opus PT 111, one SSRC). It offers, takes the
 * answer of the system under test (our media app or rtpengine), then sends 50 packets/s of Opus and counts
 * and times what comes back. RPC methods are called by the driver (generator-rpc.ts).
 */
import { silentLogger } from '@wagw/logging';
import { OpusCodec, SimulatedWhatsAppPeer, type RtpPacketIn } from '@wagw/media-bridge';
import { LatencyHistogram, LOOP_FRAMES, readStampedIndex, monoUs, OnsetDetector, opusLoop, readStamp, stampedPayload, type MarkedLoop } from './audio-marks';
import { serveRpc } from './generator-rpc';
import { runSchedule, type PumpPlan } from './pump-schedule';
import { ArrivalMarks, SendMarks } from './loss-count';
import { collectResults, startCounting, type BenchMode, type CallCounts, type GeneratorResults } from './generator-counts';

export type { BenchMode } from './generator-counts';

interface WaCall extends CallCounts {
  peer: SimulatedWhatsAppPeer;
  decoder: OpusCodec | null;
  detector: OnsetDetector;
  off: () => void;
}

export type WaResults = GeneratorResults;

const logger = silentLogger();
const OPUS_PT = 111;
let calls: WaCall[] = [];
let mode: BenchMode = 'transcode';
let loop: MarkedLoop | undefined;
let hist = new LatencyHistogram();
let window = { from: 0, to: 0 };
let lateMaxMs = 0;
let countFrom = 0;

function onRtp(c: WaCall, p: RtpPacketIn): void {
  if (p.payloadType !== OPUS_PT) return;
  const now = monoUs();
  c.received++;
  if (mode === 'passthrough') {
    if (readStampedIndex(p.payload) >= countFrom) c.receivedCounted++;
  } else c.arrivals.note(now);
  if (mode === 'passthrough') {
    const sentUs = readStamp(p.payload);
    if (sentUs !== undefined && sentUs >= window.from && sentUs <= window.to) hist.add((now - sentUs) / 1000);
    return;
  }
  const pcm = (c.decoder as OpusCodec).decode(p.payload);
  let s = 0;
  for (let i = 0; i < pcm.length; i++) s += Math.abs(pcm[i] as number);
  if (c.detector.push(s / pcm.length)) c.onsetReceivedUs.push(now);
}

let iceAddress = '127.0.0.1';
let iceLite = true;

function newCall(): WaCall {
  const peer = new SimulatedWhatsAppPeer({ iceAddress, logger, recordSeconds: 0, fastSrtp: true, iceLite });
  const c: WaCall = { peer, sent: 0, received: 0, sentCounted: 0, receivedCounted: 0, countFromUs: Number.POSITIVE_INFINITY, sendMarks: new SendMarks(0), arrivals: new ArrivalMarks(), onsetSentUs: [], onsetReceivedUs: [], decoder: mode === 'transcode' ? new OpusCodec(8000) : null, detector: new OnsetDetector(), off: () => undefined };
  c.off = peer.onRtp((p) => onRtp(c, p));
  return c;
}

/** `lite`: ICE-lite like Meta (our media app), or a full ICE agent (rtpengine, see SimulatedWhatsAppPeer). */
async function createPeers(n: number, benchMode: BenchMode, address: string, lite: boolean): Promise<string[]> {
  mode = benchMode;
  iceAddress = address;
  iceLite = lite;
  loop ??= opusLoop();
  const offers: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = newCall();
    calls.push(c);
    offers.push(await c.peer.createOffer());
  }
  return offers;
}

/** Replaces call i's peer with a fresh one (its call is set up again); returns the new offer. */
async function replacePeer(i: number): Promise<string> {
  const old = calls[i] as WaCall;
  old.off();
  void old.peer.close();
  const c = newCall();
  calls[i] = c;
  return c.peer.createOffer();
}

async function applyAnswer(i: number, sdp: string): Promise<void> {
  await (calls[i] as WaCall).peer.applyAnswer(sdp);
}

/** Waits for every peer's DTLS (up to `timeoutMs`); returns the indexes of the calls that did not connect. */
async function waitConnected(timeoutMs: number): Promise<number[]> {
  const results = await Promise.allSettled(calls.map((c) => c.peer.connected(timeoutMs)));
  return results.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
}

async function pump(plan: PumpPlan): Promise<void> {
  hist = new LatencyHistogram();
  window = { from: plan.windowFromUs, to: plan.windowToUs };
  countFrom = plan.countFromFrame;
  startCounting(calls, plan);
  const frames = (loop as MarkedLoop).frames;
  const onset = (loop as MarkedLoop).onset;
  const r = await runSchedule(calls.length, plan, (i, k, now) => {
    const c = calls[i] as WaCall;
    let payload: Buffer;
    if (mode === 'passthrough') payload = stampedPayload(now, i, k);
    else {
      const f = (k + i * 7) % LOOP_FRAMES; // calls beep at different times
      payload = frames[f] as Buffer;
      if (onset[f]) c.onsetSentUs.push(now);
    }
    // a packet refused (DTLS not up, ICE consent) is still counted as sent: the loss figure covers it
    c.peer.sendRtp({ payloadType: OPUS_PT, timestamp: (k * 960) >>> 0, marker: k === 0, payload });
    c.sent++;
    if (mode === 'passthrough') {
      if (k >= plan.countFromFrame) c.sentCounted++;
    } else c.sendMarks.note(k, now);
  });
  lateMaxMs = r.lateMaxMs;
}

function results(): WaResults {
  return collectResults(calls, mode, hist, lateMaxMs);
}

async function closeAll(): Promise<void> {
  const closing = calls.map((c) => {
    c.off();
    return c.peer.close();
  });
  calls = [];
  await Promise.all(closing);
}

serveRpc({ createPeers, replacePeer, applyAnswer, waitConnected, pump, results, closeAll }, 'wa');
