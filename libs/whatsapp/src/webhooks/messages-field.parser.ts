import {
  messageStatusItemSchema,
  messagesValueSchema,
  permissionReplyMessageSchema,
  voicemailMessageSchema,
} from './messages-field.schema';
import { type ChangeContext, type ParseSink, isRecord, joinPath, matchContact, sourceOf, stringField, toErrorInfo } from './parse-context';
import type { WebhookSource } from './webhook-events.types';
import { opaqueOf, type WireContact } from './wire-common.schema';

/** Message statuses we report; others Meta sends (`deleted`, `warning`, `played`, ...) are ignored. */
const HANDLED_MESSAGE_STATUSES: readonly string[] = ['sent', 'delivered', 'read', 'failed'];

interface MessagesScope {
  source: WebhookSource;
  contacts: WireContact[];
}

type MessageRoute = { to: 'permission_reply' | 'voicemail' } | { to: 'ignore'; reason: string } | { to: 'reject'; reason: string };

/**
 * `field: "messages"`: the call permission reply (reference §2.8), voicemail (§2.9: an audio message whose
 * id is the call's WACID) and statuses of messages we sent. Every other inbound message is ignored.
 */
export function parseMessagesChange(value: Record<string, unknown>, ctx: ChangeContext, sink: ParseSink): void {
  const valuePath = joinPath(ctx.path, 'value');
  const v = sink.validate(messagesValueSchema, value, valuePath);
  if (!v) return;
  const messages = v.messages ?? [];
  const statuses = v.statuses ?? [];
  if (messages.length === 0 && statuses.length === 0) {
    const codes = (v.errors ?? []).map((e) => e.code);
    sink.ignore(valuePath, codes.length > 0 ? `messages change carries only errors (codes ${codes.join(', ')})` : 'messages change has neither messages nor statuses');
    return;
  }
  const scope: MessagesScope = { source: sourceOf(ctx, v.metadata), contacts: v.contacts ?? [] };
  messages.forEach((raw, i) => parseMessageItem(raw, joinPath(valuePath, 'messages', i), scope, sink));
  statuses.forEach((raw, i) => parseMessageStatusItem(raw, joinPath(valuePath, 'statuses', i), scope, sink));
}

/** Routes on `interactive.type` first: Meta's permission-reply sample has no message-level `type` (reference §2.8). */
function routeMessage(raw: unknown): MessageRoute {
  if (!isRecord(raw)) return { to: 'reject', reason: 'message must be an object' };
  const interactiveType = stringField(raw['interactive'], 'type');
  if (interactiveType === 'call_permission_reply') return { to: 'permission_reply' };
  const type = stringField(raw, 'type');
  if (type === undefined) return { to: 'reject', reason: 'type is missing (expected a message type such as "interactive")' };
  if (type === 'interactive') return { to: 'ignore', reason: `interactive message of type ${JSON.stringify(interactiveType)} is not handled` };
  if (type === 'audio') {
    const id = stringField(raw, 'id');
    if (id?.startsWith('wamid.')) return { to: 'ignore', reason: 'audio message that is not a voicemail (id is a wamid, not a call WACID)' };
    return { to: 'voicemail' };
  }
  return { to: 'ignore', reason: `message type ${JSON.stringify(type)} is not handled` };
}

function parseMessageItem(raw: unknown, path: string, scope: MessagesScope, sink: ParseSink): void {
  const route = routeMessage(raw);
  if (route.to === 'reject') return sink.reject(path, route.reason, raw);
  if (route.to === 'ignore') return sink.ignore(path, route.reason);
  if (route.to === 'voicemail') return parseVoicemail(raw, path, scope, sink);
  const m = sink.validate(permissionReplyMessageSchema, raw, path);
  if (!m) return;
  const reply = m.interactive.call_permission_reply;
  const contextId = m.context?.id;
  sink.emit({
    kind: 'permission.reply',
    ...scope.source,
    ...matchContact(scope.contacts, [m.from], [m.from_user_id]),
    messageId: m.id,
    from: m.from,
    fromUserId: m.from_user_id,
    timestamp: m.timestamp,
    response: reply.response,
    isPermanent: reply.is_permanent ?? false,
    expiresAt: reply.expiration_timestamp,
    responseSource: reply.response_source,
    contextId,
    // context.id is our request's wamid, or the call's wacid for the automatic callback grant (reference §9).
    contextKind: contextId === undefined ? undefined : contextId.startsWith('wacid.') ? 'call' : 'message',
  });
}

function parseVoicemail(raw: unknown, path: string, scope: MessagesScope, sink: ParseSink): void {
  const m = sink.validate(voicemailMessageSchema, raw, path);
  if (!m) return;
  sink.emit({
    kind: 'call.voicemail',
    ...scope.source,
    ...matchContact(scope.contacts, [m.from], [m.from_user_id]),
    waCallId: m.id,
    from: m.from,
    fromUserId: m.from_user_id,
    timestamp: m.timestamp,
    audio: { mediaId: m.audio.id, mimeType: m.audio.mime_type, sha256: m.audio.sha256, url: m.audio.url },
  });
}

function parseMessageStatusItem(raw: unknown, path: string, scope: MessagesScope, sink: ParseSink): void {
  const status = stringField(raw, 'status');
  if (status !== undefined && !HANDLED_MESSAGE_STATUSES.includes(status.trim().toLowerCase())) {
    sink.ignore(path, `message status ${JSON.stringify(status)} is not handled`);
    return;
  }
  const type = stringField(raw, 'type');
  if (type !== undefined && type !== 'message') {
    sink.ignore(path, `status of type ${JSON.stringify(type)} on the messages field is not handled`);
    return;
  }
  const s = sink.validate(messageStatusItemSchema, raw, path);
  if (!s) return;
  sink.emit({
    kind: 'message.status',
    ...scope.source,
    messageId: s.id,
    status: s.status,
    timestamp: s.timestamp,
    recipientId: s.recipient_id,
    recipientUserId: s.recipient_user_id,
    bizOpaqueCallbackData: opaqueOf(s),
    errors: (s.errors ?? []).map(toErrorInfo),
  });
}
