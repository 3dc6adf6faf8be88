import { Inject, Injectable, Optional } from '@nestjs/common';
import { CallNotFoundError, type ApplyResult, type CallRecord, type CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { assertDialogSnapshot, assertIncomingInviteSnapshot, assertPendingInviteSnapshot, type SipReason } from '@wagw/sip';
import type { WhatsAppGraphClient } from '@wagw/whatsapp';
import type { BridgeMediaSummary } from '@wagw/contracts';
import { CALL_REPOSITORY, GRAPH_CLIENT } from '../signalling.tokens';
import { MediaBusClient } from '../media/media-bus.client';
import { CallRuntime } from './call-runtime';
import { CrmEventBus } from '../events/crm-event-bus';
import { SipStackService } from '../sip/sip-stack.service';
import { CallOwnerForwarder } from './call-owner';

export type EndedBy = 'wa' | 'pbx' | 'api' | 'system';

export interface EndCallRequest {
  by: EndedBy;
  cause: string;
  /** Meta's terminate status and error code when WhatsApp ended the call. */
  waStatus?: 'completed' | 'failed';
  waErrorCode?: number;
  /** SIP status/reason when the PBX ended it. */
  sipCause?: string;
  /** Final response to a PBX-originated INVITE not answered yet (e.g. 486 when the user declined). */
  sipStatus?: number;
  /**
   * The call permission request went unanswered (`by: 'system'`): ends the call only while it still waits
   * for the reply (the machine's `permission.expired`); one the reply moved on is left alone.
   */
  permissionExpired?: boolean;
}

/** States in which Meta has not been told we accept the call yet: ending it there is a `reject`. */
const NOT_YET_ACCEPTED = new Set(['offered', 'dialing-pbx', 'ringing-pbx']);

/**
 * Ends a call from any side, once: moves the record to `ending`, releases every leg (the WhatsApp call via
 * Graph unless WhatsApp ended it, the media leg, the SIP leg), then `ended` with the CDR fields. A second
 * request while the first runs joins it; a request for an ended call does nothing.
 */
@Injectable()
export class EndCallUseCase {
  /** The end in progress of each call this process holds nothing of (see #unheldInTurn). */
  readonly #unheld = new Map<string, Promise<void>>();

  constructor(
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    private readonly media: MediaBusClient,
    private readonly runtime: CallRuntime,
    private readonly events: CrmEventBus,
    @Optional() private readonly sip?: SipStackService,
    @Optional() private readonly owners?: CallOwnerForwarder,
  ) {}

  execute(callId: string, req: EndCallRequest): Promise<void> {
    const live = this.runtime.get(callId);
    if (live?.ending) return live.ending;
    if (!live) return this.#unheldInTurn(callId, req);
    const run: Promise<void> = this.#run(callId, req).then((ending) => {
      // an end the machine found late (a permission timer after the reply) leaves the call to its next end
      if (!ending && live?.ending === run) live.ending = undefined;
    });
    if (live) live.ending = run;
    return run;
  }

  /**
   * Ends of a call this process holds nothing of, one after the other: a second one (the WhatsApp terminate
   * that the first one's reject or terminate brings back) runs once the first is over and finds the call
   * ended, instead of releasing its legs a second time from the record (a second BYE, CANCEL or 503 the PBX
   * would take for a new request).
   */
  #unheldInTurn(callId: string, req: EndCallRequest): Promise<void> {
    const before = this.#unheld.get(callId);
    const end = (): Promise<void> => (this.owners ? this.#endAtOwnerOrHere(callId, req) : this.#run(callId, req).then(() => undefined));
    const run = before ? before.then(end, end) : end();
    const settled = run.catch(() => undefined);
    this.#unheld.set(callId, settled);
    void settled.then(() => {
      if (this.#unheld.get(callId) === settled) this.#unheld.delete(callId);
    });
    return run;
  }

  /** The process holding the call's SIP leg and timers ends it (CallOwnerForwarder); else (this one's, or its owner gone or silent) this one, from the record. */
  async #endAtOwnerOrHere(callId: string, req: EndCallRequest): Promise<void> {
    const owners = this.owners as CallOwnerForwarder;
    const done = await owners.endAtOwner(callId, req).catch((err: unknown) => {
      this.runtime.logFor(callId).warn({ err }, 'asking the signalling process holding the call to end it failed: ending it here');
      return false;
    });
    if (!done) await this.#run(callId, req);
  }

  /** False when the call was not (and is not being) ended: gone, ended already, or the event was late. */
  async #run(callId: string, req: EndCallRequest): Promise<boolean> {
    const log = this.runtime.logFor(callId);
    let res: ApplyResult;
    try {
      res = await this.calls.apply(callId, this.#eventOf(req), {
        ...(req.waStatus ? { waCause: req.waErrorCode ? `${req.waStatus} (${req.waErrorCode})` : req.waStatus } : {}),
        ...(req.sipCause ? { sipCause: req.sipCause } : {}),
      });
    } catch (err) {
      if (err instanceof CallNotFoundError) return false; // gone (expired): nothing left to release
      throw err;
    }
    if (res.outcome !== 'applied' && res.record.state !== 'ending') {
      if (res.record.state !== 'ended') log.info({ by: req.by, cause: req.cause, state: res.record.state, reason: res.reason }, 'end not applied: the call moved on');
      return false;
    }
    const from = res.outcome === 'applied' ? res.from : res.record.state;
    log.info({ by: req.by, cause: req.cause, from }, 'call ending');
    // legs as recorded when `ending` was applied (a leg attached after `ending` is released by whoever
    // attached it, seeing the state); the state before decides between reject and terminate
    await this.#releaseLegs({ ...res.record, state: from }, req);
    const ended = await this.calls.apply(callId, { type: 'legs.released' });
    this.runtime.dispose(callId);
    const r = ended.record;
    this.events.publish('call.ended', {
      callId,
      direction: r.direction,
      cause: r.endCause ?? req.cause,
      durationMs: r.durationMs ?? 0,
      ...(r.userWaId ? { waId: r.userWaId } : {}),
      ...(r.endedBy ? { endedBy: r.endedBy } : {}),
    });
    log.info({ by: req.by, cause: req.cause, durationMs: ended.record.durationMs }, 'call ended');
    return true;
  }

  #eventOf(req: EndCallRequest) {
    switch (req.by) {
      case 'wa':
        return { type: 'wa.terminate' as const, status: req.waStatus ?? 'completed', cause: req.cause, ...(req.waErrorCode ? { errorCode: req.waErrorCode } : {}) };
      case 'pbx':
        return { type: 'pbx.hangup' as const, cause: req.cause };
      case 'api':
        return { type: 'hangup.requested' as const, by: 'api' as const, cause: req.cause };
      default:
        return req.permissionExpired ? { type: 'permission.expired' as const, cause: req.cause } : { type: 'failed' as const, cause: req.cause };
    }
  }

  /** Each release is attempted even if another fails: a call never outlives one of its legs. */
  async #releaseLegs(rec: CallRecord, req: EndCallRequest): Promise<void> {
    const log = this.runtime.logFor(rec.callId);
    const live = this.runtime.get(rec.callId);
    const tasks: Promise<unknown>[] = [];
    if (req.by !== 'wa' && rec.waCallId) {
      const action = NOT_YET_ACCEPTED.has(rec.state) && rec.direction === 'inbound' ? 'reject' : 'terminate';
      tasks.push((action === 'reject' ? this.graph.reject(rec.waCallId) : this.graph.terminate(rec.waCallId)).catch((err: unknown) => log.warn({ err, action }, 'WhatsApp side release failed')));
    }
    const mediaLegs: Promise<BridgeMediaSummary | undefined>[] = [];
    if (rec.waLegId) {
      mediaLegs.push(this.media.closeWaLeg(rec.callId, rec.waLegId, req.cause).catch((err: unknown) => void log.warn({ err }, 'media leg release failed')));
    }
    if (rec.pbxLegId) {
      mediaLegs.push(this.media.closePbxLeg(rec.callId, rec.pbxLegId, req.cause).catch((err: unknown) => void log.warn({ err }, 'PBX media leg release failed')));
    }
    // with several media apps, the record of which one holds the call goes once its legs are closed; the CDR
    // gets the media of the bridge the first close stopped
    tasks.push(
      Promise.all(mediaLegs)
        .then(async (summaries) => {
          const media = summaries.find((m) => m !== undefined);
          if (media) await this.#noteMedia(rec.callId, media, log);
          await this.media.releaseCall(rec.callId);
        })
        .catch((err: unknown) => log.warn({ err }, 'media instance record not released (it expires)')),
    );
    if (live?.transfer) tasks.push(live.transfer.cancel(req.cause).catch((err: unknown) => log.warn({ err }, 'transfer in progress not cancelled')));
    if (live?.pbxLeg && req.by !== 'pbx') {
      tasks.push(live.pbxLeg.hangup(req.cause, req.sipStatus).catch((err: unknown) => log.warn({ err }, 'PBX leg release failed')));
    } else if (!live && (rec.pbxDialog || rec.pbxInvite || rec.pbxIncomingInvite) && req.by !== 'pbx') {
      // a call of another signalling process (it died, or holds it and did not end it): the SIP side from the record
      tasks.push(this.#releaseSipFromRecord(rec, req.cause, log));
    }
    await Promise.all(tasks);
  }

  /** The bridge's media on the CDR, and in the log for an operator following the call. */
  async #noteMedia(callId: string, media: BridgeMediaSummary, log: Logger): Promise<void> {
    log.info({ mode: media.mode, fromWa: media.fromWa, fromPbx: media.fromPbx }, 'call media: what each side sent');
    await this.calls
      .amend(callId, {
        mediaMode: media.mode,
        waPacketsReceived: media.fromWa.packets,
        waPacketsLost: media.fromWa.lost,
        waJitterMs: Math.round(media.fromWa.jitterMs),
        pbxPacketsReceived: media.fromPbx.packets,
        pbxPacketsLost: media.fromPbx.lost,
        pbxJitterMs: Math.round(media.fromPbx.jitterMs),
      })
      .catch((err: unknown) => log.warn({ err }, 'call media not noted on the CDR'));
  }

  /**
   * The PBX side of a call this process has no SIP leg for, from the record's copy of it: a BYE in its dialog
   * once answered, the CANCEL of our INVITE while the PBX rings, 503 to the PBX's INVITE while the WhatsApp user
   * rings (Reason Q.850 41). Never throws: the PBX side ends by itself otherwise.
   */
  async #releaseSipFromRecord(rec: CallRecord, cause: string, log: Logger): Promise<void> {
    const reason: SipReason = { protocol: 'Q.850', cause: 41, text: cause.slice(0, 100) };
    const what = rec.pbxDialog ? 'BYE to the PBX from the dialog on' : rec.pbxInvite ? 'CANCEL to the PBX from the INVITE on' : "503 to the PBX's INVITE from";
    try {
      if (!this.sip?.running) throw new Error('the SIP stack is not running');
      const stack = this.sip.stack;
      let outcome: Record<string, unknown>;
      if (rec.pbxDialog) {
        const snapshot: unknown = JSON.parse(rec.pbxDialog);
        assertDialogSnapshot(snapshot);
        outcome = { status: await stack.byeFromSnapshot(snapshot, reason), sipCallId: snapshot.callId };
      } else if (rec.pbxInvite) {
        const snapshot: unknown = JSON.parse(rec.pbxInvite);
        assertPendingInviteSnapshot(snapshot);
        outcome = { status: await stack.cancelFromSnapshot(snapshot, reason), sipCallId: snapshot.callId };
      } else {
        const snapshot: unknown = JSON.parse(rec.pbxIncomingInvite ?? '');
        assertIncomingInviteSnapshot(snapshot);
        outcome = { acked: await stack.rejectFromSnapshot(snapshot, 503, reason), sipCallId: snapshot.callId };
      }
      log.info(outcome, `${what} the call record (the process that held the call is gone)`);
    } catch (err) {
      log.warn({ err }, `${what} the call record failed: the PBX side ends by itself`);
    }
  }
}
