import type { PbxCodec } from '@wagw/contracts';
import type { RtpRemote } from '@wagw/media-bridge';
import { buildAnswer, buildOffer, parseSdp, SipError, type AudioDescription, type ParsedSdp, type RtpCodec } from '@wagw/sip';
import { SdpNotAcceptableError } from './media.errors';

/**
 * Offer/answer for the PBX leg (RFC 3264) on top of the @wagw/sip SDP helpers: plain RTP/AVP, one audio
 * stream, 20 ms frames, RFC 4733 telephone-event/8000.
 */

/** What a PBX leg negotiated. Payload types are the ones the PBX expects to receive (RFC 3264 §5.1, §6.1). */
export interface NegotiatedMedia {
  codec: PbxCodec;
  payloadType: number;
  clockRate: number;
  /** telephone-event/8000 payload type, when both sides have it. */
  dtmfPayloadType?: number;
  /** Where to send RTP; null when the SDP holds the stream (c=0.0.0.0): latching finds the source. */
  remote: RtpRemote | null;
  /** Payload types the PBX may send to us: the negotiated ones plus, for our offer, our numbers for them. */
  receivePayloadTypes: number[];
}

export const PTIME_MS = 20;
const DTMF_CLOCK_RATE = 8000;

export function pbxCodecOf(name: string): PbxCodec | undefined {
  const lower = name.toLowerCase();
  if (lower === 'pcmu') return 'PCMU';
  if (lower === 'pcma') return 'PCMA';
  if (lower === 'opus') return 'opus';
  return undefined;
}

/** Codecs in the caller's order, each once. */
function unique(codecs: readonly PbxCodec[]): PbxCodec[] {
  return [...new Set(codecs)];
}

/** Our offer: the codecs in the requested order, then telephone-event/8000, ptime 20. */
export function buildPbxOffer(address: string, port: number, codecs: readonly PbxCodec[]): string {
  return buildOffer({ address, port, codecs: unique(codecs), telephoneEvent: true, ptime: PTIME_MS });
}

function remoteOf(audio: AudioDescription): RtpRemote | null {
  const address = audio.connectionAddress;
  return address && address !== '0.0.0.0' ? { address, port: audio.port } : null;
}

function playableAudio(sdp: string | ParsedSdp, what: string): AudioDescription {
  let parsed: ParsedSdp;
  try {
    parsed = typeof sdp === 'string' ? parseSdp(sdp) : sdp;
  } catch {
    throw new SdpNotAcceptableError(`unparseable ${what}`);
  }
  const audio = parsed.audio;
  if (!audio || audio.port === 0 || !/^RTP\/AVP$/i.test(audio.protocol)) throw new SdpNotAcceptableError(`no plain RTP audio stream in the ${what}`);
  return audio;
}

function negotiated(codec: RtpCodec, te: RtpCodec | undefined, audio: AudioDescription, extraReceive: readonly number[]): NegotiatedMedia {
  const name = pbxCodecOf(codec.name) as PbxCodec;
  const dtmf = te && te.clockRate === DTMF_CLOCK_RATE ? te.payloadType : undefined;
  const receive = new Set([codec.payloadType, ...extraReceive]);
  if (dtmf !== undefined) receive.add(dtmf);
  return {
    codec: name,
    payloadType: codec.payloadType,
    clockRate: codec.clockRate,
    ...(dtmf !== undefined ? { dtmfPayloadType: dtmf } : {}),
    remote: remoteOf(audio),
    receivePayloadTypes: [...receive],
  };
}

/**
 * The PBX's answer to our offer: the first codec of the answer that we offered (the answerer's choice),
 * its telephone-event/8000 if any. Our offer's numbers for the same formats are accepted on receive too.
 */
export function negotiateAnswer(answerSdp: string, ourOffer: string): NegotiatedMedia {
  const answer = playableAudio(answerSdp, 'answer');
  const offer = playableAudio(ourOffer, 'offer');
  const codec = answer.codecs.find((c) => {
    const name = pbxCodecOf(c.name);
    return name !== undefined && offer.codecs.some((o) => pbxCodecOf(o.name) === name);
  });
  if (!codec) throw new SdpNotAcceptableError(`the answer has none of the offered codecs (${offer.codecs.map((c) => c.name).join(', ')})`);
  const te = answer.telephoneEvents.find((t) => t.clockRate === DTMF_CLOCK_RATE);
  const ours = offer.codecs.find((o) => pbxCodecOf(o.name) === pbxCodecOf(codec.name));
  const ourTe = te ? offer.telephoneEvents.find((t) => t.clockRate === DTMF_CLOCK_RATE) : undefined;
  const extra = [ours?.payloadType, ourTe?.payloadType].filter((pt): pt is number => pt !== undefined);
  return negotiated(codec, te, answer, extra);
}

/** Our answer to the PBX's offer: one codec by our preference, the offer's telephone-event, ptime 20. */
export function answerOffer(offerSdp: string, preferences: readonly PbxCodec[], address: string, port: number): { sdp: string; media: NegotiatedMedia } {
  const audio = playableAudio(offerSdp, 'offer');
  try {
    const answer = buildAnswer(offerSdp, { address, port, preferences: unique(preferences), ptime: PTIME_MS, telephoneEvent: true });
    return { sdp: answer.sdp, media: negotiated(answer.codec, answer.telephoneEvent, audio, []) };
  } catch (err) {
    if (err instanceof SipError) throw new SdpNotAcceptableError(`${err.status} ${err.reason}${err.headers['warning'] ? ` (${err.headers['warning']})` : ''}`);
    throw err;
  }
}
