import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { newCallId, type CallRepository } from '@wagw/call-state';
import type { InboundCall } from '@wagw/sip';
import { DailyCallCapError, NoCallPermissionError, type WhatsAppGraphClient } from '@wagw/whatsapp';
import type { PermissionDecision } from '@wagw/permissions';
import { CALL_REPOSITORY, GRAPH_CLIENT } from '../signalling.tokens';
import { MediaBusClient } from '../media/media-bus.client';
import { PbxSdpUpdates } from './pbx-sdp-updates';
import { PermissionService } from '../permissions/permission.service';
import { TrunkDirectory } from '../sip/trunk-directory';
import { trunkForSource } from '../sip/inbound-trunk-auth';
import { TrunkHealthService } from '../trunks/trunk-health.service';
import { CallRuntime, type LiveCall } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { DtmfRelay } from './dtmf-relay';
import { TransferService, type TransferableLeg } from './transfer.service';
import { sipLegLost } from '../sip/sip-leg-lost';
import { pbxDialogPatch, pbxIncomingInvitePatch, recordPbxTargetRefreshes } from './pbx-dialog';
import type { TrunkConfig } from '../sip/trunk-directory';

const RETRY_AFTER_CAP_S = 3600;

/** The user part of a SIP URI, unescaped (as written when its escapes are malformed); undefined without one. */
function uriUser(uri: string): string | undefined {
  const user = /^sips?:([^@;]+)@/.exec(uri)?.[1];
  if (user === undefined) return undefined;
  try {
    return decodeURIComponent(user);
  } catch {
    return user;
  }
}

/** `sip:+15551234567@gw;user=phone` -> `15551234567`, or undefined when the user part is not E.164. */
export function waIdOfRequestUri(uri: string): string | undefined {
  const digits = (uriUser(uri) ?? '').replace(/^\+/, '').replace(/[\s().-]/g, '');
  return /^\d{6,15}$/.test(digits) ? digits : undefined;
}

/**
 * A desk phone behind the PBX dials a WhatsApp user through our trunk (issue: PBX-originated calls). With a
 * grant the business-initiated WhatsApp call is placed with our offer; RINGING -> 180, ACCEPTED -> 200 OK
 * with the bridged media, declined -> 486, unanswered -> 480. Without a grant the INVITE is answered 480
 * (a permission request is sent when configured), declined -> 403, quota or daily cap -> 503 Retry-After.
 */
@Injectable()
export class PbxOriginatedCallUseCase {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    private readonly media: MediaBusClient,
    private readonly permissions: PermissionService,
    private readonly trunks: TrunkDirectory,
    private readonly runtime: CallRuntime,
    private readonly endCall: EndCallUseCase,
    private readonly dtmf: DtmfRelay,
    private readonly sdpUpdates: PbxSdpUpdates,
    private readonly transfers: TransferService,
    private readonly trunkState: TrunkHealthService,
  ) {}

  async execute(sip: InboundCall): Promise<void> {
    const waId = this.calledWaId(sip);
    if (!waId) return sip.reject(404, 'Not Found', { headers: { Warning: `399 wagw "the called number is not an E.164 WhatsApp number"` } });
    const decision = await this.permissions.decideForCall(waId);
    if (decision.action !== 'call') return this.#refuse(sip, waId, decision);
    await this.#place(sip, waId);
  }

  async #refuse(sip: InboundCall, waId: string, decision: Exclude<PermissionDecision, { action: 'call' }>): Promise<void> {
    if (decision.action === 'request') {
      let sent = false;
      if (this.config.pbx.requestPermissionOnInvite) {
        sent = await this.permissions.request(waId).then(
          () => true,
          () => false,
        );
      }
      const text = sent ? 'the WhatsApp user has not allowed calls yet; a permission request was sent' : 'the WhatsApp user has not allowed calls yet';
      return sip.reject(480, sent ? 'Call Permission Requested' : 'No Call Permission', { headers: { Warning: `399 wagw "${text}"` } });
    }
    if (decision.code === 'PERMISSION_DECLINED') {
      return sip.reject(403, 'Call Permission Declined', { headers: { Warning: `399 wagw "${decision.reason.replace(/"/g, "'")}"` } });
    }
    const retryS = decision.retryAt ? Math.max(1, Math.min(RETRY_AFTER_CAP_S * 24 * 7, Math.ceil((decision.retryAt - Date.now()) / 1000))) : RETRY_AFTER_CAP_S;
    return sip.reject(503, decision.code === 'DAILY_CALL_CAP' ? 'Daily Call Limit Reached' : 'Permission Request Limit Reached', {
      headers: { 'Retry-After': String(retryS), Warning: `399 wagw "${decision.reason.replace(/"/g, "'")}"` },
    });
  }

  /**
   * The WhatsApp number a desk phone dialled: the Request-URI's user; on a trunk the gateway registers to,
   * an INVITE to the registered Contact itself (Request-URI user = the registered user) carries it in To.
   */
  calledWaId(sip: Pick<InboundCall, 'source' | 'requestUri' | 'to'>): string | undefined {
    const trunk = this.trunkOf(sip);
    const registeredUser = trunk ? this.trunkState.registeredUser(trunk) : undefined;
    if (registeredUser !== undefined && uriUser(sip.requestUri) === registeredUser) return waIdOfRequestUri(sip.to.uri);
    return waIdOfRequestUri(sip.requestUri);
  }

  /** The trunk an INVITE came in on: the one whose hosts, allow-list or registration hold its source (else the first). */
  trunkOf(sip: Pick<InboundCall, 'source'>): TrunkConfig | undefined {
    return trunkForSource(this.trunks.trunks(), sip.source.address, this.trunkState) ?? this.trunks.trunks()[0];
  }

  async #place(sip: InboundCall, waId: string): Promise<void> {
    const trunk = this.trunkOf(sip);
    const callId = newCallId();
    await this.calls.create({
      callId,
      direction: 'outbound',
      state: 'dialing-wa',
      businessNumber: this.config.whatsapp.businessNumber,
      phoneNumberId: this.config.whatsapp.phoneNumberId,
      userWaId: waId,
      agent: sip.from.uri,
      sipCallId: sip.callId,
      ...pbxIncomingInvitePatch(sip),
    });
    const live = this.runtime.open(callId, { direction: 'outbound' });
    live.log.info({ waId, from: sip.from.uri, sipCallId: sip.callId }, 'PBX call to a WhatsApp user');
    this.#wire(live, sip);
    recordPbxTargetRefreshes(this.calls, live, sip);
    try {
      const codecs = trunk?.codecs ?? ['PCMU', 'PCMA'];
      let pbxLegId: string;
      if (sip.sdp) {
        const pbx = await this.media.answerPbxOffer(callId, sip.sdp, codecs, trunk?.srtp);
        pbxLegId = pbx.legId;
        live.pbxDtmfPt = pbx.dtmfPayloadType;
        sip.setSdpHandler(this.sdpUpdates.handlerFor(live, pbx.legId, waId));
        await this.calls.amend(callId, { pbxLegId: pbx.legId, codec: pbx.codec, ...(pbx.srtp ? { pbxSrtp: pbx.srtp } : {}) });
        live.waProgress = {
          ringing: () => sip.ringing(),
          accepted: async () => {
            sip.answer(pbx.sdp);
            live.log.info({ codec: pbx.codec }, 'WhatsApp user accepted: 200 OK to the PBX');
            await this.calls.amend(callId, pbxDialogPatch(sip)).catch((err: unknown) => live.log.warn({ err }, 'PBX dialog not recorded'));
          },
        };
      } else {
        const offer = await this.media.createPbxOffer(callId, codecs, trunk?.srtp);
        pbxLegId = offer.legId;
        await this.calls.amend(callId, { pbxLegId: offer.legId });
        // RFC 3261 §13.2.1: the offer goes in the first reliable response. With reliable provisionals required
        // (RFC 3262) that is our 180, and its PRACK carries the answer; else the 200 OK, answered in the ACK.
        const inProvisional = sip.reliableProvisionals;
        let prackAnswer: string | undefined;
        if (inProvisional) sip.once('prackAnswer', (e) => (prackAnswer = e.sdp));
        live.log.info(
          inProvisional
            ? 'INVITE without SDP (delayed offer) requiring 100rel: our offer goes in the reliable 180, the answer comes in its PRACK'
            : 'INVITE without SDP (delayed offer): our offer goes in the 200 OK, the answer comes in the ACK',
        );
        live.waProgress = {
          ringing: () => (inProvisional ? sip.ringing(offer.sdp) : sip.ringing()),
          accepted: async () => undefined,
          connect: async (waLegId) => this.#connectDelayed(live, sip, offer.legId, offer.sdp, waLegId, () => prackAnswer),
        };
      }
      const wa = await this.media.createWaLeg(callId);
      await this.calls.amend(callId, { waLegId: wa.legId, waSdp: wa.sdp });
      if (trunk) this.#takeTransfers(live, sip, trunk, pbxLegId, wa.legId, waId);
      const { waCallId } = await this.graph.connect({ to: waId, sdp: wa.sdp, bizOpaqueCallbackData: callId });
      await this.calls.linkWaCallId(callId, waCallId);
      live.log.info({ waCallId }, 'business-initiated WhatsApp call placed for the PBX');
    } catch (err) {
      if (err instanceof NoCallPermissionError) await this.permissions.reconcile(waId);
      // the media app refuses an offer without a codec we bridge: 488 (RFC 3261 §21.4.26), not a server error
      const code = (err as { code?: unknown } | null)?.code;
      const sdpRefused = code === 'SDP_NOT_ACCEPTABLE';
      // the media app is full (media.maxCalls) or shutting down: 503, the PBX may try another gateway
      const mediaBusy = code === 'MEDIA_AT_CAPACITY' || code === 'MEDIA_SHUTTING_DOWN';
      const status = err instanceof NoCallPermissionError ? 480 : err instanceof DailyCallCapError || mediaBusy ? 503 : sdpRefused ? 488 : 500;
      const cause = err instanceof NoCallPermissionError || err instanceof DailyCallCapError ? err.reason : (err as Error).message;
      live.log.warn({ err }, 'PBX call could not be placed toward WhatsApp');
      await this.endCall.execute(callId, { by: 'system', cause: sdpRefused || mediaBusy ? cause : `WhatsApp call failed: ${cause}`, sipStatus: status });
    }
  }

  /**
   * Delayed offer (RFC 3261 §13.2.1; Cisco CUCM's default on SIP trunks): the user accepted, so our offer
   * goes in the 200 OK, the PBX's answer comes in its ACK, and only then is the PBX leg negotiated and the
   * bridge started. When the offer went in our reliable 180 instead, the answer came in its PRACK
   * (`prackAnswer`), the 200 OK repeats the same SDP and the ACK carries none. An ACK without a usable answer
   * (and none from a PRACK) ends the call (BYE, WhatsApp terminated).
   */
  #connectDelayed(live: LiveCall, sip: InboundCall, pbxLegId: string, offerSdp: string, waLegId: string, prackAnswer: () => string | undefined): void {
    const ack = new Promise<{ sdp?: string } | null>((resolve) => {
      sip.once('acked', (e) => resolve(e));
      sip.once('ended', () => resolve(null));
    });
    sip.answer(offerSdp);
    live.log.info('WhatsApp user accepted: 200 OK with our offer to the PBX');
    void this.calls.amend(live.callId, pbxDialogPatch(sip)).catch((err: unknown) => live.log.warn({ err }, 'PBX dialog not recorded'));
    // the ACK is awaited off the webhook's path (it may take up to 64*T1 when lost)
    ack.then((acked) => this.#applyAckAnswer(live, acked && answerOf(acked, prackAnswer()), pbxLegId, waLegId, sip)).catch((err: unknown) => live.log.error({ err }, 'delayed-offer answer not applied'));
  }

  async #applyAckAnswer(live: LiveCall, acked: { sdp?: string; in: 'PRACK' | 'ACK' } | null, pbxLegId: string, waLegId: string, sip: InboundCall): Promise<void> {
    if (!acked) {
      // the leg ended before its ACK (the PBX's BYE, or no ACK within 64*T1: the SIP leg sent its BYE)
      await this.endCall.execute(live.callId, { by: 'pbx', cause: 'the PBX call ended before its ACK (delayed offer)' });
      return;
    }
    if (!acked.sdp) {
      await this.endCall.execute(live.callId, { by: 'system', cause: 'the PBX ACK carried no SDP answer to our offer (delayed offer)' });
      return;
    }
    try {
      const negotiated = await this.media.applyPbxAnswer(live.callId, pbxLegId, acked.sdp);
      live.pbxDtmfPt = negotiated.dtmfPayloadType;
      sip.setSdpHandler(this.sdpUpdates.handlerFor(live, pbxLegId, this.calledWaId(sip)));
      await this.calls.amend(live.callId, { codec: negotiated.codec, ...(negotiated.srtp ? { pbxSrtp: negotiated.srtp } : {}) });
      await this.media.startBridge(live.callId, waLegId, pbxLegId);
      live.log.info({ codec: negotiated.codec }, `PBX answer from the ${acked.in} applied: call bridged`);
    } catch (err) {
      live.log.warn({ err }, `the answer in the PBX ${acked.in} cannot be used`);
      await this.endCall.execute(live.callId, { by: 'system', cause: `the PBX answer in the ${acked.in} was not usable: ${(err as Error).message}` });
    }
  }

  /**
   * REFER from the desk phone (a blind transfer of the WhatsApp user to another phone, TransferService):
   * the target is called through the trunk the INVITE came from, as the WhatsApp user. With a delayed offer
   * the PBX leg is negotiated by the ACK: a REFER comes after it, so the leg id is the same.
   */
  #takeTransfers(live: LiveCall, sip: InboundCall, trunk: TrunkConfig, pbxLegId: string, waLegId: string, waId: string): void {
    const leg: TransferableLeg = {
      callId: sip.callId,
      get terminated() {
        return sip.terminated;
      },
      setTransferHandler: (h) => sip.setTransferHandler(h),
      release: async (reason) => void (await sip.bye(reason)),
    };
    this.transfers.attach(live, leg, {
      pbxLegId,
      waLegId,
      trunk,
      waId,
      caller: { user: trunk.fromUser || waId },
      headers: { 'X-WA-User': waId },
    });
  }

  /** The SIP side's own ends (CANCEL, BYE) and DTMF by SIP INFO. */
  #wire(live: LiveCall, sip: InboundCall): void {
    live.pbxLeg = {
      kind: 'pbx',
      hangup: async (reason, sipStatus) => {
        if (sip.state === 'offered' || sip.state === 'early') {
          sip.reject(sipStatus ?? 480, undefined, { reason: { protocol: 'SIP', cause: sipStatus ?? 480, text: reason.slice(0, 100) } });
          return;
        }
        await sip.bye({ protocol: 'Q.850', cause: 16, text: reason.slice(0, 100) });
      },
      sendDtmfInfo: async (digit, durationMs) => void (await sip.sendDtmf(digit, durationMs)),
    };
    sip.on('cancelled', () => void this.endCall.execute(live.callId, { by: 'pbx', cause: 'the PBX cancelled the call', sipCause: 'CANCEL' }));
    sip.on('ended', (e) => {
      if (live.retiredSipCalls.has(sip.callId)) return; // transferred away from this leg
      const lost = sipLegLost(e);
      if (lost) void this.endCall.execute(live.callId, { by: 'pbx', cause: lost.cause ?? 'the desk phone hung up', sipCause: lost.sipCause });
      // no ACK for our 200 OK within 64*T1: the SIP leg sent its BYE (RFC 3261 §13.3.1.4); the WhatsApp side ends too
      else if (e.cause === 'no-ack') void this.endCall.execute(live.callId, { by: 'pbx', cause: 'the PBX never acknowledged our 200 OK (no ACK within 32 s)', sipCause: 'no ACK' });
    });
    sip.on('info', (info) => {
      if (info.dtmf) void this.dtmf.fromSipInfo(live, info.dtmf.digit, info.dtmf.durationMs);
    });
  }
}

/**
 * The PBX's answer to our delayed-offer SDP: from the PRACK when our offer went in a reliable 180 (the offer/answer
 * was complete before the 2xx), else from the ACK.
 */
function answerOf(acked: { sdp?: string }, prackAnswer: string | undefined): { sdp?: string; in: 'PRACK' | 'ACK' } {
  if (prackAnswer !== undefined) return { sdp: prackAnswer, in: 'PRACK' };
  return acked.sdp !== undefined ? { sdp: acked.sdp, in: 'ACK' } : { in: 'ACK' };
}
