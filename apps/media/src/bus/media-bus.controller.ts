import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { z } from 'zod';
import {
  CONTRACT_VERSION,
  DeadlineExceededError,
  MEDIA_PATTERNS,
  analyseWaToneRequest,
  applyWaAnswerRequest,
  closeWaLegRequest,
  createWaLegReply,
  createWaLegRequest,
  listLegsReply,
  listLegsRequest,
  okReply,
  closeLegReply,
  type CloseLegReply,
  startWaMediaRequest,
  toneReport,
  type CreateWaLegReply,
  type ListLegsReply,
  type OkReply,
  type ToneReportReply,
} from '@wagw/contracts';
import { bridgeMediaSummaryOf } from './media-summary';
import type { Logger } from '@wagw/logging';
import { MEDIA_LOGGER } from '../media.tokens';
import { BridgeRegistry } from '../sessions/bridge-registry';
import { PbxLegRegistry } from '../sessions/pbx-leg-registry';
import { SessionRegistry } from '../sessions/session-registry';
import { serveRequest } from './serve-request';

const OK: OkReply = { v: CONTRACT_VERSION, ok: true };

/**
 * The media app's bus commands (libs/contracts MEDIA_PATTERNS over the Redis transport). Each request is
 * validated against its contract and refused once past its deadline; each reply is validated too.
 * Refusals carry `{ code, message }` (see rpc-error.ts); a bad request never touches other legs.
 */
@Controller()
export class MediaBusController {
  constructor(
    private readonly registry: SessionRegistry,
    private readonly bridges: BridgeRegistry,
    @Inject(MEDIA_LOGGER) private readonly logger: Logger,
    private readonly pbxLegs: PbxLegRegistry,
  ) {}

  @MessagePattern(MEDIA_PATTERNS.createWaLeg)
  createWaLeg(@Payload() data: unknown): Promise<CreateWaLegReply> {
    const pattern = MEDIA_PATTERNS.createWaLeg;
    return this.#serve(pattern, createWaLegRequest, createWaLegReply, data, async (req) => {
      const created = await this.registry.create(req.callId, req.remoteOffer);
      if (Date.now() > req.deadline) {
        // the caller stopped waiting: nobody will ever use or close this leg
        await this.registry.close(req.callId, created.legId, 'request deadline passed');
        throw new DeadlineExceededError(pattern, req.deadline);
      }
      return { v: CONTRACT_VERSION, ...created };
    });
  }

  @MessagePattern(MEDIA_PATTERNS.applyWaAnswer)
  applyWaAnswer(@Payload() data: unknown): Promise<OkReply> {
    return this.#serve(MEDIA_PATTERNS.applyWaAnswer, applyWaAnswerRequest, okReply, data, async (req) => {
      await this.registry.get(req.callId, req.legId).applyAnswer(req.sdp);
      return OK;
    });
  }

  @MessagePattern(MEDIA_PATTERNS.startWaMedia)
  startWaMedia(@Payload() data: unknown): Promise<OkReply> {
    return this.#serve(MEDIA_PATTERNS.startWaMedia, startWaMediaRequest, okReply, data, async (req) => {
      const leg = this.registry.get(req.callId, req.legId);
      leg.startMedia();
      if (req.source.kind === 'tone') leg.playTone(req.source.frequencyHz);
      else leg.playSilence();
      return OK;
    });
  }

  @MessagePattern(MEDIA_PATTERNS.analyseWaTone)
  analyseWaTone(@Payload() data: unknown): Promise<ToneReportReply> {
    return this.#serve(MEDIA_PATTERNS.analyseWaTone, analyseWaToneRequest, toneReport, data, async (req) => {
      const leg = this.registry.get(req.callId, req.legId);
      const stats = leg.stats();
      return { v: CONTRACT_VERSION, ...leg.analyseTone(req.frequencyHz), packetsReceived: stats.packetsReceived, packetsSent: stats.packetsSent };
    });
  }

  @MessagePattern(MEDIA_PATTERNS.closeWaLeg)
  closeWaLeg(@Payload() data: unknown): Promise<CloseLegReply> {
    return this.#serve(MEDIA_PATTERNS.closeWaLeg, closeWaLegRequest, closeLegReply, data, async (req) => {
      const media = bridgeMediaSummaryOf(this.bridges.stopForLeg(req.callId, req.legId, req.reason));
      await this.registry.close(req.callId, req.legId, req.reason);
      return media ? { ...OK, media } : OK;
    });
  }

  @MessagePattern(MEDIA_PATTERNS.listLegs)
  listLegs(@Payload() data: unknown): Promise<ListLegsReply> {
    return this.#serve(MEDIA_PATTERNS.listLegs, listLegsRequest, listLegsReply, data, async () => ({ v: CONTRACT_VERSION, legs: this.registry.list(), pbxLegs: this.pbxLegs.list() }));
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
