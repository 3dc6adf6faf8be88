import { Inject, Injectable } from '@nestjs/common';
import type { CallRecord, CallRepository } from '@wagw/call-state';
import type { Logger } from '@wagw/logging';
import type { CallTerminateEvent, WebhookEvent } from '@wagw/whatsapp';
import { CALL_REPOSITORY, EARLY_TERMINATES, SIGNALLING_LOGGER } from '../signalling.tokens';
import type { EarlyTerminateStore } from './early-terminate.store';
import { AnswerUserCallUseCase } from '../calls/answer-user-call.use-case';
import { EndCallUseCase } from '../calls/end-call.use-case';
import { BusinessCallEventsHandler } from '../calls/business-call-events.handler';
import { PermissionService } from '../permissions/permission.service';
import { VoicemailUseCase } from '../calls/voicemail.use-case';
import { whatsAppDurationPatch } from '../calls/whatsapp-duration';
import { AccountNotices } from './account-notices';

/**
 * Hands each validated, de-duplicated webhook event to its use case. Events of one WhatsApp call arrive
 * here in order per call (WebhookIngestService lanes), but Meta may deliver them out of order: the
 * call's state machine decides what a late event means.
 */
@Injectable()
export class WebhookEventRouter {
  constructor(
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(CALL_REPOSITORY) private readonly calls: CallRepository,
    @Inject(EARLY_TERMINATES) private readonly earlyTerminates: EarlyTerminateStore,
    private readonly answerUserCall: AnswerUserCallUseCase,
    private readonly endCall: EndCallUseCase,
    private readonly businessCalls: BusinessCallEventsHandler,
    private readonly permissions: PermissionService,
    private readonly voicemail: VoicemailUseCase,
    private readonly account: AccountNotices,
  ) {}

  async route(event: WebhookEvent): Promise<void> {
    switch (event.kind) {
      case 'call.connect':
        if (event.sdpType === 'offer') return this.answerUserCall.execute(event);
        return this.businessCalls.onAnswer(event);
      case 'call.status':
        return this.businessCalls.onStatus(event);
      case 'call.terminate':
        return this.#terminate(event);
      case 'permission.reply':
        return this.businessCalls.onPermissionReply(event);
      case 'message.status':
        return this.permissions.onMessageStatus(event);
      case 'call.voicemail':
        return this.voicemail.execute(event);
      case 'account.update':
        return this.account.onAccountUpdate(event);
      case 'settings.update':
        return this.account.onSettingsUpdate(event);
      default: {
        const unhandled: never = event; // a new kind must be routed above
        this.logger.info({ kind: (unhandled as WebhookEvent).kind }, 'webhook event noted: nothing to do for this kind');
      }
    }
  }

  async #terminate(event: CallTerminateEvent): Promise<void> {
    const record = await this.calls.getByWaCallId(event.waCallId);
    const cause = event.errors[0] ? `${event.status}: ${event.errors[0].code} ${event.errors[0].message ?? ''}`.trim() : event.status;
    if (record && event.durationSeconds !== undefined) await this.#noteDuration(record, event.durationSeconds);
    if (await this.businessCalls.onTerminate(event, cause, record)) return;
    if (!record) {
      // terminate before connect (reference §2.1): remember the call as ended so a late connect is ignored
      await this.earlyTerminates.mark(event.waCallId, cause);
      this.logger.info({ waCallId: event.waCallId }, 'terminate for an unknown call: recorded so a late connect is ignored');
      return;
    }
    await this.endCall.execute(record.callId, {
      by: 'wa',
      cause,
      waStatus: event.status,
      ...(event.errors[0] ? { waErrorCode: event.errors[0].code } : {}),
    });
  }

  /**
   * Meta's duration of an answered call (and a business-initiated call's billed pulses) on its record, before
   * the end is applied (so `call.ended` finds the CDR complete) or after, when our own end came first (its
   * terminate is then Meta's answer to ours). Never in the way of the end: a failed note is logged.
   */
  async #noteDuration(record: CallRecord, durationSeconds: number): Promise<void> {
    const patch = whatsAppDurationPatch(record.direction, durationSeconds);
    try {
      await this.calls.amend(record.callId, patch);
      this.logger.debug({ callId: record.callId, waCallId: record.waCallId, ...patch }, "WhatsApp's duration of the call noted");
    } catch (err) {
      this.logger.warn({ err, callId: record.callId, waCallId: record.waCallId }, "WhatsApp's duration of the call not noted on the CDR");
    }
  }
}
