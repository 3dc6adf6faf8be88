import type { CallPermissions, MessageStatusEvent, PermissionReplyEvent } from '@wagw/whatsapp';
import type { PermissionInput } from './permission.machine';
import type { PermissionKey } from './permission-record.types';

/**
 * Machine inputs from what `@wagw/whatsapp` delivers. Webhook and Graph times are Unix seconds; inputs are
 * epoch milliseconds.
 */

function ms(seconds: number): number {
  return Math.round(seconds * 1000);
}

/** The pair a reply belongs to: the business number it arrived on and the user (`from`, else the contact's wa_id). */
export function permissionKeyOfReply(event: PermissionReplyEvent): PermissionKey | undefined {
  const waId = event.from ?? event.contactWaId;
  return waId ? { phoneNumberId: event.phoneNumberId, waId } : undefined;
}

/**
 * A `call_permission_reply` as a `reply` input (reference §2.8). A missing `response_source` is read as
 * `user_action`, except for a reject without context, which only Meta's automatic revocation sends.
 */
export function replyInputOf(event: PermissionReplyEvent): Extract<PermissionInput, { type: 'reply' }> {
  const source = event.responseSource ?? (event.response === 'reject' && event.contextId === undefined ? 'automatic' : 'user_action');
  const input: Extract<PermissionInput, { type: 'reply' }> = {
    type: 'reply',
    response: event.response,
    isPermanent: event.isPermanent,
    source,
    at: ms(event.timestamp),
  };
  if (event.expiresAt !== undefined) input.expiresAt = ms(event.expiresAt);
  if (event.contextId !== undefined) input.contextId = event.contextId;
  if (event.contextKind !== undefined) input.contextKind = event.contextKind;
  return input;
}

/**
 * A `failed` status of a message as a `request.failed` input, or undefined for other statuses. The
 * machine ignores it unless the message is the pair's latest permission request.
 */
export function requestFailedInputOf(event: MessageStatusEvent): Extract<PermissionInput, { type: 'request.failed' }> | undefined {
  if (event.status !== 'failed') return undefined;
  return { type: 'request.failed', messageId: event.messageId, at: ms(event.timestamp) };
}

/** Meta's block time of an action whose limit is reached (`limit_expiration_time`, seconds), in ms. */
function blockedUntil(result: CallPermissions, actionName: string): number | undefined {
  const action = result.actions.find((a) => a.name === actionName);
  if (!action || action.canPerform) return undefined;
  const times = action.limits.map((l) => l.limitExpiresAt).filter((t): t is number => t !== undefined);
  return times.length === 0 ? undefined : ms(Math.max(...times));
}

/** A `GET call_permissions` result read at `at` (epoch ms) as a `reconciled` input (reference §3.7). */
export function reconciledInputOf(result: CallPermissions, at: number): Extract<PermissionInput, { type: 'reconciled' }> {
  const input: Extract<PermissionInput, { type: 'reconciled' }> = { type: 'reconciled', status: result.status, at };
  if (result.status === 'temporary' && result.expiresAt !== undefined) input.expiresAt = ms(result.expiresAt);
  const requestBlocked = blockedUntil(result, 'send_call_permission_request');
  if (requestBlocked !== undefined) input.requestBlockedUntil = requestBlocked;
  const callBlocked = blockedUntil(result, 'start_call');
  if (callBlocked !== undefined) input.callBlockedUntil = callBlocked;
  return input;
}
