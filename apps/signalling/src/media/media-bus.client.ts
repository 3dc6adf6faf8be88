import { Inject, Injectable, OnApplicationShutdown, Optional } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { firstValueFrom, timeout } from 'rxjs';
import type { z } from 'zod';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import {
  CONTRACT_VERSION,
  DeadlineExceededError,
  mediaRequestChannel,
  MEDIA_PATTERNS,
  createWaLegReply,
  okReply,
  closeLegReply,
  type BridgeMediaSummary,
  playToneReply,
  type RingbackStyleName,
  parseMessage,
  toneReport,
  listLegsReply,
  type CreateWaLegReply,
  type MediaSource,
  type ToneReportReply,
  type ListLegsReply,
  PBX_MEDIA_PATTERNS,
  createPbxOfferReply,
  negotiatedReply,
  answerPbxOfferReply,
  mediaStatsReply,
  updatePbxMediaReply,
  type PbxCodec,
  type SrtpPolicy,
  type CreatePbxOfferReply,
  type NegotiatedReply,
  type AnswerPbxOfferReply,
  type MediaStatsReply,
  type UpdatePbxMediaReply,
} from '@wagw/contracts';
import type { MediaRouter } from './media-router';

export const MEDIA_BUS = Symbol('MEDIA_BUS');
/** The MediaRouter when signalling.mediaInstances lists instances; absent (null) for the single media app. */
export const MEDIA_ROUTER = Symbol('MEDIA_ROUTER');

/** How a request finds its media instance: none (the single app), a new leg of the call, or the call's legs. */
type Route = 'none' | 'new-leg' | 'call';

/** Longest close reason the contracts take (`reason` of closeWaLegRequest / closePbxLegRequest). */
export const CLOSE_REASON_MAX = 200;

/** A close reason that fits the contract: an end cause quoting a Graph error runs past 200 characters. */
function closeReason(reason: string): string {
  return reason.length <= CLOSE_REASON_MAX ? reason : `${reason.slice(0, CLOSE_REASON_MAX - 3)}...`;
}

/**
 * Requests from signalling to the media app over the Redis transport. Each request carries a deadline; we
 * stop waiting at that deadline (DeadlineExceededError) and validate every reply against its contract.
 */
@Injectable()
export class MediaBusClient implements OnApplicationShutdown {
  readonly #timeoutMs: number;
  readonly #router: MediaRouter | null;

  constructor(
    @Inject(MEDIA_BUS) private readonly client: ClientProxy,
    @Inject(APP_CONFIG) config: AppConfig,
    @Optional() @Inject(MEDIA_ROUTER) router?: MediaRouter | null,
  ) {
    this.#timeoutMs = config.signalling.mediaRequestTimeoutMs;
    this.#router = router ?? null;
  }

  /** The bus channel of a request: the pattern itself, or the pattern on the call's media instance. */
  async #channel(pattern: string, route: Route, callId: unknown): Promise<string> {
    if (this.#router === null || route === 'none' || typeof callId !== 'string') return pattern;
    const instance = route === 'new-leg' ? await this.#router.forNewLeg(callId) : await this.#router.forCall(callId);
    return mediaRequestChannel(instance, pattern);
  }

  async #request<S extends z.ZodType>(pattern: string, body: Record<string, unknown>, reply: S, route: Route = 'call'): Promise<z.infer<S>> {
    const deadline = Date.now() + this.#timeoutMs;
    let channel = pattern;
    try {
      channel = await this.#channel(pattern, route, body['callId']);
      // a new call's first leg refused by a full instance (media.maxCalls) goes to the next one not full
      for (let tries = this.#router?.instances.length ?? 1; ; tries--) {
        try {
          const res: unknown = await firstValueFrom(
            this.client.send(channel, { v: CONTRACT_VERSION, deadline, ...body }).pipe(timeout({ first: Math.max(1, deadline - Date.now()) })),
          );
          return parseMessage(pattern, reply, res);
        } catch (err) {
          const next = tries > 1 ? await this.#nextAfterFull(err, pattern, route, body['callId'], channel) : null;
          if (next === null) throw err;
          channel = next;
        }
      }
    } catch (err) {
      // the channel names the media instance when there are several
      if ((err as Error).name === 'TimeoutError') throw new DeadlineExceededError(channel, deadline);
      throw err;
    }
  }

  /** The channel of the instance a refused new leg moves to, or null (not a full instance, or none left). */
  async #nextAfterFull(err: unknown, pattern: string, route: Route, callId: unknown, channel: string): Promise<string | null> {
    if (this.#router === null || route !== 'new-leg' || typeof callId !== 'string') return null;
    if ((err as { code?: unknown } | null)?.code !== 'MEDIA_AT_CAPACITY') return null;
    const full = channel.slice(0, channel.length - pattern.length - 1);
    const next = await this.#router.moveFromFull(callId, full);
    return next === null || next === full ? null : mediaRequestChannel(next, pattern);
  }

  createWaLeg(callId: string, remoteOffer?: string): Promise<CreateWaLegReply> {
    return this.#request(MEDIA_PATTERNS.createWaLeg, { callId, ...(remoteOffer ? { remoteOffer } : {}) }, createWaLegReply, 'new-leg');
  }

  async applyWaAnswer(callId: string, legId: string, sdp: string): Promise<void> {
    await this.#request(MEDIA_PATTERNS.applyWaAnswer, { callId, legId, sdp }, okReply);
  }

  async startWaMedia(callId: string, legId: string, source: MediaSource): Promise<void> {
    await this.#request(MEDIA_PATTERNS.startWaMedia, { callId, legId, source }, okReply);
  }

  analyseWaTone(callId: string, legId: string, frequencyHz: number): Promise<ToneReportReply> {
    return this.#request(MEDIA_PATTERNS.analyseWaTone, { callId, legId, frequencyHz }, toneReport);
  }

  /** Closes the WhatsApp leg; the call's bridge media when the close stopped it. */
  async closeWaLeg(callId: string, legId: string, reason: string): Promise<BridgeMediaSummary | undefined> {
    return (await this.#request(MEDIA_PATTERNS.closeWaLeg, { callId, legId, reason: closeReason(reason) }, closeLegReply)).media;
  }

  /** Our SDP offer toward the PBX; `srtp` is the trunk's SDES-SRTP policy. */
  createPbxOffer(callId: string, codecs: PbxCodec[], srtp: SrtpPolicy = 'off'): Promise<CreatePbxOfferReply> {
    return this.#request(PBX_MEDIA_PATTERNS.createPbxOffer, { callId, codecs, srtp }, createPbxOfferReply, 'new-leg');
  }

  applyPbxAnswer(callId: string, legId: string, sdp: string): Promise<NegotiatedReply> {
    return this.#request(PBX_MEDIA_PATTERNS.applyPbxAnswer, { callId, legId, sdp }, negotiatedReply);
  }

  /** A mid-call SDP from the PBX (see PBX_MEDIA_PATTERNS.updatePbxMedia); for an offer the reply has our answer. */
  updatePbxMedia(callId: string, legId: string, kind: 'offer' | 'answer', sdp: string): Promise<UpdatePbxMediaReply> {
    return this.#request(PBX_MEDIA_PATTERNS.updatePbxMedia, { callId, legId, kind, sdp }, updatePbxMediaReply);
  }

  answerPbxOffer(callId: string, sdp: string, codecs: PbxCodec[], srtp: SrtpPolicy = 'off'): Promise<AnswerPbxOfferReply> {
    return this.#request(PBX_MEDIA_PATTERNS.answerPbxOffer, { callId, sdp, codecs, srtp }, answerPbxOfferReply, 'new-leg');
  }

  /** Ringback to the PBX on a negotiated leg until the bridge starts (`none` stops it); false when none plays (Opus). */
  async playPbxTone(callId: string, legId: string, tone: RingbackStyleName | 'none'): Promise<boolean> {
    return (await this.#request(PBX_MEDIA_PATTERNS.playPbxTone, { callId, legId, tone }, playToneReply)).playing;
  }

  /** Ringback to WhatsApp in place of the PBX's audio on the call's bridge (`none`: the PBX again); false when none plays. */
  async playWaTone(callId: string, tone: RingbackStyleName | 'none'): Promise<boolean> {
    return (await this.#request(PBX_MEDIA_PATTERNS.playWaTone, { callId, tone }, playToneReply)).playing;
  }

  async startBridge(callId: string, waLegId: string, pbxLegId: string): Promise<void> {
    await this.#request(PBX_MEDIA_PATTERNS.startBridge, { callId, waLegId, pbxLegId }, okReply);
  }

  async sendDtmf(callId: string, toward: 'wa' | 'pbx', digits: string, durationMs?: number): Promise<void> {
    await this.#request(PBX_MEDIA_PATTERNS.sendDtmf, { callId, toward, digits, ...(durationMs ? { durationMs } : {}) }, okReply);
  }

  /** Closes the PBX leg; the call's bridge media when the close stopped it. */
  async closePbxLeg(callId: string, legId: string, reason: string): Promise<BridgeMediaSummary | undefined> {
    return (await this.#request(PBX_MEDIA_PATTERNS.closePbxLeg, { callId, legId, reason: closeReason(reason) }, closeLegReply)).media;
  }

  /** Of the single media app, or of one instance (`instanceId`) when there are several. */
  mediaStats(instanceId = ''): Promise<MediaStatsReply> {
    return this.#request(mediaRequestChannel(instanceId, PBX_MEDIA_PATTERNS.mediaStats), {}, mediaStatsReply, 'none');
  }

  /** Of the single media app, or of one instance (`instanceId`) when there are several. */
  listLegs(instanceId = ''): Promise<ListLegsReply> {
    return this.#request(mediaRequestChannel(instanceId, MEDIA_PATTERNS.listLegs), {}, listLegsReply, 'none');
  }

  /** The media instances calls may go to (signalling.mediaInstances), or [''] for the single media app. */
  get mediaInstanceIds(): readonly string[] {
    return this.#router?.instances ?? [''];
  }

  /** Closes a leg on the instance that listed it (`''`: the single media app), whatever the call's record says. */
  async closeLegOn(instanceId: string, kind: 'wa' | 'pbx', callId: string, legId: string, reason: string): Promise<void> {
    const pattern = kind === 'wa' ? MEDIA_PATTERNS.closeWaLeg : PBX_MEDIA_PATTERNS.closePbxLeg;
    await this.#request(mediaRequestChannel(instanceId, pattern), { callId, legId, reason: closeReason(reason) }, okReply, 'none');
  }

  /** The call has ended and its legs are closed: forgets its media instance (nothing with a single media app). */
  async releaseCall(callId: string): Promise<void> {
    await this.#router?.release(callId);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
