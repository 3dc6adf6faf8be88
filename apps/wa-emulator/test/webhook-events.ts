/**
 * Flattens received webhook bodies into one event per item, so tests can assert on sequences:
 * `call.connect`, `call.terminate`, `status.RINGING`, `message_status.sent`, `call_permission_reply`,
 * `message.audio` (a voicemail, id = the wacid), `settings`, `account_update.ACCOUNT_RESTRICTION`.
 */
export interface FlatEvent {
  type: string;
  /** The call id, message id (statuses) or reply id. */
  id: string;
  /** The item as sent (calls[i], statuses[i], messages[i] or the settings value). */
  item: Record<string, unknown>;
  /** The whole change value (metadata, contacts, errors). */
  value: Record<string, unknown>;
  field: string;
}

type Json = Record<string, unknown>;

export function flattenWebhook(body: unknown): FlatEvent[] {
  const out: FlatEvent[] = [];
  for (const entry of ((body as Json)['entry'] as Json[] | undefined) ?? []) {
    for (const change of (entry['changes'] as Json[] | undefined) ?? []) {
      const field = change['field'] as string;
      const value = change['value'] as Json;
      if (field === 'account_settings_update') {
        out.push({ type: 'settings', id: 'settings', item: value, value, field });
        continue;
      }
      if (field === 'account_update') {
        out.push({ type: `account_update.${String(value['event'])}`, id: 'account', item: value, value, field });
        continue;
      }
      for (const item of (value['calls'] as Json[] | undefined) ?? []) out.push({ type: `call.${String(item['event'])}`, id: String(item['id']), item, value, field });
      for (const item of (value['statuses'] as Json[] | undefined) ?? []) {
        const prefix = field === 'calls' ? 'status' : 'message_status';
        out.push({ type: `${prefix}.${String(item['status'])}`, id: String(item['id']), item, value, field });
      }
      for (const item of (value['messages'] as Json[] | undefined) ?? []) {
        const interactive = item['interactive'] as Json | undefined;
        out.push({ type: interactive ? String(interactive['type']) : `message.${String(item['type'])}`, id: String(item['id']), item, value, field });
      }
    }
  }
  return out;
}

/** The call_permission_reply object of a flattened reply event. */
export function replyOf(event: FlatEvent): Json {
  return (event.item['interactive'] as Json)['call_permission_reply'] as Json;
}
