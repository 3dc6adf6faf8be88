import type { CrmEvent } from './crm-event.types';

/**
 * Server-Sent Events wire format (WHATWG HTML "Server-sent events", §9.2.6 interpreting an event stream):
 * fields `id`, `event`, `data`, `retry`, one per line, an empty line ends an event; a line starting with
 * `:` is a comment (our keep-alive). A data value with line breaks becomes several `data:` lines, which the
 * browser joins with `\n` again.
 */

/** One CRM event as an SSE message: `id:` the event id, `event:` its type, `data:` the JSON envelope. */
export function formatSseEvent(event: CrmEvent): string {
  return `id: ${singleLine(event.id)}\nevent: ${singleLine(event.type)}\n${dataLines(JSON.stringify(event))}\n`;
}

/** A comment line (ignored by EventSource; keeps proxies and the TCP connection from idling out). */
export function formatSseComment(text: string): string {
  return `: ${singleLine(text)}\n\n`;
}

/** Tells the browser how long to wait before reconnecting after the stream drops. */
export function formatSseRetry(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0) throw new TypeError(`SSE retry must be a non-negative integer, got ${ms}`);
  return `retry: ${ms}\n\n`;
}

function dataLines(data: string): string {
  return data
    .split(/\r\n|\r|\n/)
    .map((line) => `data: ${line}\n`)
    .join('');
}

/** Field values other than data cannot carry line breaks (they would end the field). */
function singleLine(value: string): string {
  return value.replace(/[\r\n]+/g, ' ');
}

/**
 * Parses the `?types=a,b` filter. Empty or absent: every type. Unknown names are returned separately so the
 * caller can refuse them (a typo would otherwise silently filter everything out).
 */
export function parseTypeFilter(raw: string | undefined, known: readonly string[]): { types: ReadonlySet<string> | undefined; unknown: string[] } {
  const names = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) return { types: undefined, unknown: [] };
  const unknown = names.filter((n) => !known.includes(n));
  return { types: new Set(names), unknown };
}
