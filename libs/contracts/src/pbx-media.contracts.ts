import { z } from 'zod';
import { CONTRACT_VERSION } from './media.contracts';

/**
 * Signalling <-> media messages for the PBX side (plain RTP toward the trunk) and the bridge between the
 * two legs. Same rules as media.contracts.ts: `v` on every message, `deadline` on every request.
 */
export const PBX_MEDIA_PATTERNS = {
  /** Allocate an RTP leg and build our SDP offer toward the PBX (we place the INVITE). */
  createPbxOffer: 'media.pbx-leg.create-offer',
  /** Apply the PBX's SDP answer (200 OK): negotiated codec, remote address. */
  applyPbxAnswer: 'media.pbx-leg.apply-answer',
  /** Allocate an RTP leg from the PBX's SDP offer (the PBX placed the INVITE) and answer it. */
  answerPbxOffer: 'media.pbx-leg.answer-offer',
  /**
   * A mid-call SDP from the PBX: a new offer (re-INVITE or UPDATE with SDP; the reply has our answer) or its
   * answer to the SDP we offered in a 2xx (ACK with SDP). Media address changes, hold and resume.
   */
  updatePbxMedia: 'media.pbx-leg.update',
  /**
   * Play ringback (ITU-T E.180 style) to the PBX on a negotiated leg until the bridge starts, the leg closes or
   * `none` is asked; the reply says whether a tone plays (an Opus leg gets none).
   */
  playPbxTone: 'media.pbx-leg.play-tone',
  /**
   * Play ringback to WhatsApp in place of the PBX's audio on the call's running bridge (a blind transfer's target
   * rings) until the bridge is replaced or `none` is asked; the reply says whether a tone plays (none when the
   * PBX leg passes Opus through).
   */
  playWaTone: 'media.bridge.play-to-wa',
  /** Bridge the WhatsApp leg and the PBX leg (audio both ways, DTMF mapping); opens the WhatsApp media gate. */
  startBridge: 'media.bridge.start',
  /** Send DTMF digits toward one side (e.g. SIP INFO from the PBX converted to RFC 4733 toward WhatsApp). */
  sendDtmf: 'media.bridge.send-dtmf',
  closePbxLeg: 'media.pbx-leg.close',
  /** Leak checks and /metrics: legs, bridges, RTP ports in use. */
  mediaStats: 'media.stats',
} as const;

export const PBX_MEDIA_EVENTS = {
  /** A DTMF digit completed in either direction. */
  dtmf: 'media.bridge.dtmf',
  /** A bridged call's side sent no RTP or RTCP for the media timeout (media.rtpTimeoutS / rtpHoldTimeoutS). */
  mediaTimeout: 'media.bridge.media-timeout',
} as const;

const envelope = { v: z.literal(CONTRACT_VERSION), deadline: z.number().int().positive() };
const callId = z.string().min(1).max(128);
const legId = z.string().min(1).max(128);
const sdp = z.string().min(10).max(20000);
export const pbxCodec = z.enum(['PCMU', 'PCMA', 'G722', 'opus']);
/** SDES-SRTP toward the trunk (RFC 4568): off (plain RTP), optional (taken when the PBX takes it), mandatory. */
export const srtpPolicy = z.enum(['off', 'optional', 'mandatory']);

export const createPbxOfferRequest = z.object({ ...envelope, callId, codecs: z.array(pbxCodec).min(1), srtp: srtpPolicy.optional() });
export const createPbxOfferReply = z.object({ v: z.literal(CONTRACT_VERSION), legId, sdp, rtpPort: z.number().int() });

export const applyPbxAnswerRequest = z.object({ ...envelope, callId, legId, sdp });
export const negotiatedReply = z.object({
  v: z.literal(CONTRACT_VERSION),
  codec: pbxCodec,
  payloadType: z.number().int().min(0).max(127),
  dtmfPayloadType: z.number().int().min(0).max(127).optional(),
  /** The SDES crypto suite when the leg runs SRTP. */
  srtp: z.string().max(64).optional(),
});

export const answerPbxOfferRequest = z.object({ ...envelope, callId, sdp, codecs: z.array(pbxCodec).min(1), srtp: srtpPolicy.optional() });
export const answerPbxOfferReply = negotiatedReply.extend({ legId, sdp, rtpPort: z.number().int() });

export const updatePbxMediaRequest = z.object({ ...envelope, callId, legId, kind: z.enum(['offer', 'answer']), sdp });
export const updatePbxMediaReply = z.object({ v: z.literal(CONTRACT_VERSION), sdp: sdp.optional(), sending: z.boolean() });

export const startBridgeRequest = z.object({ ...envelope, callId, waLegId: legId, pbxLegId: legId });

/** Ringback styles of ITU-T E.180: `eu` 425 Hz (CEPT, most countries), `us` 440+480 Hz, `uk` 400+450 Hz. */
export const ringbackStyle = z.enum(['eu', 'us', 'uk']);
export const playPbxToneRequest = z.object({ ...envelope, callId, legId, tone: z.union([ringbackStyle, z.literal('none')]) });
export const playWaToneRequest = z.object({ ...envelope, callId, tone: z.union([ringbackStyle, z.literal('none')]) });
export const playToneReply = z.object({ v: z.literal(CONTRACT_VERSION), playing: z.boolean() });

export const sendDtmfRequest = z.object({
  ...envelope,
  callId,
  toward: z.enum(['wa', 'pbx']),
  digits: z.string().regex(/^[0-9A-D*#]{1,32}$/, 'DTMF digits 0-9 A-D * #'),
  durationMs: z.number().int().min(40).max(2000).optional(),
});

export const closePbxLegRequest = z.object({ ...envelope, callId, legId, reason: z.string().max(200) });

export const mediaStatsRequest = z.object({ ...envelope });
export const mediaStatsReply = z.object({
  v: z.literal(CONTRACT_VERSION),
  waLegs: z.number().int(),
  pbxLegs: z.number().int(),
  bridges: z.number().int(),
  rtpPortsInUse: z.number().int(),
});

export const dtmfEvent = z.object({
  v: z.literal(CONTRACT_VERSION),
  callId,
  direction: z.enum(['wa-to-pbx', 'pbx-to-wa']),
  digit: z.string().regex(/^[0-9A-D*#]$/),
  durationMs: z.number().int(),
  at: z.number().int(),
});

export const mediaTimeoutEvent = z.object({
  v: z.literal(CONTRACT_VERSION),
  callId,
  waLegId: legId,
  pbxLegId: legId,
  /** The silent side: wa (WhatsApp) or pbx. */
  side: z.enum(['wa', 'pbx']),
  silentMs: z.number().int().nonnegative(),
  limitMs: z.number().int().positive(),
  /** The PBX held the call (its side had the hold limit). */
  onHold: z.boolean(),
  at: z.number().int(),
});

export type PbxCodec = z.infer<typeof pbxCodec>;
export type SrtpPolicy = z.infer<typeof srtpPolicy>;
export type CreatePbxOfferReply = z.infer<typeof createPbxOfferReply>;
export type NegotiatedReply = z.infer<typeof negotiatedReply>;
export type AnswerPbxOfferReply = z.infer<typeof answerPbxOfferReply>;
export type UpdatePbxMediaReply = z.infer<typeof updatePbxMediaReply>;
export type SendDtmfRequest = z.infer<typeof sendDtmfRequest>;
export type RingbackStyleName = z.infer<typeof ringbackStyle>;
export type PlayToneReply = z.infer<typeof playToneReply>;
export type MediaStatsReply = z.infer<typeof mediaStatsReply>;
export type DtmfEvent = z.infer<typeof dtmfEvent>;
export type MediaTimeoutEvent = z.infer<typeof mediaTimeoutEvent>;
