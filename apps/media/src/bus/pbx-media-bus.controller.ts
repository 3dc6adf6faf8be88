import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { z } from 'zod';
import {
  CONTRACT_VERSION,
  DeadlineExceededError,
  PBX_MEDIA_PATTERNS,
  answerPbxOfferReply,
  answerPbxOfferRequest,
  applyPbxAnswerRequest,
  closePbxLegRequest,
  createPbxOfferReply,
  createPbxOfferRequest,
  mediaStatsReply,
  mediaStatsRequest,
  negotiatedReply,
  okReply,
  closeLegReply,
  type CloseLegReply,
  playToneReply,
  playPbxToneRequest,
  playWaToneRequest,
  sendDtmfRequest,
  startBridgeRequest,
  updatePbxMediaReply,
  updatePbxMediaRequest,
  type AnswerPbxOfferReply,
  type CreatePbxOfferReply,
  type MediaStatsReply,
  type NegotiatedReply,
  type OkReply,
  type PlayToneReply,
  type UpdatePbxMediaReply,
} from '@wagw/contracts';
import { bridgeMediaSummaryOf } from './media-summary';
import type { Logger } from '@wagw/logging';
import { MEDIA_LOGGER } from '../media.tokens';
import { BridgeRegistry } from '../sessions/bridge-registry';
import { PbxLegRegistry } from '../sessions/pbx-leg-registry';
import type { NegotiatedMedia } from '../sessions/pbx-sdp';
import { SessionRegistry } from '../sessions/session-registry';
import { serveRequest } from './serve-request';

const OK: OkReply = { v: CONTRACT_VERSION, ok: true };

function negotiated(media: NegotiatedMedia): NegotiatedReply {
  return {
    v: CONTRACT_VERSION,
    codec: media.codec,
    payloadType: media.payloadType,
    ...(media.dtmfPayloadType !== undefined ? { dtmfPayloadType: media.dtmfPayloadType } : {}),
    ...(media.srtp ? { srtp: media.srtp.suite } : {}),
  };
}

/**
 * The PBX side of the media app over the bus (libs/contracts PBX_MEDIA_PATTERNS): RTP legs toward the
 * trunk, the bridge between a call's WhatsApp and PBX legs, DTMF, and the leak-check stats. Same rules as
 * MediaBusController: requests and replies validated, deadlines enforced, typed errors keep their code.
 */
@Controller()
export class PbxMediaBusController {
  constructor(
    private readonly waLegs: SessionRegistry,
    private readonly pbxLegs: PbxLegRegistry,
    private readonly bridges: BridgeRegistry,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
  ) {}

  @MessagePattern(PBX_MEDIA_PATTERNS.createPbxOffer)
  createPbxOffer(@Payload() data: unknown): Promise<CreatePbxOfferReply> {
    const pattern = PBX_MEDIA_PATTERNS.createPbxOffer;
    return this.#serve(pattern, createPbxOfferRequest, createPbxOfferReply, data, async (req) => {
      const created = await this.pbxLegs.createOffer(req.callId, req.codecs, req.srtp ?? 'off');
      await this.#abandonIfLate(pattern, req.callId, created.legId, req.deadline);
      return { v: CONTRACT_VERSION, ...created };
    });
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.applyPbxAnswer)
  applyPbxAnswer(@Payload() data: unknown): Promise<NegotiatedReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.applyPbxAnswer, applyPbxAnswerRequest, negotiatedReply, data, async (req) =>
      negotiated(this.pbxLegs.applyAnswer(req.callId, req.legId, req.sdp)),
    );
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.answerPbxOffer)
  answerPbxOffer(@Payload() data: unknown): Promise<AnswerPbxOfferReply> {
    const pattern = PBX_MEDIA_PATTERNS.answerPbxOffer;
    return this.#serve(pattern, answerPbxOfferRequest, answerPbxOfferReply, data, async (req) => {
      const { legId, sdp, rtpPort, media } = await this.pbxLegs.answerOffer(req.callId, req.sdp, req.codecs, req.srtp ?? 'off');
      await this.#abandonIfLate(pattern, req.callId, legId, req.deadline);
      return { ...negotiated(media), legId, sdp, rtpPort };
    });
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.updatePbxMedia)
  updatePbxMedia(@Payload() data: unknown): Promise<UpdatePbxMediaReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.updatePbxMedia, updatePbxMediaRequest, updatePbxMediaReply, data, async (req) => ({
      v: CONTRACT_VERSION,
      ...this.pbxLegs.update(req.callId, req.legId, req.kind, req.sdp),
    }));
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.playPbxTone)
  playPbxTone(@Payload() data: unknown): Promise<PlayToneReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.playPbxTone, playPbxToneRequest, playToneReply, data, async (req) => ({
      v: CONTRACT_VERSION,
      playing: this.pbxLegs.playTone(req.callId, req.legId, req.tone),
    }));
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.playWaTone)
  playWaTone(@Payload() data: unknown): Promise<PlayToneReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.playWaTone, playWaToneRequest, playToneReply, data, async (req) => ({
      v: CONTRACT_VERSION,
      playing: this.bridges.playToWa(req.callId, req.tone),
    }));
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.startBridge)
  startBridge(@Payload() data: unknown): Promise<OkReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.startBridge, startBridgeRequest, okReply, data, async (req) => {
      const waLeg = this.waLegs.get(req.callId, req.waLegId);
      const pbxLeg = this.pbxLegs.negotiated(req.callId, req.pbxLegId);
      this.pbxLegs.stopTone(req.callId, req.pbxLegId, 'bridged');
      this.bridges.start(req.callId, { legId: req.waLegId, leg: waLeg }, pbxLeg);
      return OK;
    });
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.sendDtmf)
  sendDtmf(@Payload() data: unknown): Promise<OkReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.sendDtmf, sendDtmfRequest, okReply, data, async (req) => {
      await this.bridges.sendDtmf(req.callId, req.toward, req.digits, req.durationMs);
      return OK;
    });
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.closePbxLeg)
  closePbxLeg(@Payload() data: unknown): Promise<CloseLegReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.closePbxLeg, closePbxLegRequest, closeLegReply, data, async (req) => {
      const media = bridgeMediaSummaryOf(await this.pbxLegs.close(req.callId, req.legId, req.reason));
      return media ? { ...OK, media } : OK;
    });
  }

  @MessagePattern(PBX_MEDIA_PATTERNS.mediaStats)
  mediaStats(@Payload() data: unknown): Promise<MediaStatsReply> {
    return this.#serve(PBX_MEDIA_PATTERNS.mediaStats, mediaStatsRequest, mediaStatsReply, data, async () => ({
      v: CONTRACT_VERSION,
      waLegs: this.waLegs.size,
      pbxLegs: this.pbxLegs.size,
      bridges: this.bridges.size,
      rtpPortsInUse: this.pbxLegs.portPairsInUse,
    }));
  }

  /** The caller stopped waiting: nobody will ever use or close this leg, so release it now. */
  async #abandonIfLate(pattern: string, callId: string, legId: string, deadline: number): Promise<void> {
    if (Date.now() <= deadline) return;
    await this.pbxLegs.close(callId, legId, 'request deadline passed');
    throw new DeadlineExceededError(pattern, deadline);
  }

  #serve<Req extends z.ZodType<{ deadline: number }>, Rep extends z.ZodType>(
    pattern: string,
    request: Req,
    reply: Rep,
    data: unknown,
    handle: (req: z.infer<Req>) => Promise<z.infer<Rep>>,
  ): Promise<z.infer<Rep>> {
    return serveRequest(this.logger, pattern, request, reply, data, handle);
  }
}
