import type { CallRecord, EndedCursor } from '@wagw/call-state';

/**
 * CDR export (GET /v1/cdrs): the fields of an ended call a billing or reporting system keeps, in the order of
 * the CSV's columns. The record's working fields (our SDP, the SIP dialog snapshots, the holding process) stay
 * out; `GET /v1/calls/{id}` still has them.
 */
export const CDR_COLUMNS = [
  'callId',
  'direction',
  'createdAt',
  'answeredAt',
  'endedAt',
  'durationMs',
  'waDurationS',
  'waBillablePulses',
  'businessNumber',
  'userWaId',
  'userName',
  'agent',
  'destination',
  'redirectedTo',
  'entryPoint',
  'entryPayload',
  'endedBy',
  'endCause',
  'waCause',
  'sipCause',
  'codec',
  'pbxSrtp',
  'mediaMode',
  'waPacketsReceived',
  'waPacketsLost',
  'waJitterMs',
  'pbxPacketsReceived',
  'pbxPacketsLost',
  'pbxJitterMs',
  'voicemailMediaId',
  'waCallId',
  'sipCallId',
] as const satisfies readonly (keyof CallRecord)[];

export type CdrColumn = (typeof CDR_COLUMNS)[number];
export type Cdr = Pick<CallRecord, CdrColumn>;

const TIME_COLUMNS = new Set<CdrColumn>(['createdAt', 'answeredAt', 'endedAt']);

/** The CDR fields of a record (absent ones stay absent). */
export function cdrOf(record: CallRecord): Cdr {
  const out: Record<string, unknown> = {};
  for (const column of CDR_COLUMNS) if (record[column] !== undefined) out[column] = record[column];
  return out as Cdr;
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line end. A text field that a spreadsheet
 * would run as a formula (starting with = + - @, a tab or a carriage return: a WhatsApp user names themself)
 * gets a leading apostrophe, so it shows as the text it is (OWASP "CSV injection").
 */
export function csvField(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The CSV header line, with its CRLF. */
export function cdrCsvHeader(): string {
  return `${CDR_COLUMNS.join(',')}\r\n`;
}

/** CDRs as CSV lines (CRLF), times in ISO 8601 UTC, numbers as digits, absent fields empty. */
export function cdrCsvRows(records: readonly CallRecord[]): string {
  let out = '';
  for (const record of records) {
    const cells = CDR_COLUMNS.map((column) => {
      const value = record[column];
      if (value === undefined) return '';
      if (typeof value === 'number') return TIME_COLUMNS.has(column) ? new Date(value).toISOString() : String(value);
      return csvField(value);
    });
    out += `${cells.join(',')}\r\n`;
  }
  return out;
}

/** A page's `next`, as the API hands it out: `<endedAt>:<callId>`. */
export function encodeCdrCursor(cursor: EndedCursor): string {
  return `${cursor.endedAt}:${cursor.callId}`;
}

/** `after` as given to the API, or a reason why it is not a cursor this API handed out. */
export function decodeCdrCursor(text: string): EndedCursor | { error: string } {
  const m = /^(\d{1,16}):([A-Za-z0-9_.-]{1,128})$/.exec(text);
  if (!m) return { error: `after must be the "next" of an earlier page (<endedAt>:<callId>), got ${JSON.stringify(text.slice(0, 80))}` };
  return { endedAt: Number(m[1]), callId: m[2] as string };
}

/**
 * `since`/`until` as given to the API: epoch milliseconds, or an ISO 8601 date-time with its zone (`Z` or an
 * offset) or a date alone (midnight UTC). Anything else is a reason.
 */
export function parseCdrTime(name: string, text: string): number | { error: string } {
  if (/^\d{1,16}$/.test(text)) return Number(text);
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text) && realDate(text.slice(0, 10));
  const ms = iso ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0) return { error: `${name} must be epoch milliseconds or an ISO 8601 date-time with its zone (e.g. 2026-11-28T00:00:00Z), got ${JSON.stringify(text.slice(0, 80))}` };
  return ms;
}

/** `YYYY-MM-DD` names a day that exists (Date.parse takes 2026-02-30 as March 2). */
function realDate(ymd: string): boolean {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
