import type { Clock } from './clock';
import type { EmulatedCall } from './call.record';
import { newMessageId } from './ids';
import type { SimulatedUser } from './users.registry';
import {
  type AccountUpdateFacts,
  type BusinessIdentity,
  type PermissionReplyFacts,
  type UserIdentity,
  type VoicemailFacts,
  type WebhookChange,
  type WebhookError,
  accountUpdateChange,
  callConnectChange,
  callStatusChange,
  callTerminateChange,
  envelope,
  messageStatusChange,
  permissionReplyChange,
  settingsUpdateChange,
  voicemailChange,
} from './webhook-payloads';
import type { WebhookKind, WebhookSender } from './webhook.sender';

/**
 * Turns domain facts into webhook bodies and hands them to the sender with an ordering key: the call id
 * for call webhooks (and a voicemail left on that call), `user:<waId>` for the user's messages, `settings`
 * for settings updates, `account` for account updates.
 */
export class WebhookEmitter {
  constructor(
    private readonly biz: BusinessIdentity,
    private readonly sender: WebhookSender,
    private readonly clock: Clock,
  ) {}

  #send(key: string, kind: WebhookKind, change: WebhookChange, entryTimeMs?: number): void {
    this.sender.enqueue(key, kind, envelope(this.biz, change, entryTimeMs));
  }

  /** A new call: lets the sender apply the reorder fault to it (before its first webhook). */
  callStarted(callId: string): void {
    this.sender.callStarted(callId);
  }

  callConnect(call: EmulatedCall, user: SimulatedUser, sdp: string): void {
    this.#send(
      call.id,
      'calls.connect',
      callConnectChange(this.biz, identity(user), {
        callId: call.id,
        direction: call.direction,
        timestampMs: this.clock.now(),
        sdp,
        bizOpaqueCallbackData: call.bizOpaqueCallbackData,
        ctaPayload: call.ctaPayload,
        deeplinkPayload: call.deeplinkPayload,
      }),
    );
  }

  callStatus(call: EmulatedCall, user: SimulatedUser, status: 'RINGING' | 'ACCEPTED' | 'REJECTED'): void {
    this.#send(
      call.id,
      'calls.status',
      callStatusChange(this.biz, identity(user), { callId: call.id, status, timestampMs: this.clock.now(), bizOpaqueCallbackData: call.bizOpaqueCallbackData }),
    );
  }

  callTerminate(call: EmulatedCall, user: SimulatedUser, errors?: WebhookError[]): void {
    const duration = call.durationSeconds();
    const answered =
      call.connectedAt !== undefined && call.endedAt !== undefined && duration !== undefined
        ? { startMs: call.connectedAt, endMs: call.endedAt, durationS: duration }
        : undefined;
    this.#send(
      call.id,
      'calls.terminate',
      callTerminateChange(this.biz, identity(user), {
        callId: call.id,
        direction: call.direction,
        timestampMs: call.endedAt ?? this.clock.now(),
        status: call.terminateStatus ?? 'COMPLETED',
        answered,
        bizOpaqueCallbackData: call.bizOpaqueCallbackData,
        ctaPayload: call.ctaPayload,
        deeplinkPayload: call.deeplinkPayload,
        errors,
      }),
    );
  }

  messageStatus(user: SimulatedUser, messageId: string, status: 'sent' | 'delivered' | 'read'): void {
    this.#send(`user:${user.waId}`, 'messages.status', messageStatusChange(this.biz, identity(user), { messageId, status, timestampMs: this.clock.now() }));
  }

  /** Sends a call_permission_reply from the user; returns the reply's message id. */
  permissionReply(user: SimulatedUser, facts: Omit<PermissionReplyFacts, 'messageId' | 'timestampMs'>): string {
    const messageId = newMessageId();
    this.#send(
      `user:${user.waId}`,
      'messages.call_permission_reply',
      permissionReplyChange(this.biz, identity(user), { ...facts, messageId, timestampMs: this.clock.now() }),
    );
    return messageId;
  }

  settingsUpdate(calling: Record<string, unknown>): void {
    this.#send('settings', 'account_settings_update', settingsUpdateChange(this.biz, calling, this.clock.now()));
  }

  /** The voicemail the user left on an unanswered call, after that call's own webhooks (same key). */
  voicemail(user: SimulatedUser, facts: Omit<VoicemailFacts, 'timestampMs'>): void {
    this.#send(facts.callId, 'messages.voicemail', voicemailChange(this.biz, identity(user), { ...facts, timestampMs: this.clock.now() }));
  }

  /** `account_update`; returns the change sent (the control API answers with it). */
  accountUpdate(facts: AccountUpdateFacts): WebhookChange {
    const change = accountUpdateChange(this.biz, facts);
    this.#send('account', 'account_update', change, this.clock.now());
    return change;
  }
}

function identity(user: SimulatedUser): UserIdentity {
  return { waId: user.waId, name: user.name, bsuid: user.bsuid };
}
