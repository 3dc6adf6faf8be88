import { createSocket, type Socket } from 'node:dgram';
import { analyseTone, concatSamples, decodeG711, G722Decoder, OpusCodec, parseRtp, type ToneReport } from '@wagw/media-bridge';

/**
 * The media end of a PBX that SIPp plays the signalling of: a plain RTP socket on 127.0.0.1 (its port goes
 * into SIPp's SDP answer) that keeps what it receives and sends every packet straight back under its own
 * SSRC, so the WhatsApp user hears their own audio through the whole bridge. Received payloads can be
 * decoded (G.711, G.722 or Opus) and checked for a tone.
 */
export interface ReceivedRtp {
  payloadType: number;
  sequenceNumber: number;
  payload: Buffer;
  /** performance.now() when it arrived. */
  at: number;
}

export type EchoCodec = 'PCMU' | 'PCMA' | 'G722' | 'opus';

export interface RtpEchoPeer {
  readonly host: string;
  readonly port: number;
  /** Packets received, oldest first (the newest `maxKept`). */
  received(): readonly ReceivedRtp[];
  /** Packets sent back. */
  readonly echoed: number;
  /** Decodes the received packets of `payloadType` as `codec` and looks for `frequencyHz`. */
  heard(codec: EchoCodec, payloadType: number, frequencyHz: number): ToneReport;
  close(): Promise<void>;
}

const ECHO_SSRC = 0x5eed_0001;

/** `ssrc`: the SSRC it sends under (default 0x5eed0001); two peers with their own stand for two phones. */
export async function startRtpEchoPeer(options: { host?: string; maxKept?: number; ssrc?: number } = {}): Promise<RtpEchoPeer> {
  const ssrc = options.ssrc ?? ECHO_SSRC;
  const host = options.host ?? '127.0.0.1';
  const maxKept = options.maxKept ?? 1500;
  const socket: Socket = createSocket('udp4');
  const kept: ReceivedRtp[] = [];
  let echoed = 0;
  let closed = false;
  socket.on('message', (msg, from) => {
    if (msg.length < 12 || (msg[0] as number) >> 6 !== 2) return;
    const pt = (msg[1] as number) & 0x7f;
    if (pt >= 72 && pt <= 76) return; // RTCP (RFC 5761 §4): not echoed, not kept
    const p = parseRtp(Buffer.from(msg));
    kept.push({ payloadType: p.payloadType, sequenceNumber: p.sequenceNumber, payload: Buffer.from(p.payload), at: performance.now() });
    if (kept.length > maxKept) kept.shift();
    const back = Buffer.from(msg);
    back.writeUInt32BE(ssrc, 8);
    socket.send(back, from.port, from.address, () => undefined);
    echoed++;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  const port = socket.address().port;
  return {
    host,
    port,
    received: () => kept,
    get echoed() {
      return echoed;
    },
    heard: (codec, payloadType, frequencyHz) => {
      const packets = kept.filter((p) => p.payloadType === payloadType);
      if (codec === 'opus') {
        const opus = new OpusCodec(48000);
        const pcm = packets.map((p) => opus.decode(p.payload));
        return analyseTone(concatSamples(pcm), frequencyHz, 48000);
      }
      if (codec === 'G722') {
        const g722 = new G722Decoder();
        const pcm = packets.map((p) => {
          const out = new Int16Array(2 * p.payload.length);
          g722.decode(p.payload, out);
          return out;
        });
        return analyseTone(concatSamples(pcm), frequencyHz, 16000);
      }
      const pcm = packets.map((p) => {
        const out = new Int16Array(p.payload.length);
        decodeG711(codec, p.payload, out);
        return out;
      });
      return analyseTone(concatSamples(pcm), frequencyHz, 8000);
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => socket.close(() => resolve()));
    },
  };
}

