import { Inject, Injectable, Optional } from '@nestjs/common';
import type { CallRecord, CallRepository } from '@wagw/call-state';
import type { CallConnectEvent, CallStatusEvent, CallTerminateEvent, PermissionReplyEvent } from '@wagw/whatsapp';
import type { Logger } from '@wagw/logging';
import { CALL_REPOSITORY, SIGNALLING_LOGGER } from '../signalling.tokens';
import { MediaBusClient } from '../media/media-bus.client';
import { PermissionService } from '../permissions/permission.service';
import { CrmEventBus } from '../events/crm-event-bus';
import { CallRuntime, type LiveCall } from './call-runtime';
import { CallOwnerForwarder, type WaProgressStep } from './call-owner';
import { DialAgentUseCase } from './dial-agent.use-case';
import { EndCallUseCase } from './end-call.use-case';

/**
 * Webhooks of business-initiated calls (reference §2.4-§2.6) and the permission replies that release
 * waiting agent calls (§2.8). Calls are found by `biz_opaque_callback_data` (our call id, set on connect),
 * else by the WhatsApp call id: the connect webhook can overtake our own record of the call id.
 */
@Injectable()
export class BusinessCallEventsHandler {
  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly media: MediaBusClient,
    private readonly permissions: PermissionService,
    private readonly events: CrmEventBus,
    private readonly runtime: CallRuntime,
    private readonly dialAgent: DialAgentUseCase,
    private readonly endCall: EndCallUseCase,
    @Optional() private readonly owners?: CallOwnerForwarder,
  ) {}

  async #find(opaque: string | undefined, waCallId: string): Promise<CallRecord | null> {
    if (opaque?.startsWith('call_')) {
      const rec = await this.calls.get(opaque);
      if (rec) return rec;
    }
    return this.calls.getByWaCallId(waCallId);
  }

  /** Meta's SDP answer to our offer: apply it so ICE/DTLS come up while the user's phone rings. */
  async onAnswer(event: CallConnectEvent): Promise<void> {
    const rec = await this.#find(event.bizOpaqueCallbackData, event.waCallId);
    if (!rec?.waLegId) {
      this.logger.warn({ waCallId: event.waCallId }, 'SDP answer for a call we do not know: ignored');
      return;
    }
    const log = this.runtime.logFor(rec.callId);
    await this.media.applyWaAnswer(rec.callId, rec.waLegId, event.sdp);
    await this.calls.apply(rec.callId, { type: 'wa.answer' });
    log.info('WhatsApp SDP answer applied');
  }

  async onStatus(event: CallStatusEvent): Promise<void> {
    const rec = await this.#find(event.bizOpaqueCallbackData, event.waCallId);
    if (!rec) {
      this.logger.warn({ waCallId: event.waCallId, status: event.status }, 'call status for a call we do not know: ignored');
      return;
    }
    const log = this.runtime.logFor(rec.callId);
    const live = this.runtime.get(rec.callId);
    if (event.status === 'ringing') {
      const res = await this.calls.apply(rec.callId, { type: 'wa.ringing' });
      if (res.outcome !== 'applied') return;
      if (live) live.waProgress?.ringing();
      else await this.owners?.progressAtOwner(rec, 'ringing');
      this.events.publish('call.ringing', { callId: rec.callId, side: 'user', ...(rec.userWaId ? { waId: rec.userWaId } : {}) });
      return;
    }
    if (event.status === 'rejected') {
      if (rec.userWaId) await this.permissions.onCallUnanswered(rec.userWaId);
      await this.endCall.execute(rec.callId, { by: 'wa', cause: 'the customer declined the call', waStatus: 'completed', sipStatus: 486 });
      return;
    }
    const res = await this.calls.apply(rec.callId, { type: 'wa.accepted' });
    if (res.outcome !== 'applied' || !rec.waLegId || !rec.pbxLegId) return;
    // a PBX call's 200 goes from the process holding its INVITE: the bridge and the 200 are that one's then
    if (live || !(await this.owners?.progressAtOwner(rec, 'accepted'))) await this.#connectAccepted(rec, live);
    if (rec.userWaId) await this.permissions.onCallConnected(rec.userWaId, 'business_initiated');
    this.events.publish('call.connected', { callId: rec.callId, direction: 'outbound', ...(rec.userWaId ? { waId: rec.userWaId } : {}), ...(rec.codec ? { codec: rec.codec } : {}) });
    log.info('customer accepted: call bridged (agent <-> WhatsApp)');
  }

  /** The customer accepted: the bridge, and the PBX side told (its 200 OK, or our offer for a delayed one). */
  async #connectAccepted(rec: CallRecord, live: LiveCall | undefined): Promise<void> {
    if (!rec.waLegId || !rec.pbxLegId) return;
    if (live?.waProgress?.connect) {
      // delayed offer: our offer in the 200 OK, the PBX's answer in its ACK, then the bridge
      await live.waProgress.connect(rec.waLegId);
      return;
    }
    // bridge first: a PBX may send DTMF (SIP INFO) right after its ACK, and that needs the bridge (RFC 3264
    // §5: the PBX, as offerer, is ready for our media before our 200)
    await this.media.startBridge(rec.callId, rec.waLegId, rec.pbxLegId);
    await live?.waProgress?.accepted();
  }

  /** A progress step another signalling process handed to this one, the call's owner (see CallOwnerForwarder). */
  async progressHere(callId: string, step: WaProgressStep): Promise<void> {
    const rec = await this.calls.get(callId);
    if (!rec) return;
    const live = this.runtime.get(callId);
    if (step === 'ringing') live?.waProgress?.ringing();
    else await this.#connectAccepted(rec, live);
  }

  /**
   * Terminate of a business-initiated call. Unanswered calls count toward Meta's 4-in-a-row revocation.
   * `byWaCallId`: the caller's lookup of the event's wacid, reused unless the opaque data names the call.
   */
  async onTerminate(event: CallTerminateEvent, cause: string, byWaCallId?: CallRecord | null): Promise<boolean> {
    const named = event.bizOpaqueCallbackData?.startsWith('call_') === true;
    const rec = byWaCallId !== undefined && !named ? byWaCallId : await this.#find(event.bizOpaqueCallbackData, event.waCallId);
    if (!rec || rec.direction !== 'outbound') return false;
    const wasRinging = rec.state === 'dialing-wa' || rec.state === 'ringing-wa';
    if (wasRinging && rec.userWaId) await this.permissions.onCallUnanswered(rec.userWaId);
    await this.endCall.execute(rec.callId, {
      by: 'wa',
      cause: wasRinging ? `the customer did not answer (${cause})` : cause,
      ...(wasRinging ? { sipStatus: 480 } : {}),
      waStatus: event.status,
      ...(event.errors[0] ? { waErrorCode: event.errors[0].code } : {}),
    });
    return true;
  }

  /** A permission reply: grants release the agent calls waiting for it, a refusal ends them. */
  async onPermissionReply(event: PermissionReplyEvent): Promise<void> {
    const res = await this.permissions.onReply(event);
    const waId = event.from ?? event.contactWaId;
    if (!res || res.outcome !== 'applied' || !waId) return;
    const waiting = (await this.calls.listActive()).filter((c) => c.state === 'permission-pending' && c.userWaId === waId);
    for (const call of waiting) {
      if (res.to === 'granted-once' || res.to === 'granted-always') {
        const applied = await this.calls.apply(call.callId, { type: 'permission.granted' });
        if (applied.outcome !== 'applied') continue;
        this.runtime.get(call.callId)?.clearTimers();
        void this.dialAgent.execute(call.callId);
      } else if (res.to === 'declined' || res.to === 'revoked') {
        await this.endCall.execute(call.callId, { by: 'system', cause: 'the customer declined the call permission request' });
      }
    }
  }
}
