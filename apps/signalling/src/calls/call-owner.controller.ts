import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { z } from 'zod';
import type { CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import { CrmEventBus } from '../events/crm-event-bus';
import { CALL_REPOSITORY, SIGNALLING_INSTANCE_ID, SIGNALLING_LOGGER } from '../signalling.tokens';
import { END_CALL_AT_OWNER, endCallAtOwner, TRANSFER_AT_OWNER, transferAtOwner, WA_PROGRESS_AT_OWNER, waProgressAtOwner } from './call-owner';
import { BusinessCallEventsHandler } from './business-call-events.handler';
import { CallRuntime } from './call-runtime';
import { EndCallUseCase } from './end-call.use-case';
import { CallNotTransferableError, TransferService } from './transfer.service';

/** The owner's side: ends, progresses and transfers the calls other processes ask it to (see CallOwnerForwarder). */
@Controller()
export class CallOwnerController {
  constructor(
    @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId: string,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly endCall: EndCallUseCase,
    private readonly businessCalls: BusinessCallEventsHandler,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    private readonly runtime: CallRuntime,
    private readonly transfers: TransferService,
    private readonly events: CrmEventBus,
  ) {}

  @EventPattern(END_CALL_AT_OWNER)
  async onEndCall(@Payload() payload: unknown): Promise<void> {
    const mine = this.#mine(endCallAtOwner, payload, 'end-call request');
    if (!mine) return;
    const { v: _v, target: _target, callId, ...req } = mine;
    await this.endCall.execute(callId, req).catch((err: unknown) => this.logger.warn({ err, callId }, 'ending a call another signalling process asked for failed'));
  }

  @EventPattern(WA_PROGRESS_AT_OWNER)
  async onWaProgress(@Payload() payload: unknown): Promise<void> {
    const mine = this.#mine(waProgressAtOwner, payload, 'WhatsApp progress');
    if (!mine) return;
    const { callId, step } = mine;
    await this.businessCalls.progressHere(callId, step).catch((err: unknown) => this.logger.warn({ err, callId, step }, 'WhatsApp progress another signalling process handed over failed'));
  }

  /**
   * An API transfer that reached another process: carried out here as if asked here; a refusal (the call no
   * longer active, no desk phone on it, a transfer under way) goes to the CRM as call.transfer_failed, since
   * the API has already answered 202.
   */
  @EventPattern(TRANSFER_AT_OWNER)
  async onTransfer(@Payload() payload: unknown): Promise<void> {
    const mine = this.#mine(transferAtOwner, payload, 'transfer request');
    if (!mine) return;
    const { callId, to } = mine;
    const rec = await this.calls.get(callId).catch((err: unknown) => {
      this.logger.warn({ err, callId }, 'call record not read for a transfer another signalling process handed over');
      return null;
    });
    try {
      this.transfers.requestTransfer(this.runtime.get(callId), rec?.state ?? 'gone', callId, to);
    } catch (err) {
      const cause = err instanceof Error ? err.message : String(err);
      if (err instanceof CallNotTransferableError) this.logger.warn({ callId, to, cause }, 'transfer handed over by another signalling process refused');
      else this.logger.error({ err, callId, to }, 'transfer handed over by another signalling process failed');
      this.events.publish('call.transfer_failed', { callId, ...(rec?.userWaId ? { waId: rec.userWaId } : {}), to, by: 'api', cause });
    }
  }

  /** The request when well formed and meant for this process (else undefined: another process's, or refused and logged). */
  #mine<T extends { target: string }>(schema: z.ZodType<T>, payload: unknown, what: string): T | undefined {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues.slice(0, 3) }, `${what} from another signalling process refused`);
      return undefined;
    }
    return parsed.data.target === this.instanceId ? parsed.data : undefined;
  }
}
