import type { PbxCodec, SrtpPolicy } from '@wagw/contracts';
import type { RtpRemote } from '@wagw/media-bridge';
import { buildAnswer, buildOffer, parseSdp, SipError, audioProtocolOf, type AudioDescription, type AudioProtocol, type CodecName, type ParsedSdp, type RtpCodec, type SdpCrypto, type SdpDirection } from '@wagw/sip';
import { SdpNotAcceptableError } from './media.errors';
import { answeredSrtp, chooseOfferedCrypto, offerCrypto, ourCryptoLine, reofferedSrtp, type NegotiatedSrtp, type OfferedCrypto } from './pbx-srtp';

/**
 * Offer/answer for the PBX leg (RFC 3264) on top of the @wagw/sip SDP helpers: one audio stream, 20 ms
 * frames, RFC 4733 telephone-event/8000; plain RTP/AVP, or SRTP with SDES keys by the trunk's `srtp`
 * policy (pbx-srtp.ts).
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
  /** Whether the PBX receives RTP (its SDP says sendrecv or recvonly): we send only then (RFC 3264 §5.1). */
  sending: boolean;
  /** SRTP with SDES keys, when negotiated. */
  srtp?: NegotiatedSrtp;
}

/** Our offer toward the PBX: the SDP and the crypto lines it holds (our key for each, by tag). */
export interface PbxOffer {
  sdp: string;
  crypto: OfferedCrypto[];
}

export const PTIME_MS = 20;
const DTMF_CLOCK_RATE = 8000;

export function pbxCodecOf(name: string): PbxCodec | undefined {
  const lower = name.toLowerCase();
  if (lower === 'pcmu') return 'PCMU';
  if (lower === 'pcma') return 'PCMA';
  if (lower === 'g722') return 'G722';
  if (lower === 'opus') return 'opus';
  return undefined;
}

/** Codecs in the caller's order, each once. */
function unique(codecs: readonly PbxCodec[]): PbxCodec[] {
  return [...new Set(codecs)];
}

/**
 * Our offer: the codecs in the requested order, then telephone-event/8000, ptime 20. With `srtp` mandatory:
 * RTP/SAVP and a crypto line per suite; optional: RTP/AVP with the same lines (the PBX may take them or not).
 */
export function buildPbxOffer(address: string, port: number, codecs: readonly PbxCodec[], srtp: SrtpPolicy = 'off'): PbxOffer {
  const crypto = offerCrypto(srtp);
  const sdp = buildOffer({
    address,
    port,
    codecs: unique(codecs),
    telephoneEvent: true,
    ptime: PTIME_MS,
    ...(srtp === 'mandatory' ? { protocol: 'RTP/SAVP' as const } : {}),
    ...(crypto.length > 0 ? { crypto: crypto.map((c) => ourCryptoLine(c.tag, c.suite, c.local)) } : {}),
  });
  return { sdp, crypto };
}

function remoteOf(audio: AudioDescription): RtpRemote | null {
  const address = audio.connectionAddress;
  return address && address !== '0.0.0.0' ? { address, port: audio.port } : null;
}

const ANY_PROTOCOL: readonly AudioProtocol[] = ['RTP/AVP', 'RTP/SAVP'];

/** The audio stream of an SDP, on one of `protocols` (RTP/SAVP only where SRTP is on). */
function playableAudio(sdp: string | ParsedSdp, what: string, protocols: readonly AudioProtocol[] = ANY_PROTOCOL): AudioDescription {
  let parsed: ParsedSdp;
  try {
    parsed = typeof sdp === 'string' ? parseSdp(sdp) : sdp;
  } catch {
    throw new SdpNotAcceptableError(`unparseable ${what}`);
  }
  const audio = parsed.audio;
  if (!audio || audio.port === 0) throw new SdpNotAcceptableError(`no audio stream in the ${what}`);
  const protocol = audioProtocolOf(audio.protocol);
  if (protocol === undefined) throw new SdpNotAcceptableError(`no RTP audio stream in the ${what} (${audio.protocol})`);
  if (!protocols.includes(protocol)) throw new SdpNotAcceptableError(`the ${what} asks for SRTP (RTP/SAVP) and the trunk's srtp is off`);
  return audio;
}

/** The PBX's SDP direction allows it to receive. */
function pbxReceives(direction: SdpDirection): boolean {
  return direction === 'sendrecv' || direction === 'recvonly';
}

function negotiated(codec: RtpCodec, te: RtpCodec | undefined, audio: AudioDescription, extraReceive: readonly number[], srtp: NegotiatedSrtp | undefined): NegotiatedMedia {
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
    sending: pbxReceives(audio.direction),
    ...(srtp ? { srtp } : {}),
  };
}

/**
 * The PBX's answer to our offer: the first codec of the answer that we offered (the answerer's choice),
 * its telephone-event/8000 if any. Our offer's numbers for the same formats are accepted on receive too.
 * SRTP: the answer's crypto line names the tag of ours it took (pbx-srtp.ts `answeredSrtp`).
 */
export function negotiateAnswer(answerSdp: string, ourOffer: PbxOffer, policy: SrtpPolicy = 'off'): NegotiatedMedia {
  const answer = playableAudio(answerSdp, 'answer');
  const offer = playableAudio(ourOffer.sdp, 'offer');
  const codec = answer.codecs.find((c) => {
    const name = pbxCodecOf(c.name);
    return name !== undefined && offer.codecs.some((o) => pbxCodecOf(o.name) === name);
  });
  if (!codec) throw new SdpNotAcceptableError(`the answer has none of the offered codecs (${offer.codecs.map((c) => c.name).join(', ')})`);
  const te = answer.telephoneEvents.find((t) => t.clockRate === DTMF_CLOCK_RATE);
  const ours = offer.codecs.find((o) => pbxCodecOf(o.name) === pbxCodecOf(codec.name));
  const ourTe = te ? offer.telephoneEvents.find((t) => t.clockRate === DTMF_CLOCK_RATE) : undefined;
  const extra = [ours?.payloadType, ourTe?.payloadType].filter((pt): pt is number => pt !== undefined);
  return negotiated(codec, te, answer, extra, answeredSrtp(answer, ourOffer.crypto, policy));
}

/**
 * Our answer to the PBX's offer: one codec by our preference, the offer's telephone-event, ptime 20, and,
 * by the trunk's `srtp` policy, the first usable crypto line of the offer answered with our own key.
 */
export function answerOffer(offerSdp: string, preferences: readonly PbxCodec[], address: string, port: number, policy: SrtpPolicy = 'off'): { sdp: string; media: NegotiatedMedia } {
  const audio = playableAudio(offerSdp, 'offer', policy === 'off' ? ['RTP/AVP'] : ANY_PROTOCOL);
  const srtp = policy === 'off' ? undefined : chooseOfferedCrypto(audio, policy);
  try {
    const answer = buildAnswer(offerSdp, {
      address,
      port,
      preferences: unique(preferences),
      ptime: PTIME_MS,
      telephoneEvent: true,
      protocols: ANY_PROTOCOL,
      ...(srtp ? { crypto: [ourCryptoLine(srtp.tag, srtp.suite, srtp.local)] } : {}),
    });
    return { sdp: answer.sdp, media: negotiated(answer.codec, answer.telephoneEvent, audio, [], srtp) };
  } catch (err) {
    if (err instanceof SipError) throw new SdpNotAcceptableError(`${err.status} ${err.reason}${err.headers['warning'] ? ` (${err.headers['warning']})` : ''}`);
    throw err;
  }
}

/** What a mid-call SDP from the PBX changes on its leg. */
export interface MediaUpdate {
  /** Where to send RTP now; null when the SDP holds the stream (c=0.0.0.0): the address stays. */
  remote: RtpRemote | null;
  /** Whether we send RTP: the PBX receives and does not hold with c=0.0.0.0. */
  sending: boolean;
  /** The PBX's direction (its point of view). */
  direction: SdpDirection;
  /** The leg's SRTP after the change (a re-key brings the PBX's new key), when it runs SRTP. */
  srtp?: NegotiatedSrtp;
}

function mediaUpdate(audio: AudioDescription, srtp: NegotiatedSrtp | undefined): MediaUpdate {
  const remote = remoteOf(audio);
  return { remote, sending: remote !== null && pbxReceives(audio.direction), direction: audio.direction, ...(srtp ? { srtp } : {}) };
}

/**
 * The call's codec (and telephone-event) in a mid-call SDP, at the payload types negotiated at the start:
 * a session keeps its codec; a change of codec or of payload type numbers is refused (the caller answers
 * 488 and the session stays as it was, RFC 3261 §14.2).
 */
function sameCodec(audio: AudioDescription, media: NegotiatedMedia, what: string): { codec: RtpCodec; te: RtpCodec | undefined } {
  const codec = audio.codecs.find((c) => pbxCodecOf(c.name) === media.codec);
  if (!codec) throw new SdpNotAcceptableError(`the ${what} drops the call's codec ${media.codec} (changing codecs mid-call is not supported)`);
  if (codec.payloadType !== media.payloadType) {
    throw new SdpNotAcceptableError(`the ${what} moves ${media.codec} from payload type ${media.payloadType} to ${codec.payloadType} (not supported mid-call)`);
  }
  const te = audio.telephoneEvents.find((t) => t.clockRate === DTMF_CLOCK_RATE);
  if (te && media.dtmfPayloadType !== undefined && te.payloadType !== media.dtmfPayloadType) {
    throw new SdpNotAcceptableError(`the ${what} moves telephone-event from payload type ${media.dtmfPayloadType} to ${te.payloadType} (not supported mid-call)`);
  }
  return { codec, te: media.dtmfPayloadType !== undefined ? te : undefined };
}

/** The SDP without its o= line: what tells a changed session description from a repeated one. */
function body(sdp: string): string {
  return sdp.replace(/^o=.*$/m, '');
}

/**
 * Our answer to a new offer from the PBX in an established call (a re-INVITE or UPDATE with SDP, RFC 3264
 * §8): the same address, port, codec and telephone-event as before, the direction that answers the offer's
 * (sendonly -> recvonly, inactive -> inactive), and our o= version raised by one when the answer differs
 * from our previous SDP (kept when it does not, §8). `ourLastSdp` is the SDP we sent last.
 */
export function answerReoffer(offerSdp: string, media: NegotiatedMedia, ourLastSdp: string, address: string, port: number): { sdp: string; update: MediaUpdate } {
  const audio = playableAudio(offerSdp, 're-offer');
  const { codec } = sameCodec(audio, media, 're-offer');
  const srtp = reofferedSrtp(audio, media.srtp, 're-offer');
  const crypto: SdpCrypto[] = srtp ? [ourCryptoLine(srtp.tag, srtp.suite, srtp.local)] : [];
  const last = parseSdp(ourLastSdp).origin;
  const build = (version: string): string => {
    try {
      return buildAnswer(offerSdp, {
        address,
        port,
        preferences: [codec.name as CodecName],
        ptime: PTIME_MS,
        telephoneEvent: media.dtmfPayloadType !== undefined,
        sessionId: last.sessionId,
        sessionVersion: version,
        protocols: ANY_PROTOCOL,
        crypto,
      }).sdp;
    } catch (err) {
      if (err instanceof SipError) throw new SdpNotAcceptableError(`${err.status} ${err.reason}${err.headers['warning'] ? ` (${err.headers['warning']})` : ''}`);
      throw err;
    }
  };
  let sdp = build(last.sessionVersion);
  if (body(sdp) !== body(ourLastSdp)) sdp = build(String(BigInt(/^\d+$/.test(last.sessionVersion) ? last.sessionVersion : '0') + 1n));
  return { sdp, update: mediaUpdate(audio, srtp) };
}

/**
 * The PBX's answer to the offer we made mid-call (our SDP in the 2xx to its re-INVITE without SDP, answered
 * in its ACK, RFC 3261 §14.1): same codec rules as a re-offer; nothing to send back.
 */
export function applyReanswer(answerSdp: string, media: NegotiatedMedia): MediaUpdate {
  const audio = playableAudio(answerSdp, 're-answer');
  sameCodec(audio, media, 're-answer');
  return mediaUpdate(audio, reofferedSrtp(audio, media.srtp, 're-answer'));
}
