import { callItemSchema, callStatusItemSchema, callsValueSchema, type WireCallItem, type WireCallStatusItem } from './calls-field.schema';
import { type ChangeContext, type ParseSink, joinPath, matchContact, sourceOf, stringField, toErrorInfo } from './parse-context';
import type { CallParties, WebhookErrorInfo, WebhookSource } from './webhook-events.types';
import { opaqueOf, type WireContact } from './wire-common.schema';

/** Call events this gateway acts on; other `event` values (Meta adds some) are reported as ignored. */
const HANDLED_CALL_EVENTS: readonly string[] = ['connect', 'terminate'];

interface CallsScope {
  source: WebhookSource;
  contacts: WireContact[];
  /** `value.errors[]`: failure details of a terminate, beside `calls` (reference §2.6). */
  valueErrors: WebhookErrorInfo[];
  /** How many `calls[]` items are terminates: value-level errors go to the only one, or to the failed ones. */
  terminateCount: number;
}

/** `field: "calls"`: `calls[]` (connect / terminate) and `statuses[]` of type `call` (reference §2.2-§2.6). */
export function parseCallsChange(value: Record<string, unknown>, ctx: ChangeContext, sink: ParseSink): void {
  const valuePath = joinPath(ctx.path, 'value');
  const v = sink.validate(callsValueSchema, value, valuePath);
  if (!v) return;
  const calls = v.calls ?? [];
  const statuses = v.statuses ?? [];
  const valueErrors = (v.errors ?? []).map(toErrorInfo);
  if (calls.length === 0 && statuses.length === 0) {
    const why = valueErrors.length > 0 ? `only errors (codes ${valueErrors.map((e) => e.code).join(', ')})` : 'neither calls nor statuses';
    sink.ignore(valuePath, `calls change carries ${why}`);
    return;
  }
  const scope: CallsScope = {
    source: sourceOf(ctx, v.metadata),
    contacts: v.contacts ?? [],
    valueErrors,
    terminateCount: calls.filter((c) => stringField(c, 'event') === 'terminate').length,
  };
  calls.forEach((raw, i) => parseCallItem(raw, joinPath(valuePath, 'calls', i), scope, sink));
  statuses.forEach((raw, i) => parseCallStatusItem(raw, joinPath(valuePath, 'statuses', i), scope, sink));
}

function parseCallItem(raw: unknown, path: string, scope: CallsScope, sink: ParseSink): void {
  const event = stringField(raw, 'event');
  if (event !== undefined && !HANDLED_CALL_EVENTS.includes(event)) {
    sink.ignore(path, `call event ${JSON.stringify(event)} is not handled`);
    return;
  }
  const item = sink.validate(callItemSchema, raw, path);
  if (!item) return;
  const contact = contactOfCall(item, scope.contacts);
  if (item.event === 'connect') {
    sink.emit({ kind: 'call.connect', ...scope.source, ...contact, ...partiesOf(item), sdpType: item.session.sdp_type, sdp: item.session.sdp });
    return;
  }
  const takesValueErrors = scope.terminateCount === 1 || item.status === 'failed';
  sink.emit({
    kind: 'call.terminate',
    ...scope.source,
    ...contact,
    ...partiesOf(item),
    status: item.status,
    startTime: item.start_time,
    endTime: item.end_time,
    durationSeconds: item.duration,
    errors: [...(item.errors ?? []).map(toErrorInfo), ...(takesValueErrors ? scope.valueErrors : [])],
  });
}

function partiesOf(c: WireCallItem): CallParties {
  return {
    waCallId: c.id,
    direction: c.direction,
    from: c.from,
    to: c.to,
    fromUserId: c.from_user_id,
    fromParentUserId: c.from_parent_user_id,
    toUserId: c.to_user_id,
    toParentUserId: c.to_parent_user_id,
    timestamp: c.timestamp,
    bizOpaqueCallbackData: opaqueOf(c),
    ctaPayload: c.cta_payload,
    deeplinkPayload: c.deeplink_payload,
  };
}

/** The user is `from` on a user-initiated call and `to` on a business-initiated one; unknown direction: try both. */
function contactOfCall(c: WireCallItem, contacts: WireContact[]) {
  if (c.direction === 'user_initiated') return matchContact(contacts, [c.from], [c.from_user_id]);
  if (c.direction === 'business_initiated') return matchContact(contacts, [c.to], [c.to_user_id]);
  return matchContact(contacts, [c.from, c.to], [c.from_user_id, c.to_user_id]);
}

function parseCallStatusItem(raw: unknown, path: string, scope: CallsScope, sink: ParseSink): void {
  const type = stringField(raw, 'type');
  if (type !== undefined && type !== 'call') {
    sink.ignore(path, `status of type ${JSON.stringify(type)} on the calls field is not handled`);
    return;
  }
  const item: WireCallStatusItem | undefined = sink.validate(callStatusItemSchema, raw, path);
  if (!item) return;
  sink.emit({
    kind: 'call.status',
    ...scope.source,
    ...matchContact(scope.contacts, [item.recipient_id], [item.recipient_user_id]),
    waCallId: item.id,
    status: item.status,
    timestamp: item.timestamp,
    recipientId: item.recipient_id,
    recipientUserId: item.recipient_user_id,
    recipientParentUserId: item.recipient_parent_user_id,
    bizOpaqueCallbackData: opaqueOf(item),
  });
}
