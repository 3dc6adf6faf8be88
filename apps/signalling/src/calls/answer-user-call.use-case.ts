import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import { newCallId, type CallRecord, type CallRepository } from '@wagw/call-state';
import type { CreateWaLegReply } from '@wagw/contracts';
import type { CallConnectEvent, WhatsAppGraphClient } from '@wagw/whatsapp';
import { CALL_REPOSITORY, CONTACTS, EARLY_TERMINATES, GRAPH_CLIENT } from '../signalling.tokens';
import type { EarlyTerminateStore } from '../webhooks/early-terminate.store';
import { MediaBusClient } from '../media/media-bus.client';
import { CallRuntime, type LiveCall } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { BridgeToPbxUseCase, type WaSide } from './bridge-to-pbx.use-case';
import { SipStackService } from '../sip/sip-stack.service';
import { TrunkDirectory, type ResolvedRoute } from '../sip/trunk-directory';
import { CrmEventBus } from '../events/crm-event-bus';
import { PermissionService } from '../permissions/permission.service';
import type { ContactsRepository } from '../contacts/contacts.repository';
import { DRAINING_CAUSE, GatewayDrain } from './gateway-drain';
import { entryPointOf, routeForEntry, type EntryPoint } from '../routing/entry-point';

/**
 * A user calls the business (reference §6.2): the `connect` webhook carries Meta's offer. We build the
 * WebRTC answer in the media app, `pre_accept` at once (ICE/DTLS come up while the destination rings), and
 * `accept` with the same SDP when the call is answered; media toward WhatsApp starts only after accept
 * returned 200. Without a PBX (demo/foundation) the gateway answers by itself and plays a test tone.
 */
/** Drops undefined values (records are flat hashes; absent means unknown). */
function optional<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

@Injectable()
export class AnswerUserCallUseCase {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    @Inject(EARLY_TERMINATES) private readonly earlyTerminates: EarlyTerminateStore,
    private readonly media: MediaBusClient,
    private readonly runtime: CallRuntime,
    private readonly endCall: EndCallUseCase,
    private readonly bridge: BridgeToPbxUseCase,
    private readonly sip: SipStackService,
    private readonly trunks: TrunkDirectory,
    private readonly events: CrmEventBus,
    private readonly permissions: PermissionService,
    @Inject(CONTACTS) private readonly contacts: ContactsRepository,
    private readonly drain: GatewayDrain,
  ) {}

  async execute(event: CallConnectEvent): Promise<void> {
    const ageS = Math.floor(Date.now() / 1000) - event.timestamp;
    if (ageS > this.config.whatsapp.staleConnectS) {
      this.runtime.logFor('-').warn({ waCallId: event.waCallId, ageS }, 'stale connect webhook ignored: the accept window has passed');
      return;
    }
    if (await this.earlyTerminates.wasTerminated(event.waCallId)) {
      this.runtime.logFor('-').info({ waCallId: event.waCallId }, 'connect after its terminate: ignored (the user already hung up)');
      return;
    }
    const callId = newCallId();
    if (!(await this.calls.claimWaCallId(event.waCallId, callId))) {
      this.runtime.logFor('-').info({ waCallId: event.waCallId }, 'connect for a call we already know: ignored');
      return;
    }
    const live = this.runtime.open(callId, { waCallId: event.waCallId, direction: 'inbound' });
    const entry = entryPointOf(event);
    // The WhatsApp leg, the longest step (the media app builds the WebRTC answer), is asked for while the record
    // is written, and so is the PBX leg (BridgeToPbxUseCase): pre_accept and the INVITE go out a Redis round trip
    // sooner. Neither leg needs the record; each is recorded on it once it exists. A draining gateway makes none.
    const leg = this.drain.draining ? null : this.media.createWaLeg(callId, event.sdp);
    leg?.catch(() => undefined); // awaited by #answerWaSide, or dropped
    const created = this.calls.create({
      callId,
      direction: 'inbound',
      state: 'offered',
      waCallId: event.waCallId,
      businessNumber: event.to ?? this.config.whatsapp.businessNumber,
      phoneNumberId: event.phoneNumberId,
      ...optional({ userWaId: event.from ?? event.contactWaId, userName: event.contactName, entryPoint: entry?.kind, entryPayload: entry?.payload }),
    });
    void created.then(
      () => live.log.info({ from: event.from, to: event.to, userName: event.contactName, ...(entry ? { entryPoint: entry.kind, entryPayload: entry.payload } : {}) }, 'user-initiated call offered'),
      () => {
        // nothing of the call is on record: its legs are closed here (the PBX one by the bridge), not by a teardown
        this.#dropLeg(callId, leg, 'call record not created');
        this.runtime.dispose(callId);
      },
    );
    if (leg === null) {
      // shutting down: rejected at once rather than cut when the drain ends
      await created;
      await this.endCall.execute(callId, { by: 'system', cause: `${DRAINING_CAUSE}: new calls refused` });
      return;
    }
    const route = this.sip.running ? this.#route(live, event.to ?? this.config.whatsapp.businessNumber, entry) : undefined;
    const waSide = this.#answerWaSide(live, event, leg, created).then((side) => {
      this.#announce(live, event, route, entry);
      return side;
    });
    waSide.catch(() => undefined); // awaited below, where a failure ends the call
    // the PBX side starts at once, beside the WhatsApp side: its media leg now, the INVITE once `waSide` is done
    // once a desk phone answered and the bridge is up: call.connected for the CRM, the permission's quota reset
    if (route) await this.bridge.execute(live, route, waSide, created, (active) => this.#connected(active));
    await created; // a record that could not be written fails the webhook, as before
    try {
      // the leg is recorded; pre_accept may still be on its way (the INVITE does not wait for it)
      await (await waSide).preAccepted;
      if (route) return;
      if (this.config.signalling.autoAcceptWithoutPbx) await this.#acceptWithoutPbx(live, event.waCallId);
      else await this.endCall.execute(callId, { by: 'system', cause: `no PBX route for business number ${event.to ?? '(unknown)'}` });
    } catch (err) {
      // a media app at media.maxCalls refuses new calls by design: not an error of the gateway
      if ((err as { code?: unknown } | null)?.code === 'MEDIA_AT_CAPACITY') live.log.warn({ err }, 'user-initiated call refused: the media app is at its call limit');
      else live.log.error({ err }, 'user-initiated call set-up failed');
      await this.endCall.execute(callId, { by: 'system', cause: `set-up failed: ${(err as Error).message}` });
    }
  }

  /** The business number's route; for a call from a call button or deep link, its entry point's destinations when one matches. */
  #route(live: LiveCall, businessNumber: string, entry: EntryPoint | undefined): ResolvedRoute | undefined {
    const route = this.trunks.routeFor(businessNumber);
    if (!route || !entry) return route;
    const chosen = routeForEntry(route, entry);
    const fields = { entryPoint: entry.kind, entryPayload: entry.payload, destinations: chosen.route.destinations.map((d) => d.uri) };
    if (chosen.matched) live.log.info(fields, 'routed by entry point');
    else if (route.entryPoints.size > 0) live.log.info(fields, 'no entry point for this payload: the route\'s destinations');
    return chosen.route;
  }

  /** Closes the WhatsApp leg of a call whose record could not be written (once it is made; never throws). */
  #dropLeg(callId: string, leg: Promise<{ legId: string }> | null, reason: string): void {
    void leg
      ?.then((made) => this.media.closeWaLeg(callId, made.legId, reason))
      .catch((err: unknown) => this.runtime.logFor(callId).warn({ err, reason }, 'WhatsApp leg of an unrecorded call not closed'));
  }

  /**
   * Our WebRTC answer (asked for while the record was being written), recorded on the call once the record exists,
   * and pre_accept (reference §6.2: ICE/DTLS come up while the destination rings), the two side by side.
   * Resolves once the leg is on the record, so that the desk phone rings while pre_accept is on its way
   * ("call pre_accept at once ... meanwhile ring the desk phone"); the pre_accept itself is `preAccepted`,
   * which accept waits for. A failed record write closes the leg and rejects, once pre_accept has settled
   * (the call is then ended, and its teardown finds the leg on the record).
   */
  async #answerWaSide(live: LiveCall, event: CallConnectEvent, legRequest: Promise<CreateWaLegReply>, created: Promise<CallRecord>): Promise<WaSide> {
    const leg = await legRequest;
    const preAccepted = this.graph.preAccept(event.waCallId, leg.sdp).then(() => live.log.info({ legId: leg.legId }, 'pre_accept sent'));
    // awaited by the caller (which ends the call when it fails) and by the bridge; never left unhandled
    preAccepted.catch(() => undefined);
    try {
      await created;
    } catch (err) {
      // the call is dropped and its leg closed by execute; rejected once pre_accept has settled, as below
      await preAccepted.catch(() => undefined);
      throw err;
    }
    try {
      await this.calls.amend(live.callId, { waLegId: leg.legId, waSdp: leg.sdp });
    } catch (err) {
      // without the leg on the record the teardown would not close it
      await this.media.closeWaLeg(live.callId, leg.legId, 'call record not updated').catch(() => undefined);
      await preAccepted.catch(() => undefined);
      throw err;
    }
    return { waCallId: event.waCallId, legId: leg.legId, sdp: leg.sdp, preAccepted };
  }

  /**
   * Tells the CRM a call is coming in (`call.incoming`) and notes the caller in the contact book. The contact
   * book is the CRM's, not the call's: a failed update is logged, never fails the call.
   */
  #announce(live: LiveCall, event: CallConnectEvent, route: ResolvedRoute | undefined, entry: EntryPoint | undefined): void {
    const waId = event.from ?? event.contactWaId;
    if (waId) this.contacts.touch(waId, event.contactName).catch((err: unknown) => live.log.warn({ err }, 'contact not updated'));
    this.events.publish('call.incoming', {
      callId: live.callId,
      businessNumber: event.to ?? this.config.whatsapp.businessNumber,
      ...(waId ? { waId } : {}),
      ...(event.contactName ? { userName: event.contactName } : {}),
      ...(route?.destinations[0] ? { destination: route.destinations[0].uri } : {}),
      ...(entry ? { entryPoint: entry.kind, entryPayload: entry.payload } : {}),
    });
  }

  async #acceptWithoutPbx(live: LiveCall, waCallId: string): Promise<void> {
    const record = await this.calls.get(live.callId);
    if (!record || record.state !== 'offered' || !record.waLegId || !record.waSdp) return;
    await this.calls.apply(live.callId, { type: 'accept.requested' });
    await this.graph.accept(waCallId, record.waSdp);
    const res = await this.calls.apply(live.callId, { type: 'wa.accept-sent' });
    if (res.outcome !== 'applied') return;
    const tone = this.config.media.testToneHz;
    await this.media.startWaMedia(live.callId, record.waLegId, tone > 0 ? { kind: 'tone', frequencyHz: tone } : { kind: 'silence' });
    live.log.info({ toneHz: tone }, 'call answered by the gateway itself (no PBX configured): media started');
    await this.#connected(res.record);
  }

  /** A user-initiated call is up: Meta resets the permission quota on a connected call (reference §4). */
  async #connected(rec: CallRecord): Promise<void> {
    const callId = rec.callId;
    if (rec.userWaId) await this.permissions.onCallConnected(rec.userWaId, 'user_initiated');
    this.events.publish('call.connected', { callId, direction: 'inbound', ...(rec.userWaId ? { waId: rec.userWaId } : {}), ...(rec.codec ? { codec: rec.codec } : {}) });
  }
}
