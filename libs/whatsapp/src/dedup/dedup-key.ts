import { createHash } from 'node:crypto';
import type { WebhookEvent } from '../webhooks/webhook-events.types';

/**
 * The identity of a webhook event for de-duplication. Meta delivers at least once, sometimes to several
 * apps at once, and retries timed-out deliveries (reference §2.1: "de-duplicate on (call id, event/status)").
 * - calls: `call:<wacid>:connect|terminate|voicemail`, `call:<wacid>:status:<status>`;
 * - messages: `msg:<wamid>:permission-reply`, `msg:<wamid>:status:<status>`;
 * - settings and account updates carry no id: a hash of their whole content (timestamp included, so the
 *   same settings set again later is a new event; two deliveries of one change are the same).
 */
export function dedupKeyOf(event: WebhookEvent): string {
  switch (event.kind) {
    case 'call.connect':
      return `call:${event.waCallId}:connect`;
    case 'call.terminate':
      return `call:${event.waCallId}:terminate`;
    case 'call.status':
      return `call:${event.waCallId}:status:${event.status}`;
    case 'call.voicemail':
      return `call:${event.waCallId}:voicemail`;
    case 'permission.reply':
      return `msg:${event.messageId}:permission-reply`;
    case 'message.status':
      return `msg:${event.messageId}:status:${event.status}`;
    case 'settings.update':
      return `settings:${event.phoneNumberId}:${contentHash(event)}`;
    case 'account.update':
      return `account:${event.wabaId ?? 'unknown'}:${contentHash(event)}`;
  }
}

/** sha256 (first 32 hex chars) of a canonical JSON rendering: object keys sorted, undefined dropped. */
export function contentHash(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex').slice(0, 32);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
