import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Logger } from '@wagw/logging';
import { SIGNALLING_INSTANCE_ID, SIGNALLING_LOGGER } from '../signalling.tokens';
import { END_CALL_AT_OWNER, endCallAtOwner, WA_PROGRESS_AT_OWNER, waProgressAtOwner } from './call-owner';
import { BusinessCallEventsHandler } from './business-call-events.handler';
import { EndCallUseCase } from './end-call.use-case';

/** The owner's side: ends the calls other processes ask it to (see CallOwnerForwarder). */
@Controller()
export class CallOwnerController {
  constructor(
    @Inject(SIGNALLING_INSTANCE_ID) private readonly instanceId: string,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    private readonly endCall: EndCallUseCase,
    private readonly businessCalls: BusinessCallEventsHandler,
  ) {}

  @EventPattern(END_CALL_AT_OWNER)
  async onEndCall(@Payload() payload: unknown): Promise<void> {
    const parsed = endCallAtOwner.safeParse(payload);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues.slice(0, 3) }, 'end-call request from another signalling process refused');
      return;
    }
    const { v: _v, target, callId, ...req } = parsed.data;
    if (target !== this.instanceId) return; // another process's call
    await this.endCall.execute(callId, req).catch((err: unknown) => this.logger.warn({ err, callId }, 'ending a call another signalling process asked for failed'));
  }

  @EventPattern(WA_PROGRESS_AT_OWNER)
  async onWaProgress(@Payload() payload: unknown): Promise<void> {
    const parsed = waProgressAtOwner.safeParse(payload);
    if (!parsed.success) {
      this.logger.warn({ issues: parsed.error.issues.slice(0, 3) }, 'WhatsApp progress from another signalling process refused');
      return;
    }
    const { target, callId, step } = parsed.data;
    if (target !== this.instanceId) return;
    await this.businessCalls.progressHere(callId, step).catch((err: unknown) => this.logger.warn({ err, callId, step }, 'WhatsApp progress another signalling process handed over failed'));
  }
}
