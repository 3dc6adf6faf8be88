import { toCallingSettings } from '../calling-settings.schema';
import { ACCOUNT_UPDATE_EVENTS, accountSettingsValueSchema, accountUpdateValueSchema } from './account-field.schema';
import { type ChangeContext, type ParseSink, isRecord, joinPath, stringField } from './parse-context';

/**
 * `field: "account_settings_update"` (reference §2.9, CS-2511): the phone number's `calling` block after any
 * change, ours included. Other settings types, or a change without a calling block, are ignored.
 */
export function parseAccountSettingsChange(value: Record<string, unknown>, ctx: ChangeContext, sink: ParseSink): void {
  const valuePath = joinPath(ctx.path, 'value');
  const type = stringField(value, 'type');
  if (type !== undefined && type !== 'phone_number_settings') {
    sink.ignore(valuePath, `settings update of type ${JSON.stringify(type)} is not handled`);
    return;
  }
  const settings = value['phone_number_settings'];
  if (isRecord(settings) && settings['calling'] === undefined) {
    sink.ignore(valuePath, 'phone number settings update without a calling block');
    return;
  }
  const v = sink.validate(accountSettingsValueSchema, value, valuePath);
  if (!v) return;
  const raw = (settings as { calling: Record<string, unknown> }).calling;
  sink.emit({
    kind: 'settings.update',
    wabaId: ctx.wabaId,
    phoneNumberId: v.phone_number_settings.phone_number_id,
    timestamp: v.timestamp ?? ctx.entryTime,
    calling: toCallingSettings(raw, v.phone_number_settings.calling),
  });
}

/**
 * `field: "account_update"` (reference §2.9, CS-2511/CS-2606): `ACCOUNT_VIOLATION` (calling quality) and
 * `ACCOUNT_RESTRICTION` (calling restricted). Other account events are ignored.
 */
export function parseAccountUpdateChange(value: Record<string, unknown>, ctx: ChangeContext, sink: ParseSink): void {
  const valuePath = joinPath(ctx.path, 'value');
  const event = stringField(value, 'event');
  if (event !== undefined && !(ACCOUNT_UPDATE_EVENTS as readonly string[]).includes(event)) {
    sink.ignore(valuePath, `account event ${JSON.stringify(event)} is not handled`);
    return;
  }
  const v = sink.validate(accountUpdateValueSchema, value, valuePath);
  if (!v) return;
  sink.emit({
    kind: 'account.update',
    wabaId: ctx.wabaId,
    event: v.event === 'ACCOUNT_VIOLATION' ? 'account_violation' : 'account_restriction',
    phoneNumber: v.phone_number,
    timestamp: v.timestamp ?? ctx.entryTime,
    violationType: v.violation_info?.violation_type,
    restrictions: (v.restriction_info ?? []).map((r) => ({ type: r.restriction_type, expiration: r.expiration })),
  });
}
