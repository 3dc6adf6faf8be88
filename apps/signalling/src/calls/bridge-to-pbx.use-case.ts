import { Inject, Injectable } from '@nestjs/common';
import type { CallRecord, CallRepository } from '@wagw/call-state';
import type { WhatsAppGraphClient } from '@wagw/whatsapp';
import { CALL_REPOSITORY, GRAPH_CLIENT } from '../signalling.tokens';
import { MediaBusClient } from '../media/media-bus.client';
import { pbxDialogPatch, pbxInvitePatch, recordPbxTargetRefreshes } from './pbx-dialog';
import { PbxSdpUpdates } from './pbx-sdp-updates';
import { FailoverInviter, type TrunkCall } from '../trunks/failover-inviter';
import { pbxCallerIdentity, type CallerIdentity } from './caller-identity';
import { RoutingPolicy } from '../routing/routing-policy';
import type { ResolvedDestination, ResolvedRoute, TrunkConfig } from '../sip/trunk-directory';
import { CallRuntime, type LiveCall } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { TransferService, trunkLeg } from './transfer.service';

/** The WhatsApp side of a user-initiated call, as the bridge needs it (AnswerUserCallUseCase makes it). */
export interface WaSide {
  waCallId: string;
  /** The media app's WebRTC leg, already on the call record. */
  legId: string;
  /** Our SDP answer: pre_accept carries it, accept carries it again. */
  sdp: string;
  /**
   * The pre_accept request, sent beside the INVITE (reference §6.2): accept waits for it, and so does a
   * reject of ours, so that Meta sees pre_accept first. Its failure is the caller's to act on (it ends the call).
   */
  preAccepted: Promise<void>;
}

type DialOutcome = { kind: 'answered'; sdp: string; call: TrunkCall } | { kind: 'failed'; cause: string; sipCause: string } | { kind: 'aborted' };

/**
 * Rings the PBX for a user-initiated call (issue: inbound bridge): one RTP leg offered with the trunk's
 * codecs, destinations tried in order (or only the first, with onFailure=reject), `accept` toward
 * WhatsApp with the pre_accept SDP once a destination answers, then the media bridge. A failure of every
 * destination ends the call with `reject` and the SIP cause in the CDR.
 *
 * To keep the set-up short, the PBX media leg is made while the media app still builds the WhatsApp leg;
 * the INVITE waits for the WhatsApp leg to be on the record (a call the media app cannot take never rings a
 * desk phone), not for pre_accept's answer: the reference rings the desk phone meanwhile, and a pre_accept
 * that fails ends the call, which cancels the INVITE. When the PBX answers, the record moves to `accepting`
 * and `accept` goes out at once, beside the PBX answer's SDP reaching the media app. When the WhatsApp side
 * fails, its caller ends the call, and the bridge stops.
 */
@Injectable()
export class BridgeToPbxUseCase {
  constructor(
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    private readonly media: MediaBusClient,
    private readonly inviter: FailoverInviter,
    private readonly routing: RoutingPolicy,
    private readonly runtime: CallRuntime,
    private readonly endCall: EndCallUseCase,
    private readonly sdpUpdates: PbxSdpUpdates,
    private readonly transfers: TransferService,
  ) {}

  /**
   * Starts ringing and returns at once: the dial must not hold the WhatsApp call's webhook lane (one call's
   * webhooks are handled in order), or the terminate of a user who hangs up while the phone rings would
   * wait for the PBX's answer instead of cancelling the INVITE. A set-up failure in there ends the call.
   */
  async execute(live: LiveCall, route: ResolvedRoute, wa: Promise<WaSide>, created: Promise<CallRecord>, onConnected?: (active: CallRecord) => Promise<void>): Promise<void> {
    // the caller awaits `wa` and ends the call when it fails: here a failed WhatsApp side only means "stop"
    const waReady = wa.catch(() => null);
    void this.#ring(live, route, waReady, created, onConnected).catch(async (err: unknown) => {
      if ((err as { code?: unknown } | null)?.code === 'MEDIA_AT_CAPACITY') live.log.warn({ err }, 'PBX side not set up: the media app is at its call limit');
      else live.log.error({ err }, 'bridging to the PBX failed');
      await this.endCall
        .execute(live.callId, { by: 'system', cause: `set-up failed: ${(err as Error).message}` })
        .catch((endErr: unknown) => live.log.error({ err: endErr }, 'ending the call after a failed bridge failed'));
    });
  }

  async #ring(
    live: LiveCall,
    route: ResolvedRoute,
    waReady: Promise<WaSide | null>,
    created: Promise<CallRecord>,
    onConnected: ((active: CallRecord) => Promise<void>) | undefined,
  ): Promise<void> {
    const decision = this.routing.decide(route, live.log); // business hours, on the gateway's clock
    if (decision.kind === 'reject') {
      // ended only once the WhatsApp leg is on the record, so that the teardown closes it
      const wa = await waReady;
      if (!wa) return;
      await settled(wa);
      return this.endCall.execute(live.callId, { by: 'system', cause: decision.cause });
    }
    let last: DialOutcome = { kind: 'failed', cause: 'no destination', sipCause: '' };
    let offer: { legId: string; sdp: string; trunk: TrunkConfig } | undefined;
    // the first destination's media leg is asked for while the call's record is still being written (the leg
    // needs no record); it is recorded on the call once the record exists, and closed if it never does
    const first = decision.destinations[0];
    const early = first ? this.media.createPbxOffer(live.callId, first.trunk.codecs, first.trunk.srtp) : undefined;
    early?.catch(() => undefined); // awaited below
    let rec: CallRecord | null = await created.catch(() => null);
    if (!rec) {
      // the caller ends nothing (there is no record) and logs why: the early leg is closed here
      if (early) await early.then((made) => this.media.closePbxLeg(live.callId, made.legId, 'call record not created')).catch(() => undefined);
      return;
    }
    for (const [i, dest] of decision.destinations.entries()) {
      // the first destination goes on from the record just created; each later one reads the record again
      if (i > 0) rec = await this.calls.get(live.callId);
      if (!rec || rec.state === 'ending' || rec.state === 'ended') return;
      if (offer && !sameOffer(offer.trunk, dest.trunk)) {
        // the next trunk wants other codecs or another SRTP policy: a new leg with its own offer
        await this.media.closePbxLeg(live.callId, offer.legId, `next destination on trunk ${dest.trunk.name}`);
        offer = undefined;
      }
      if (!offer) {
        const made = i === 0 && early ? await early : await this.media.createPbxOffer(live.callId, dest.trunk.codecs, dest.trunk.srtp);
        if (!(await this.#attachPbxLeg(live, made.legId))) return;
        offer = { ...made, trunk: dest.trunk };
      }
      const wa = await waReady;
      if (!wa) return;
      last = await this.#dial(live, rec, dest, offer.sdp);
      if (last.kind === 'aborted') return;
      if (last.kind === 'answered') return this.#connect(live, last, wa, offer.legId, rec, dest.trunk, onConnected);
      live.log.warn({ destination: dest.uri, cause: last.cause, sip: last.sipCause }, 'destination failed');
      if (route.onFailure === 'reject') break;
    }
    if (last.kind === 'failed') {
      const wa = await waReady;
      if (wa) await settled(wa);
      await this.endCall.execute(live.callId, { by: 'pbx', cause: last.cause, sipCause: last.sipCause });
    }
  }

  /** The WhatsApp user as the caller toward the PBX, and the headers that name the WhatsApp call. */
  #caller(rec: CallRecord, trunk: TrunkConfig): CallerIdentity {
    return pbxCallerIdentity(rec, trunk);
  }

  async #dial(live: LiveCall, rec: CallRecord, dest: ResolvedDestination, sdp: string): Promise<DialOutcome> {
    const trunk = dest.trunk;
    const { caller, headers } = this.#caller(rec, trunk);
    const call = this.inviter.invite(trunk, {
      target: dest.uri,
      from: caller,
      sdp,
      headers,
      ...(trunk.username ? { auth: { username: trunk.username, password: trunk.password } } : {}),
      ringTimeoutMs: dest.ringTimeoutMs,
      logger: live.log,
    });
    live.pbxLeg = { kind: 'pbx', hangup: (reason) => call.end(reason) };
    // `dialing` is applied before the outcome is returned: a trunk that refuses the TCP connection fails the
    // INVITE within milliseconds, and its pbx.hangup must not reach the record while it is still `offered`
    const dialing = this.calls.apply(live.callId, { type: 'pbx.dialing', sipCallId: call.callId }, { destination: dest.uri, sipCallId: call.callId });
    live.log.info({ destination: dest.uri, trunk: trunk.name, sipCallId: call.callId }, 'INVITE sent to the PBX');
    const outcome = new Promise<DialOutcome>((resolve) => {
      call.on('redirected', (r) => {
        dialing.then(() => this.calls.amend(live.callId, { redirectedTo: r.target })).catch((err: unknown) => live.log.warn({ err }, 'redirect target not recorded'));
      });
      call.on('progress', (p) => {
        live.log.info({ status: p.status }, 'PBX ringing');
        dialing.then(() => this.calls.apply(live.callId, { type: 'pbx.ringing' }, pbxInvitePatch(call.leg))).catch((err: unknown) => live.log.warn({ err }, 'ringing not recorded'));
      });
      call.on('answered', (a) => resolve(a.sdp ? { kind: 'answered', sdp: a.sdp, call } : { kind: 'failed', cause: 'PBX answered without SDP', sipCause: '200 without SDP' }));
      call.on('failed', (f) => {
        const ended = f.cause === 'cancelled';
        resolve(ended ? { kind: 'aborted' } : { kind: 'failed', cause: `PBX ${f.cause}`, sipCause: `${f.status} ${f.reason}` });
      });
      this.transfers.endCallOnRemoteBye(live, call, 'PBX hung up');
    });
    const dialed = await dialing;
    if (dialed.record.state === 'ending' || dialed.record.state === 'ended') {
      // the call ended before this INVITE was recorded, so its teardown may not have seen the leg
      live.log.info({ state: dialed.record.state }, 'call ended while the INVITE went out: cancelling it');
      await call.end('Call ended');
      return { kind: 'aborted' };
    }
    return outcome;
  }

  /**
   * Records the call's PBX media leg. When the call ended meanwhile, its teardown may have read the record
   * before the leg was on it: the leg is closed here (closing twice is harmless) and false returned.
   */
  async #attachPbxLeg(live: LiveCall, legId: string): Promise<boolean> {
    let rec: CallRecord | null = null;
    try {
      // the written record: a teardown that reads it after this write finds the leg on it
      rec = await this.calls.amend(live.callId, { pbxLegId: legId });
    } catch (err) {
      live.log.info({ err }, 'PBX media leg not recorded');
    }
    if (rec && rec.state !== 'ending' && rec.state !== 'ended') return true;
    await this.media.closePbxLeg(live.callId, legId, 'call ended while its PBX leg was set up');
    return false;
  }

  async #connect(
    live: LiveCall,
    answered: { sdp: string; call: TrunkCall },
    wa: WaSide,
    pbxLegId: string,
    rec: CallRecord,
    trunk: TrunkConfig,
    onConnected: ((active: CallRecord) => Promise<void>) | undefined,
  ): Promise<void> {
    const waId = rec.userWaId;
    // `accepting` first: from here an end of the call terminates it on Meta's side instead of rejecting it
    const res = await this.calls.apply(live.callId, { type: 'pbx.answered' }, pbxDialogPatch(answered.call.leg));
    if (res.outcome !== 'applied') {
      live.log.info({ reason: res.reason }, 'PBX answered a call that is already ending: hanging up the PBX leg');
      await answered.call.hangup();
      return;
    }
    recordPbxTargetRefreshes(this.calls, live, answered.call.leg);
    // accept at once (reference §6.2), beside the PBX's SDP reaching the media app; media flows only after both.
    // The PBX's own SDP updates (a re-INVITE right after its answer) reach the media app from the moment its
    // answer is applied, not once accept has returned.
    const [applied, accepted] = await Promise.allSettled([
      this.media.applyPbxAnswer(live.callId, pbxLegId, answered.sdp).then((negotiated) => {
        answered.call.setSdpHandler(this.sdpUpdates.handlerFor(live, pbxLegId, waId));
        return negotiated;
      }),
      wa.preAccepted.then(() => this.graph.accept(wa.waCallId, wa.sdp)),
    ]);
    if (applied.status === 'rejected') throw applied.reason;
    if (accepted.status === 'rejected') throw accepted.reason;
    const negotiated = applied.value;
    const active = await this.calls.apply(live.callId, { type: 'wa.accept-sent' }, { codec: negotiated.codec, ...(negotiated.srtp ? { pbxSrtp: negotiated.srtp } : {}) });
    if (active.outcome !== 'applied') return;
    await this.media.startBridge(live.callId, wa.legId, pbxLegId);
    this.transfers.attach(live, trunkLeg(answered.call), {
      pbxLegId,
      waLegId: wa.legId,
      trunk,
      ...this.#caller(rec, trunk),
      ...(waId ? { waId } : {}),
    });
    live.log.info({ codec: negotiated.codec }, 'call bridged: WhatsApp <-> PBX');
    await onConnected?.(active.record);
  }
}

/** Waits for pre_accept to have been answered or failed (a reject of ours then follows it). */
async function settled(wa: WaSide): Promise<void> {
  await wa.preAccepted.catch(() => undefined);
}

/** Whether one SDP offer serves both trunks: the same codecs in the same order and the same SRTP policy. */
function sameOffer(a: TrunkConfig, b: TrunkConfig): boolean {
  return a.srtp === b.srtp && a.codecs.length === b.codecs.length && a.codecs.every((c, i) => c === b.codecs[i]);
}
