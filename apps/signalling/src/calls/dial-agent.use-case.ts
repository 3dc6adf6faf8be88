import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { CallRecord, CallRepository } from '@wagw/call-state';
import { DailyCallCapError, NoCallPermissionError, type WhatsAppGraphClient } from '@wagw/whatsapp';
import { CALL_REPOSITORY, GRAPH_CLIENT, SIGNALLING_INSTANCE_ID } from '../signalling.tokens';
import { MediaBusClient } from '../media/media-bus.client';
import { PbxSdpUpdates } from './pbx-sdp-updates';
import { PbxDialer } from '../sip/pbx-dialer';
import { AgentDirectory } from '../sip/agent-directory';
import { PermissionService } from '../permissions/permission.service';
import { CrmEventBus } from '../events/crm-event-bus';
import { CallRuntime, type LiveCall } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { DtmfRelay } from './dtmf-relay';
import { TransferService, trunkLeg } from './transfer.service';
import type { TrunkCall } from '../trunks/failover-inviter';
import type { TrunkConfig } from '../sip/trunk-directory';
import { pbxDialogPatch, pbxInvitePatch, recordPbxTargetRefreshes } from './pbx-dialog';

/** The agent's answered SIP leg, its PBX media leg and trunk. */
interface AgentLeg {
  call: TrunkCall;
  pbxLegId: string;
  trunk: TrunkConfig;
}

/**
 * An agent call whose permission is settled: ring the agent's phone through the PBX first; when the agent
 * answers, place the business-initiated WhatsApp call (`connect` with our SDP offer, reference §3.1). The
 * user's ACCEPTED then bridges the two (BusinessCallEventsHandler).
 */
@Injectable()
export class DialAgentUseCase {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    private readonly media: MediaBusClient,
    private readonly dialer: PbxDialer,
    private readonly agents: AgentDirectory,
    private readonly permissions: PermissionService,
    private readonly events: CrmEventBus,
    private readonly runtime: CallRuntime,
    private readonly endCall: EndCallUseCase,
    private readonly dtmf: DtmfRelay,
    private readonly sdpUpdates: PbxSdpUpdates,
    private readonly transfers: TransferService,
    @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId: string,
  ) {}

  async execute(callId: string): Promise<void> {
    const live = this.runtime.open(callId, { direction: 'outbound' });
    try {
      const rec = await this.calls.get(callId);
      if (!rec?.agent || !rec.userWaId) throw new Error('agent call record lacks its agent or user');
      const agentLeg = await this.#ringAgent(live, rec);
      if (agentLeg) await this.#callUser(live, rec, agentLeg);
    } catch (err) {
      live.log.error({ err }, 'agent call set-up failed');
      await this.endCall.execute(callId, { by: 'system', cause: `set-up failed: ${(err as Error).message}` });
    }
  }

  /** Rings the agent; the agent's answered leg once the call moved on to WhatsApp, else null. */
  async #ringAgent(live: LiveCall, rec: CallRecord): Promise<AgentLeg | null> {
    const { uri, trunk } = this.agents.resolve(rec.agent as string);
    const offer = await this.media.createPbxOffer(live.callId, trunk.codecs, trunk.srtp);
    // the call's SIP legs and timers live in this process from now on (the permission reply that started
    // this may have come to another signalling process than the one that created the call)
    await this.calls.amend(live.callId, { pbxLegId: offer.legId, destination: uri, signallingInstance: this.instanceId });
    let agentSipCallId = '';
    let agentCall: TrunkCall | undefined;
    const outcome = await this.dialer.dial({
      uri,
      trunk,
      ringTimeoutMs: this.config.signalling.agentRingTimeoutMs,
      sdp: offer.sdp,
      from: { user: rec.userWaId as string, displayName: `WhatsApp ${rec.userName ?? rec.userWaId}` },
      headers: { 'X-WA-User': rec.userWaId as string, 'X-Wagw-Call-Id': live.callId },
      log: live.log,
      onCreated: (call) => {
        agentSipCallId = call.callId;
        agentCall = call;
        live.pbxLeg = {
          kind: 'pbx',
          hangup: (reason) => call.end(reason),
          sendDtmfInfo: async (digit, ms) => void (await call.sendDtmf(digit, ms)),
        };
        void this.calls.apply(live.callId, { type: 'pbx.dialing', sipCallId: call.callId }, { sipCallId: call.callId });
      },
      onRinging: () => {
        void this.calls.apply(live.callId, { type: 'pbx.ringing' }, pbxInvitePatch(agentCall?.leg));
        this.events.publish('call.ringing', { callId: live.callId, side: 'agent', ...(rec.userWaId ? { waId: rec.userWaId } : {}) });
      },
      onRedirected: (target) => void this.calls.amend(live.callId, { redirectedTo: target }).catch((err: unknown) => live.log.warn({ err }, 'redirect target not recorded')),
      onRemoteHangup: (lost) => {
        if (live.retiredSipCalls.has(agentSipCallId)) return; // the agent transferred the call away from this leg
        void this.endCall.execute(live.callId, { by: 'pbx', cause: lost.cause ?? 'the agent hung up', sipCause: lost.sipCause });
      },
      onDtmfInfo: (digit, ms) => void this.dtmf.fromSipInfo(live, digit, ms),
    });
    if (outcome.kind === 'aborted') return null;
    if (outcome.kind === 'failed') {
      await this.endCall.execute(live.callId, { by: 'pbx', cause: `agent phone: ${outcome.cause}`, sipCause: outcome.sipCause });
      return null;
    }
    const negotiated = await this.media.applyPbxAnswer(live.callId, offer.legId, outcome.sdp);
    outcome.call.setSdpHandler(this.sdpUpdates.handlerFor(live, offer.legId, rec.userWaId));
    live.pbxDtmfPt = negotiated.dtmfPayloadType;
    await this.calls.amend(live.callId, { codec: negotiated.codec, ...(negotiated.srtp ? { pbxSrtp: negotiated.srtp } : {}), ...pbxDialogPatch(outcome.call.leg) });
    recordPbxTargetRefreshes(this.calls, live, outcome.call.leg);
    const res = await this.calls.apply(live.callId, { type: 'wa.dialing' });
    if (res.outcome !== 'applied') {
      await outcome.call.hangup();
      return null;
    }
    live.log.info({ codec: negotiated.codec }, 'agent answered: calling the WhatsApp user');
    // the agent hears ringing, not dead air, while the customer's phone rings (the bridge's start stops it)
    const ringback = this.config.signalling.agentRingback;
    if (ringback !== 'off') await this.media.playPbxTone(live.callId, offer.legId, ringback).catch((err: unknown) => live.log.warn({ err }, 'ringback to the agent not started'));
    return { call: outcome.call, pbxLegId: offer.legId, trunk };
  }

  async #callUser(live: LiveCall, rec: CallRecord, agent: AgentLeg): Promise<void> {
    const waId = rec.userWaId as string;
    const leg = await this.media.createWaLeg(live.callId);
    await this.calls.amend(live.callId, { waLegId: leg.legId, waSdp: leg.sdp });
    // REFER from the agent's phone (once the customer is on): the target is called as the customer
    this.transfers.attach(live, trunkLeg(agent.call), {
      pbxLegId: agent.pbxLegId,
      waLegId: leg.legId,
      trunk: agent.trunk,
      waId,
      caller: { user: waId, displayName: `WhatsApp ${rec.userName ?? waId}` },
      headers: { 'X-WA-User': waId, 'X-Wagw-Call-Id': live.callId },
    });
    try {
      const { waCallId } = await this.graph.connect({ to: waId, sdp: leg.sdp, bizOpaqueCallbackData: live.callId });
      await this.calls.linkWaCallId(live.callId, waCallId);
      live.log.info({ waCallId }, 'business-initiated WhatsApp call placed');
    } catch (err) {
      if (err instanceof NoCallPermissionError) await this.permissions.reconcile(waId);
      const cause = err instanceof NoCallPermissionError || err instanceof DailyCallCapError ? err.reason : (err as Error).message;
      await this.endCall.execute(live.callId, { by: 'system', cause: `WhatsApp refused the call: ${cause}` });
    }
  }
}
