import { parseAccountSettingsChange, parseAccountUpdateChange } from './account-field.parser';
import { parseCallsChange } from './calls-field.parser';
import { parseMessagesChange } from './messages-field.parser';
import { type ChangeContext, ParseSink, isRecord, joinPath } from './parse-context';
import type { ParsedWebhook } from './webhook-events.types';
import { changeSchema, entrySchema, envelopeHeadSchema } from './wire-common.schema';

type ChangeParser = (value: Record<string, unknown>, ctx: ChangeContext, sink: ParseSink) => void;

/** The `changes[].field` values this gateway subscribes to; any other field is ignored. */
const CHANGE_PARSERS: Readonly<Record<string, ChangeParser>> = {
  calls: parseCallsChange,
  messages: parseMessagesChange,
  account_settings_update: parseAccountSettingsChange,
  account_update: parseAccountUpdateChange,
};

/**
 * Validates a webhook body (reference §2.2) into domain events. Never throws. Each entry, change and item
 * is validated on its own, so one bad item is rejected (with its JSON path and a reason) without hiding
 * its neighbours; well-formed items the gateway does not act on are listed as ignored. Unknown keys are
 * stripped, since Meta adds fields without notice (STYLE §4). A body that is not an object, or whose
 * `object`/`entry` is wrong, is one rejection at `$` or at that key.
 */
export function parseWebhook(body: unknown): ParsedWebhook {
  const sink = new ParseSink();
  if (!isRecord(body)) {
    sink.reject('', `body must be a JSON object, got ${describeType(body)}`, body);
    return result(sink);
  }
  const head = sink.validate(envelopeHeadSchema, body, '');
  if (!head) return result(sink);
  head.entry.forEach((rawEntry, i) => parseEntry(rawEntry, joinPath('', 'entry', i), sink));
  return result(sink);
}

function parseEntry(rawEntry: unknown, path: string, sink: ParseSink): void {
  const entry = sink.validate(entrySchema, rawEntry, path);
  if (!entry) return;
  entry.changes.forEach((rawChange, j) => {
    const changePath = joinPath(path, 'changes', j);
    const change = sink.validate(changeSchema, rawChange, changePath);
    if (!change) return;
    const parse = Object.prototype.hasOwnProperty.call(CHANGE_PARSERS, change.field) ? CHANGE_PARSERS[change.field] : undefined;
    if (!parse) {
      sink.ignore(changePath, `field ${JSON.stringify(change.field)} is not handled`);
      return;
    }
    parse(change.value, { path: changePath, wabaId: entry.id, entryTime: entry.time }, sink);
  });
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

function result(sink: ParseSink): ParsedWebhook {
  return { events: sink.events, rejected: sink.rejected, ignored: sink.ignored };
}
