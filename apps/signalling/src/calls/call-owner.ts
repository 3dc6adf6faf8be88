import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { z } from 'zod';
import { END_PARTIES, type CallRecord, type CallRepository, type SignallingInstanceRegistry } from '@wagw/call-state';
import { CONTRACT_VERSION } from '@wagw/contracts';
import type { Logger } from '@wagw/logging';
import { MEDIA_BUS } from '../media/media-bus.client';
import { CALL_REPOSITORY, SIGNALLING_INSTANCE_ID, SIGNALLING_INSTANCES, SIGNALLING_LOGGER } from '../signalling.tokens';
import type { EndCallRequest } from './end-call.use-case';

/** The bus event that asks a call's owner (the signalling process holding its SIP leg and timers) to end it. */
export const END_CALL_AT_OWNER = 'signalling.end-call';
/** The bus event that hands a WhatsApp call's progress (ringing, accepted) to the process holding the PBX leg. */
export const WA_PROGRESS_AT_OWNER = 'signalling.wa-progress';
export const waProgressAtOwner = z.object({ v: z.literal(CONTRACT_VERSION), target: z.string().min(1), callId: z.string().min(1), step: z.enum(['ringing', 'accepted']) }).strict();
export type WaProgressStep = z.infer<typeof waProgressAtOwner>['step'];
/** The bus event that hands an API transfer to the process holding the call's SIP leg. */
export const TRANSFER_AT_OWNER = 'signalling.transfer';
export const transferAtOwner = z.object({ v: z.literal(CONTRACT_VERSION), target: z.string().min(1), callId: z.string().min(1), to: z.string().min(1).max(256) }).strict();
/** How long a process waits for the owner to end a call before it releases what it can from the record. */
export const OWNER_END_WAIT_MS = 5000;
const OWNER_END_POLL_MS = 100;

export const endCallAtOwner = z
  .object({
    v: z.literal(CONTRACT_VERSION),
    target: z.string().min(1),
    callId: z.string().min(1),
    by: z.enum(END_PARTIES),
    cause: z.string(),
    waStatus: z.enum(['completed', 'failed']).optional(),
    waErrorCode: z.number().int().optional(),
    sipCause: z.string().optional(),
    sipStatus: z.number().int().optional(),
    permissionExpired: z.boolean().optional(),
  })
  .strict();

/**
 * With several signalling processes, a request to end a call can reach one that holds nothing of it (an API
 * hangup through a load balancer, a WhatsApp terminate webhook, a media event): the SIP leg, its timers and
 * the in-memory call live in the process that set the call up (`signallingInstance` on the record). Ending it
 * from the record elsewhere would hang the PBX up from a dialog copy and leave that process's leg and timers
 * behind; so the end is asked of the owner over the bus, and this process waits for the record to say
 * `ended`. An owner that is gone (no heartbeat), or silent for OWNER_END_WAIT_MS, leaves it to this process.
 */
@Injectable()
export class CallOwnerForwarder {
  readonly #log: Logger;

  constructor(
    @Inject(MEDIA_BUS) private readonly bus: ClientProxy,
    @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId: string,
    @Inject(SIGNALLING_INSTANCES) private readonly registry: SignallingInstanceRegistry,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(SIGNALLING_LOGGER) logger: Logger,
  ) {
    this.#log = logger.child({ component: 'call-owner' });
  }

  /**
   * Hands a WhatsApp progress step of a call this process holds nothing of to its owner (a PBX call to a
   * WhatsApp user: the 180 and 200 toward the PBX go from the process holding its INVITE). True when sent;
   * false when the call is this process's, has no owner, or the owner is gone (the step then runs here).
   */
  async progressAtOwner(rec: Pick<CallRecord, 'callId' | 'signallingInstance'>, step: WaProgressStep): Promise<boolean> {
    const owner = await this.#handOver(rec, WA_PROGRESS_AT_OWNER, { step }, 'WhatsApp progress');
    return owner !== undefined;
  }

  /**
   * Hands an API transfer of a call this process holds nothing of to its owner, which holds the SIP leg the
   * transfer moves (its outcome, or its refusal, reaches the CRM as call.transferred / call.transfer_failed).
   * The owner's id when handed over; undefined when the call is this process's or its owner is gone.
   */
  transferAtOwner(rec: Pick<CallRecord, 'callId' | 'signallingInstance'>, to: string): Promise<string | undefined> {
    return this.#handOver(rec, TRANSFER_AT_OWNER, { to }, 'API transfer');
  }

  /** Sends `fields` of the call to its live owner on `pattern`; the owner, or undefined when this process acts. */
  async #handOver(rec: Pick<CallRecord, 'callId' | 'signallingInstance'>, pattern: string, fields: Record<string, string>, what: string): Promise<string | undefined> {
    const owner = await this.#otherLiveOwner(rec);
    if (!owner) return undefined;
    const context = { callId: rec.callId, owner, ...fields };
    this.bus.emit(pattern, { v: CONTRACT_VERSION, target: owner, callId: rec.callId, ...fields }).subscribe({
      error: (err: unknown) => this.#log.warn({ err, ...context }, `${what} not handed to the process holding the call`),
    });
    this.#log.info(context, `${what} of a call another signalling process holds: handed to that process`);
    return owner;
  }

  /** True once the call is ended (by its owner, or already); false when this process should end it itself. */
  async endAtOwner(callId: string, req: EndCallRequest, waitMs = OWNER_END_WAIT_MS): Promise<boolean> {
    const rec = await this.calls.get(callId);
    if (!rec) return false; // gone: the local end says so
    if (rec.state === 'ended') return true;
    const owner = await this.#otherLiveOwner(rec);
    if (!owner) return false;
    this.bus.emit(END_CALL_AT_OWNER, { v: CONTRACT_VERSION, target: owner, callId, ...req }).subscribe({
      error: (err: unknown) => this.#log.warn({ err, callId, owner }, 'end not asked of the process holding the call (its wait runs out, then it is ended here)'),
    });
    this.#log.info({ callId, owner, by: req.by, cause: req.cause }, 'end of a call another signalling process holds: asked of that process');
    for (const until = Date.now() + waitMs; Date.now() < until; ) {
      await sleep(OWNER_END_POLL_MS);
      const now = await this.calls.get(callId);
      if (!now || now.state === 'ended') return true;
    }
    this.#log.warn({ callId, owner, waitedMs: waitMs }, 'the signalling process holding the call did not end it in time: releasing it from the record here');
    return false;
  }

  /** The call's owner when it is another signalling process that still beats; else undefined (this one acts). */
  async #otherLiveOwner(rec: Pick<CallRecord, 'signallingInstance'>): Promise<string | undefined> {
    const owner = rec.signallingInstance;
    if (!owner || owner === this.instanceId || !(await this.registry.isAlive(owner))) return undefined;
    return owner;
  }
}
