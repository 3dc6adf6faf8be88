import type { Logger } from '@wagw/logging';
import type { CallPermissionEvents } from './call-lifecycle';
import type { Clock } from './clock';
import { ControlError, invalidParameter, voiceCallNotSupported } from './emulator.errors';
import { parseMessageRequest } from './graph-requests';
import { newMessageId } from './ids';
import type { PermissionChoice, PermissionRequestRecord, WindowUsage } from './permission.book';
import type { TimerRegistry } from './timers';
import type { SimulatedUser, UserRegistry } from './users.registry';
import type { WebhookEmitter } from './webhook.emitter';

export interface PermissionFlowDeps {
  clock: Clock;
  timers: TimerRegistry;
  users: UserRegistry;
  emitter: WebhookEmitter;
  logger: Logger;
}

export interface ReplyResult {
  replyMessageId: string;
  requestId?: string;
  response: 'accept' | 'reject';
  isPermanent?: boolean;
  expirationTimestamp?: number;
}

/** ISO 8601 durations Meta uses in call_permissions limits (§3.7). */
function isoPeriod(ms: number): string {
  const hours = ms / 3_600_000;
  return hours % 24 === 0 && hours > 24 ? `P${hours / 24}D` : `PT${hours}H`;
}

function limitView(w: WindowUsage): Record<string, unknown> {
  const out: Record<string, unknown> = { time_period: isoPeriod(w.periodMs), max_allowed: w.maxAllowed, current_usage: w.currentUsage };
  if (w.limitExpiresAt !== undefined) out['limit_expiration_time'] = Math.floor(w.limitExpiresAt / 1000);
  return out;
}

/**
 * Permission requests and replies (reference §2.8, §3.6, §3.7, §4): the messages endpoint (which also hands
 * call buttons, §3.8, to the user), the user's replies (by hand or by behaviour), revocation, and the
 * automatic grants/revocations the call rules cause.
 */
export class PermissionFlow implements CallPermissionEvents {
  readonly #permissionTemplates = new Set<string>();

  constructor(private readonly deps: PermissionFlowDeps) {}

  registerPermissionTemplate(name: string): void {
    this.#permissionTemplates.add(name);
  }

  permissionTemplates(): string[] {
    return [...this.#permissionTemplates];
  }

  /**
   * POST /<PHONE_NUMBER_ID>/messages: 138017 / 138009 for permission requests, 131009 for a call button to a
   * user whose behaviour has `callButtons: false`; then sent + delivered statuses. The user keeps a call
   * button for a later tap (§3.8).
   */
  sendMessage(body: unknown): Record<string, unknown> {
    const cmd = parseMessageRequest(body, (name) => this.#permissionTemplates.has(name));
    const user = this.deps.users.ensure(cmd.to);
    const now = this.deps.clock.now();
    const wamid = newMessageId();
    let request: PermissionRequestRecord | undefined;
    if (cmd.permissionRequest) {
      user.permissions.assertCanRequest(now);
      request = user.permissions.recordRequest(wamid, now, cmd.permissionRequest);
    }
    if (cmd.callButton) {
      if (!user.behaviour.callButtons) throw voiceCallNotSupported(user.waId);
      user.callButtons.record(wamid, cmd.callButton, now);
    }
    this.deps.emitter.messageStatus(user, wamid, 'sent');
    this.deps.emitter.messageStatus(user, wamid, 'delivered');
    this.deps.logger.info(
      { waId: user.waId, wamid, type: cmd.type, permissionRequest: cmd.permissionRequest ?? null, callButton: cmd.callButton !== undefined },
      'message accepted',
    );
    if (request) this.#scheduleBehaviourReply(user, request);
    return { messaging_product: 'whatsapp', contacts: [{ input: cmd.to, wa_id: user.waId }], messages: [{ id: wamid }] };
  }

  #scheduleBehaviourReply(user: SimulatedUser, request: PermissionRequestRecord): void {
    const choice = user.behaviour.permissionRequest;
    if (choice === 'none') return;
    this.deps.timers.set(user.behaviour.replyAfterMs, () => {
      const now = this.deps.clock.now();
      if (this.deps.users.find(user.waId) !== user || !user.permissions.isOpen(request, now) || request.state !== 'pending') return;
      this.reply(user.waId, { choice, requestId: request.id });
    });
  }

  /**
   * The user answers a request (the named one, else the newest open one), or grants permanent permission
   * from the business profile (`fromProfile`, no context). UCP-2606 scenario table.
   */
  reply(waId: string, input: { choice: PermissionChoice; requestId?: string; fromProfile?: boolean }): ReplyResult {
    const user = this.deps.users.get(waId);
    const now = this.deps.clock.now();
    if (input.fromProfile) {
      if (input.choice !== 'always_allow') throw new ControlError('invalid', 'from the business profile the user can only grant permanent permission (always_allow); use /revoke to withdraw');
      user.permissions.grantPermanent(now);
      const id = this.deps.emitter.permissionReply(user, { response: 'accept', isPermanent: true, source: 'user_action' });
      return { replyMessageId: id, response: 'accept', isPermanent: true };
    }
    const request = user.permissions.findOpenRequest(now, input.requestId);
    if (!request) {
      throw new ControlError('conflict', input.requestId ? `request ${input.requestId} is not open (unknown, expired or superseded by a newer one)` : `user ${waId} has no open permission request`);
    }
    const expiresAt = user.permissions.applyReply(request, input.choice, now);
    const response = input.choice === 'never_allow' ? 'reject' : 'accept';
    const isPermanent = input.choice === 'never_allow' ? undefined : input.choice === 'always_allow';
    const id = this.deps.emitter.permissionReply(user, {
      response,
      ...(isPermanent !== undefined ? { isPermanent } : {}),
      ...(expiresAt !== undefined ? { expiresAtMs: expiresAt } : {}),
      source: 'user_action',
      contextId: request.id,
    });
    this.deps.logger.info({ waId, requestId: request.id, choice: input.choice }, 'permission reply sent');
    return {
      replyMessageId: id,
      requestId: request.id,
      response,
      ...(isPermanent !== undefined ? { isPermanent } : {}),
      ...(expiresAt !== undefined ? { expirationTimestamp: Math.floor(expiresAt / 1000) } : {}),
    };
  }

  /**
   * The user withdraws permission from the business profile. Whether Meta sends a webhook for this is
   * unconfirmed (reference §2.8, §10.3): none by default; `notify` sends reject/user_action without context.
   */
  revoke(waId: string, notify: boolean): void {
    const user = this.deps.users.get(waId);
    user.permissions.revoke();
    if (notify) this.deps.emitter.permissionReply(user, { response: 'reject', source: 'user_action' });
    this.deps.logger.info({ waId, notify }, 'user revoked call permission');
  }

  autoRevoked(user: SimulatedUser): void {
    this.deps.logger.info({ waId: user.waId }, 'permission revoked after consecutive unanswered business calls');
    this.deps.emitter.permissionReply(user, { response: 'reject', source: 'automatic' });
  }

  callbackGranted(user: SimulatedUser, callId: string): void {
    const expiresAt = user.permissions.grantTemporary(this.deps.clock.now());
    this.deps.emitter.permissionReply(user, { response: 'accept', isPermanent: false, expiresAtMs: expiresAt, source: 'automatic', contextId: callId });
  }

  /** GET /<PHONE_NUMBER_ID>/call_permissions?user_wa_id= | ?recipient= (§3.7) with the actual usage. */
  callPermissions(query: { user_wa_id?: unknown; recipient?: unknown }): Record<string, unknown> {
    const user = this.#userOf(query);
    const now = this.deps.clock.now();
    const grant = user.permissions.current(now);
    const permission: Record<string, unknown> = { status: grant.status };
    if (grant.status === 'temporary') permission['expiration_time'] = Math.floor(grant.expiresAt / 1000);
    const { day, week } = user.permissions.requestUsage(now);
    const cap = user.permissions.callCapUsage(now);
    return {
      messaging_product: 'whatsapp',
      permission,
      actions: [
        { action_name: 'send_call_permission_request', can_perform_action: user.permissions.canRequest(now), limits: [limitView(day), limitView(week)] },
        { action_name: 'start_call', can_perform_action: grant.status !== 'no_permission' && cap.limitExpiresAt === undefined, limits: [limitView(cap)] },
      ],
    };
  }

  #userOf(query: { user_wa_id?: unknown; recipient?: unknown }): SimulatedUser {
    if (typeof query.user_wa_id === 'string' && query.user_wa_id !== '') {
      const waId = query.user_wa_id.replace(/^\+/, '');
      if (!/^\d{6,15}$/.test(waId)) throw invalidParameter('user_wa_id must be a phone number');
      return this.deps.users.ensure(waId);
    }
    if (typeof query.recipient === 'string' && query.recipient !== '') {
      const user = this.deps.users.findByBsuid(query.recipient);
      if (!user) throw invalidParameter(`recipient ${query.recipient} is not a known user`);
      return user;
    }
    throw invalidParameter('user_wa_id or recipient is required');
  }

  reset(): void {
    this.#permissionTemplates.clear();
  }
}
