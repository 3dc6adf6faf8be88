import { Inject, Injectable, Optional } from '@nestjs/common';
import type { CallRepository } from '@wagw/call-state';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { SipReason, TransferHandler, TransferRequest } from '@wagw/sip';
import { CrmEventBus } from '../events/crm-event-bus';
import { MediaBusClient } from '../media/media-bus.client';
import { CALL_REPOSITORY } from '../signalling.tokens';
import { uriOnTrunk, type TrunkConfig } from '../sip/trunk-directory';
import { FailoverInviter, type TrunkCall } from '../trunks/failover-inviter';
import type { LiveCall } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { PbxSdpUpdates } from './pbx-sdp-updates';
import { sipLegLost } from '../sip/sip-leg-lost';
import { pbxDialogPatch, recordPbxTargetRefreshes } from './pbx-dialog';

/** The call cannot be transferred now (409): not active, no PBX leg that takes transfers, or one in progress. */
export class CallNotTransferableError extends Error {
  readonly code = 'CALL_NOT_TRANSFERABLE' as const;
  readonly httpStatus = 409;
  constructor(
    readonly callId: string,
    why: string,
  ) {
    super(`call ${callId} cannot be transferred: ${why}`);
    this.name = 'CallNotTransferableError';
  }
}

/** How long a transfer target may ring before the transfer fails (the call stays with the transferor). */
const TRANSFER_RING_TIMEOUT_MS = 30_000;

/** The SIP leg a call is transferred away from: ours toward the PBX (a TrunkCall) or the PBX's (an InboundCall). */
export interface TransferableLeg {
  readonly callId: string;
  /** The dialog is over (the transferor hung up). */
  readonly terminated: boolean;
  setTransferHandler(handler: TransferHandler): void;
  /** Ends the dialog (BYE) once the call is on the new leg. */
  release(reason: SipReason): Promise<void>;
}

/** A TrunkCall (our INVITE toward the PBX) as a TransferableLeg. */
export function trunkLeg(call: TrunkCall): TransferableLeg {
  return {
    callId: call.callId,
    get terminated() {
      return call.leg?.terminated ?? true;
    },
    setTransferHandler: (h) => call.setTransferHandler(h),
    release: (reason) => call.hangup(reason),
  };
}

export interface TransferContext {
  /** The PBX media leg the call uses now. */
  pbxLegId: string;
  waLegId: string;
  /** The trunk the transfer target is called through. */
  trunk: TrunkConfig;
  /** Who the transfer target sees calling (the WhatsApp user), and the headers of the call's first INVITE. */
  caller: { user: string; displayName?: string };
  headers: Record<string, string>;
  waId?: string;
}

/**
 * Transfer asked by the PBX side (REFER, RFC 3515; a phone behind a proxy such as Kamailio transfers this
 * way), blind or attended (a Replaces in the Refer-To, RFC 3891: the target's INVITE carries it, with the
 * REFER's Referred-By): a new PBX leg INVITEs the Refer-To target through the call's trunk while the call goes on; when
 * it answers, the WhatsApp leg is bridged to it (the stream toward WhatsApp continues: same SSRC, no
 * timestamp jump), the old leg is closed and its dialog ended, and the transferor hears NOTIFY 200. From the
 * REFER on, the transferor hanging up does not end the call (phones often hang up at once). When the target
 * does not answer, the transferor hears the failure and keeps the call, or, when it has hung up already,
 * the call ends. The call ending cancels a transfer in progress (LiveCall.transfer).
 */
@Injectable()
export class TransferService {
  constructor(
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly media: MediaBusClient,
    private readonly inviter: FailoverInviter,
    private readonly endCall: EndCallUseCase,
    private readonly sdpUpdates: PbxSdpUpdates,
    private readonly events: CrmEventBus,
    @Optional() @Inject(APP_CONFIG) private readonly config?: Readonly<AppConfig>,
  ) {}

  /** The ringback the WhatsApp user hears while a blind transfer's target rings ('off' for an attended one: no ringing). */
  #ringback(req: TransferRequest): AppConfig['signalling']['transferRingback'] {
    return req.replaces === undefined ? (this.config?.signalling.transferRingback ?? 'off') : 'off';
  }

  /**
   * Takes REFER on `leg`, the SIP leg of the call whose PBX media leg is `ctx.pbxLegId`, and makes the leg
   * the one an API transfer (`live.transferTo`) moves the call away from.
   */
  attach(live: LiveCall, leg: TransferableLeg, ctx: TransferContext): void {
    leg.setTransferHandler((req) => void this.#transfer(live, leg, req, ctx, 'pbx'));
    live.transferTo = (target) => void this.#transfer(live, leg, { referTo: uriOnTrunk(target, ctx.trunk), notify: async () => undefined }, ctx, 'api');
  }

  /**
   * A transfer asked through the API (POST /v1/calls/{id}/transfer): the call's current PBX leg is
   * transferred blind to `target` (an extension on the call's trunk, or a SIP URI). Returns once started;
   * the outcome reaches the CRM as `call.transferred` or `call.transfer_failed`.
   */
  requestTransfer(live: LiveCall | undefined, state: string, callId: string, target: string): void {
    if (state !== 'active') throw new CallNotTransferableError(callId, `it is ${state}, not active`);
    if (!live) throw new CallNotTransferableError(callId, 'another signalling process holds it (its SIP leg is there): send the transfer to that process');
    if (live.transfer) throw new CallNotTransferableError(callId, 'a transfer is in progress');
    if (!live.transferTo) throw new CallNotTransferableError(callId, 'no PBX leg of it takes transfers (the call has no desk phone on it)');
    live.log.info({ to: target }, 'transfer asked through the API');
    live.transferTo(target);
  }

  /**
   * The PBX hanging up this SIP leg (or its session timer expiring) ends the call, unless the call is
   * transferred away from it.
   */
  endCallOnRemoteBye(live: LiveCall, call: TrunkCall, cause: string): void {
    call.on('ended', (e) => {
      const lost = sipLegLost(e);
      if (!lost || live.retiredSipCalls.has(call.callId)) return;
      void this.endCall.execute(live.callId, { by: 'pbx', cause: lost.cause ?? cause, sipCause: lost.sipCause });
    });
  }

  async #transfer(live: LiveCall, from: TransferableLeg, req: TransferRequest, ctx: TransferContext, by: 'pbx' | 'api'): Promise<void> {
    const log = live.log.child({ referTo: req.referTo, transferBy: by });
    const rec = await this.calls.get(live.callId);
    if (!rec || rec.state !== 'active' || live.transfer) {
      log.info({ state: rec?.state }, 'transfer refused: the call is not active, or a transfer is in progress');
      this.#publishFailed(live, ctx, req.referTo, by, rec?.state === 'active' ? 'a transfer is in progress' : 'the call is not active');
      return req.notify(rec?.state === 'active' ? 491 : 481, rec?.state === 'active' ? 'Request Pending' : 'Call Does Not Exist');
    }
    if (live.retiredSipCalls.has(from.callId)) {
      // a REFER on a leg the call was transferred away from (its BYE under way): the call's legs are others now,
      // and moving them from here would replace the current leg's bridge and leave that leg open
      log.info({ sipCallId: from.callId }, 'transfer refused: the call was transferred away from this leg');
      this.#publishFailed(live, ctx, req.referTo, by, 'the call was transferred away from this leg');
      return req.notify(481, 'Call Does Not Exist');
    }
    live.retiredSipCalls.add(from.callId);
    let legId: string | undefined;
    let target: TrunkCall | undefined;
    let cancelled = false;
    live.transfer = {
      cancel: async (reason) => {
        cancelled = true;
        await target?.end(reason);
        if (legId) await this.media.closePbxLeg(live.callId, legId, reason);
      },
    };
    try {
      const offer = await this.media.createPbxOffer(live.callId, ctx.trunk.codecs, ctx.trunk.srtp);
      legId = offer.legId;
      if (cancelled) return void (await this.media.closePbxLeg(live.callId, legId, 'call ended during the transfer'));
      const { trunk } = ctx;
      const call = (target = this.inviter.invite(trunk, {
        target: req.referTo,
        from: ctx.caller,
        sdp: offer.sdp,
        headers: { ...ctx.headers, ...(req.replaces ? { Replaces: req.replaces } : {}), ...(req.referredBy ? { 'Referred-By': req.referredBy } : {}) },
        ...(trunk.username ? { auth: { username: trunk.username, password: trunk.password } } : {}),
        ringTimeoutMs: TRANSFER_RING_TIMEOUT_MS,
        logger: log,
      }));
      log.info({ sipCallId: call.callId, attended: req.replaces !== undefined }, 'transfer: INVITE sent to the target');
      // asked for beside the INVITE (the target's answer must find its listeners below), settled before the bridge moves
      const ringback = this.#ringback(req);
      const ringing = ringback === 'off' ? undefined : this.media.playWaTone(live.callId, ringback).catch((err: unknown) => log.warn({ err }, 'ringback to WhatsApp not started'));
      const outcome = await new Promise<{ ok: true; sdp: string } | { ok: false; status: number; reason: string }>((resolve) => {
        call.on('progress', (p) => void req.notify(p.status, p.reason));
        call.on('answered', (a) => resolve(a.sdp ? { ok: true, sdp: a.sdp } : { ok: false, status: 488, reason: 'Answered Without SDP' }));
        call.on('failed', (f) => resolve({ ok: false, status: f.status >= 300 ? f.status : 500, reason: f.reason }));
      });
      await ringing;
      if (cancelled) return; // the call ended meanwhile: cancel() released the target and its leg
      if (!outcome.ok) return await this.#failed(live, from, req, legId, `${outcome.status} ${outcome.reason}`, outcome, { ctx, by });
      const negotiated = await this.media.applyPbxAnswer(live.callId, legId, outcome.sdp);
      await this.media.startBridge(live.callId, ctx.waLegId, legId);
      live.transfer = undefined;
      live.pbxLeg = { kind: 'pbx', hangup: (reason) => call.end(reason) };
      live.pbxDtmfPt = negotiated.dtmfPayloadType;
      this.sdpUpdates.legReplaced(live, ctx.waId);
      await this.calls.amend(live.callId, { pbxLegId: legId, sipCallId: call.callId, destination: req.referTo, codec: negotiated.codec, ...(negotiated.srtp ? { pbxSrtp: negotiated.srtp } : {}), ...pbxDialogPatch(call.leg) });
      recordPbxTargetRefreshes(this.calls, live, call.leg);
      this.endCallOnRemoteBye(live, call, 'PBX hung up');
      call.setSdpHandler(this.sdpUpdates.handlerFor(live, legId, ctx.waId));
      this.attach(live, trunkLeg(call), { ...ctx, pbxLegId: legId });
      await this.media.closePbxLeg(live.callId, ctx.pbxLegId, 'call transferred');
      await req.notify(200, 'OK');
      await from.release({ protocol: 'SIP', cause: 200, text: 'Call transferred' });
      log.info({ codec: negotiated.codec, sipCallId: call.callId }, 'call transferred');
      this.events.publish('call.transferred', { callId: live.callId, ...(ctx.waId ? { waId: ctx.waId } : {}), to: req.referTo, by, attended: req.replaces !== undefined });
    } catch (err) {
      log.warn({ err }, 'transfer failed');
      await this.#failed(live, from, req, legId, (err as Error).message, { status: 500, reason: 'Server Internal Error' }, { ctx, by });
    }
  }

  #publishFailed(live: LiveCall, ctx: TransferContext, to: string, by: 'pbx' | 'api', cause: string): void {
    this.events.publish('call.transfer_failed', { callId: live.callId, ...(ctx.waId ? { waId: ctx.waId } : {}), to, by, cause });
  }

  /** The target did not take the call: NOTIFY the failure; the call stays with the transferor if it is still there. */
  async #failed(
    live: LiveCall,
    from: TransferableLeg,
    req: TransferRequest,
    legId: string | undefined,
    cause: string,
    notify: { status: number; reason: string },
    origin: { ctx: TransferContext; by: 'pbx' | 'api' },
  ): Promise<void> {
    live.transfer = undefined;
    this.#publishFailed(live, origin.ctx, req.referTo, origin.by, cause);
    if (legId) await this.media.closePbxLeg(live.callId, legId, 'transfer failed').catch((err: unknown) => live.log.warn({ err }, 'transfer leg not closed'));
    await req.notify(notify.status, notify.reason);
    if (!from.terminated) {
      live.retiredSipCalls.delete(from.callId);
      // the user hears the first desk phone again instead of the ringback
      if (this.#ringback(req) !== 'off') await this.media.playWaTone(live.callId, 'none').catch((err: unknown) => live.log.warn({ err }, 'ringback to WhatsApp not stopped'));
      live.log.warn({ cause }, 'transfer target did not take the call: the call stays with the transferor');
      return;
    }
    await this.endCall.execute(live.callId, { by: 'pbx', cause: `transfer failed (${cause}) after the transferor hung up`, sipCause: cause.slice(0, 60) });
  }
}
