import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@wagw/config';
import type { Logger } from '@wagw/logging';
import {
  capOf,
  effectiveState,
  needsReconcile,
  quotaOf,
  replyInputOf,
  requestFailedInputOf,
  snapshotOf,
  PermissionQuotaError,
  type PermissionApplyResult,
  type PermissionDecision,
  type PermissionKey,
  type PermissionRepository,
  type PermissionState,
} from '@wagw/permissions';
import { PermanentPermissionExistsError, PermissionRequestLimitError, type MessageStatusEvent, type PermissionReplyEvent, type WhatsAppGraphClient } from '@wagw/whatsapp';
import { CLOCK, GRAPH_CLIENT, PERMISSIONS, SIGNALLING_LOGGER, type Clock } from '../signalling.tokens';
import { CrmEventBus } from '../events/crm-event-bus';

export interface PermissionView {
  waId: string;
  businessNumber: string;
  state: PermissionState;
  expiresAt?: number;
  quota: ReturnType<typeof quotaOf>;
  dailyCap: ReturnType<typeof capOf>;
  decision: PermissionDecision;
}

/**
 * The call permission of each (business number, user) pair (reference §2.8, §3.6-3.7, §4): decisions before
 * a business-initiated call, permission requests within the quota, replies from webhooks, expiry we track
 * ourselves (Meta sends no webhook when a temporary grant ends), and reconciliation with
 * `GET call_permissions` when our record is missing or stale. Publishes the permission events for the CRM.
 */
@Injectable()
export class PermissionService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(SIGNALLING_LOGGER) private readonly logger: Logger,
    @Inject(PERMISSIONS) private readonly permissions: PermissionRepository,
    @Inject(GRAPH_CLIENT) private readonly graph: WhatsAppGraphClient,
    @Inject(CLOCK) private readonly now: Clock,
    private readonly events: CrmEventBus,
  ) {}

  keyOf(waId: string): PermissionKey {
    return { phoneNumberId: this.config.whatsapp.phoneNumberId, waId };
  }

  /** What the agent console shows for a user, after noting an expiry our clock has passed. */
  async view(waId: string): Promise<PermissionView> {
    await this.#observeExpiry(waId);
    const now = this.now();
    const record = await this.permissions.get(this.keyOf(waId));
    const snapshot = record ? snapshotOf(record) : null;
    const decision = await this.permissions.decide(this.keyOf(waId), now);
    const view: PermissionView = {
      waId,
      businessNumber: this.config.whatsapp.businessNumber,
      state: effectiveState(snapshot, now),
      quota: quotaOf(snapshot, now, this.permissions.rules),
      dailyCap: capOf(snapshot, now, this.permissions.rules.callsPer24h),
      decision,
    };
    if (snapshot?.expiresAt !== undefined && view.state === 'granted-once') view.expiresAt = snapshot.expiresAt;
    return view;
  }

  /** The decision before a business-initiated call, reconciled with Meta first when our record is missing or stale. */
  async decideForCall(waId: string): Promise<PermissionDecision> {
    const key = this.keyOf(waId);
    await this.#observeExpiry(waId);
    const record = await this.permissions.get(key);
    if (needsReconcile(record, this.now(), this.config.signalling.permissionReconcileAfterMs)) await this.reconcile(waId);
    return this.permissions.decide(key, this.now());
  }

  async reconcile(waId: string): Promise<void> {
    try {
      const result = await this.graph.getCallPermissions({ userWaId: waId });
      const res = await this.permissions.reconcile(this.keyOf(waId), result, this.now());
      this.#announce(waId, res);
    } catch (err) {
      this.logger.warn({ err, waId }, 'GET call_permissions failed: deciding on our own record');
    }
  }

  /** Sends a call permission request (interactive message) if the quota allows; returns its wamid. */
  async request(waId: string, opts: { callId?: string; bodyText?: string } = {}): Promise<{ messageId: string }> {
    const key = this.keyOf(waId);
    const record = await this.permissions.get(key);
    const quota = quotaOf(record ? snapshotOf(record) : null, this.now(), this.permissions.rules);
    if (!quota.canRequest) {
      const retryAt = quota.nextRequestAt ?? this.now();
      throw new PermissionQuotaError({
        reason: `No call permission request may be sent to this customer before ${new Date(retryAt).toISOString()} (WhatsApp allows 1 per 24 hours and 2 per 7 days).`,
        retryAt,
      });
    }
    let messageId: string;
    try {
      ({ messageId } = await this.graph.sendPermissionRequest({ to: waId, ...(opts.bodyText ? { bodyText: opts.bodyText } : {}) }));
    } catch (err) {
      if (err instanceof PermissionRequestLimitError || err instanceof PermanentPermissionExistsError) await this.reconcile(waId);
      throw err;
    }
    await this.permissions.apply(key, { type: 'request.sent', messageId, at: this.now() });
    this.events.publish('permission.requested', { waId, businessNumber: this.config.whatsapp.businessNumber, messageId, ...(opts.callId ? { callId: opts.callId } : {}) });
    return { messageId };
  }

  /** A `call_permission_reply` webhook. */
  async onReply(event: PermissionReplyEvent): Promise<PermissionApplyResult | undefined> {
    const waId = event.from ?? event.contactWaId;
    if (!waId) {
      this.logger.warn({ messageId: event.messageId }, 'permission reply without a user number: not applied');
      return undefined;
    }
    const res = await this.permissions.apply(this.keyOf(waId), replyInputOf(event));
    this.#announce(waId, res);
    return res;
  }

  async onMessageStatus(event: MessageStatusEvent): Promise<void> {
    const input = requestFailedInputOf(event);
    const waId = event.recipientId;
    if (!input || !waId) return;
    await this.permissions.apply(this.keyOf(waId), input);
  }

  async onCallConnected(waId: string, direction: 'business_initiated' | 'user_initiated'): Promise<void> {
    await this.permissions.apply(this.keyOf(waId), { type: 'call.connected', direction, at: this.now() });
  }

  /** A business-initiated call the user rejected or let ring out: counts toward the 4-in-a-row revocation. */
  async onCallUnanswered(waId: string): Promise<void> {
    const res = await this.permissions.apply(this.keyOf(waId), { type: 'call.unanswered', at: this.now() });
    this.#announce(waId, res);
  }

  async #observeExpiry(waId: string): Promise<void> {
    const key = this.keyOf(waId);
    const record = await this.permissions.get(key);
    if (!record || record.state !== 'granted-once') return;
    if (effectiveState(snapshotOf(record), this.now()) !== 'expired') return;
    const res = await this.permissions.apply(key, { type: 'expiry.observed', at: this.now() });
    this.#announce(waId, res);
  }

  /** Publishes the CRM event for a permission change. */
  #announce(waId: string, res: PermissionApplyResult): void {
    if (res.outcome !== 'applied') return;
    const businessNumber = this.config.whatsapp.businessNumber;
    const rec = res.record;
    // the machine reports an expiry from the effective state (already `expired`): announce it by its signal
    if (res.signal === 'expiry.observed') {
      this.events.publish('permission.expired', { waId, businessNumber, expiredAt: rec.expiresAt ?? this.now() });
      return;
    }
    if (res.from === res.to) return;
    switch (res.to) {
      case 'granted-once':
      case 'granted-always':
        this.events.publish('permission.granted', {
          waId,
          businessNumber,
          kind: res.to === 'granted-always' ? 'always' : 'once',
          ...(rec.expiresAt !== undefined ? { expiresAt: rec.expiresAt } : {}),
          source: rec.lastReply?.source ?? 'user_action',
        });
        return;
      case 'declined':
        this.events.publish('permission.declined', { waId, businessNumber });
        return;
      case 'revoked':
        this.events.publish('permission.revoked', { waId, businessNumber, reason: rec.revokedBy ?? 'automatic' });
        return;
      default:
        return;
    }
  }
}
