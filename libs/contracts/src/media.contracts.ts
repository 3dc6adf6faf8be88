import { z } from 'zod';

/**
 * Signalling <-> media messages over @nestjs/microservices (Redis transport). Every message carries its
 * schema version `v`; every request carries `deadline` (epoch ms): the media app refuses a request whose
 * deadline has passed, and the sender stops waiting at the deadline (a network bus can lose replies).
 */
export const CONTRACT_VERSION = 1 as const;

/** Message patterns (request/response) and event patterns (fire-and-forget), one name per concept. */
export const MEDIA_PATTERNS = {
  createWaLeg: 'media.wa-leg.create',
  applyWaAnswer: 'media.wa-leg.apply-answer',
  startWaMedia: 'media.wa-leg.start-media',
  analyseWaTone: 'media.wa-leg.analyse-tone',
  closeWaLeg: 'media.wa-leg.close',
  listLegs: 'media.legs.list',
} as const;

/**
 * The channel a request pattern travels on to one media app instance (media.instanceId): the pattern itself
 * for the single, unnamed instance, `<instanceId>/<pattern>` otherwise. Replies come on `<channel>.reply`.
 */
export function mediaRequestChannel(instanceId: string, pattern: string): string {
  return instanceId === '' ? pattern : `${instanceId}/${pattern}`;
}

export const MEDIA_EVENTS = {
  waLegStateChanged: 'media.wa-leg.state-changed',
} as const;

const envelope = {
  v: z.literal(CONTRACT_VERSION),
  deadline: z.number().int().positive(),
};
const callId = z.string().min(1).max(128);
const legId = z.string().min(1).max(128);
const sdp = z.string().min(10).max(20000);

/** Create the WebRTC leg toward WhatsApp: from Meta's offer (user-initiated) or producing our offer (business-initiated). */
export const createWaLegRequest = z.object({ ...envelope, callId, remoteOffer: sdp.optional() });
export const createWaLegReply = z.object({ v: z.literal(CONTRACT_VERSION), legId, sdpType: z.enum(['offer', 'answer']), sdp });

/** Business-initiated: apply Meta's SDP answer from the connect webhook. */
export const applyWaAnswerRequest = z.object({ ...envelope, callId, legId, sdp });

/** Start sending toward WhatsApp (only after accept returned 200 / the call connected). */
export const mediaSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tone'), frequencyHz: z.number().int().min(1).max(4000) }),
  z.object({ kind: z.literal('silence') }),
]);
export const startWaMediaRequest = z.object({ ...envelope, callId, legId, source: mediaSource });

export const analyseWaToneRequest = z.object({ ...envelope, callId, legId, frequencyHz: z.number().int().min(1).max(4000) });
export const toneReport = z.object({
  v: z.literal(CONTRACT_VERSION),
  frequencyHz: z.number(),
  frames: z.number().int(),
  framesWithTone: z.number().int(),
  meanRatio: z.number(),
  packetsReceived: z.number().int(),
  packetsSent: z.number().int(),
});

export const closeWaLegRequest = z.object({ ...envelope, callId, legId, reason: z.string().max(200) });
export const okReply = z.object({ v: z.literal(CONTRACT_VERSION), ok: z.literal(true) });

/** What the gateway received from one side while the call's bridge ran (RFC 3550 loss and jitter of that stream). */
const receivedMedia = z.object({
  packets: z.number().int().nonnegative(),
  lost: z.number().int().nonnegative(),
  jitterMs: z.number().nonnegative(),
});
/** A stopped bridge's media, per side it came from: for the call's CDR. */
export const bridgeMediaSummary = z.object({
  mode: z.enum(['transcode', 'passthrough']),
  fromWa: receivedMedia,
  fromPbx: receivedMedia,
});
/**
 * The answer to closing a leg (closeWaLeg, closePbxLeg): `media` when the close stopped the call's bridge.
 * A media app of an earlier version answers without it, which reads the same as no bridge.
 */
export const closeLegReply = okReply.extend({ media: bridgeMediaSummary.optional() });

export const listLegsRequest = z.object({ ...envelope });
/** A leg the media app holds: `ageMs` since it was made (the orphan-leg sweep leaves legs younger than its grace). */
const heldLeg = z.object({ callId, legId, state: z.string(), ageMs: z.number().int().min(0).optional() });
export const listLegsReply = z.object({
  v: z.literal(CONTRACT_VERSION),
  /** WhatsApp legs. */
  legs: z.array(heldLeg),
  /** RTP legs toward the PBX (`offered` until the PBX's SDP is applied, then `negotiated`). */
  pbxLegs: z.array(heldLeg).optional(),
});

export const waLegState = z.enum(['new', 'connecting', 'connected', 'failed', 'closed']);
export const waLegStateChangedEvent = z.object({
  v: z.literal(CONTRACT_VERSION),
  callId,
  legId,
  state: waLegState,
  reason: z.string().optional(),
  at: z.number().int(),
});

export type CreateWaLegRequest = z.infer<typeof createWaLegRequest>;
export type CreateWaLegReply = z.infer<typeof createWaLegReply>;
export type ApplyWaAnswerRequest = z.infer<typeof applyWaAnswerRequest>;
export type MediaSource = z.infer<typeof mediaSource>;
export type StartWaMediaRequest = z.infer<typeof startWaMediaRequest>;
export type AnalyseWaToneRequest = z.infer<typeof analyseWaToneRequest>;
export type ToneReportReply = z.infer<typeof toneReport>;
export type CloseWaLegRequest = z.infer<typeof closeWaLegRequest>;
export type OkReply = z.infer<typeof okReply>;
export type BridgeMediaSummary = z.infer<typeof bridgeMediaSummary>;
export type CloseLegReply = z.infer<typeof closeLegReply>;
export type ListLegsReply = z.infer<typeof listLegsReply>;
export type WaLegState = z.infer<typeof waLegState>;
export type WaLegStateChangedEvent = z.infer<typeof waLegStateChangedEvent>;
