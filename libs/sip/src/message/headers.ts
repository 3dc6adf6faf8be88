import { randomBytes } from 'node:crypto';
import type { NameAddr, SipMessage, SipUri } from 'sip';
import { parseUri, stringifyUri } from 'sip';

/**
 * Header helpers over npm `sip` messages. Wire strings are "binary" (one char per byte), so text we put in
 * headers goes through `toWire` (UTF-8 bytes) and text we read through `fromWire`.
 */

/** A party as the application sees it (From/To of a call). */
export interface SipParty {
  /** The URI without header parameters, e.g. `sip:1001@pbx.example.com`. */
  uri: string;
  user?: string;
  host: string;
  port?: number;
  displayName?: string;
  tag?: string;
}

/** A `Reason` header value (RFC 3326), e.g. `Q.850;cause=16;text="Normal Call Clearing"`. */
export interface SipReason {
  protocol: 'SIP' | 'Q.850';
  cause: number;
  text?: string;
}

export function toWire(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

export function fromWire(text: string): string {
  return Buffer.from(text, 'latin1').toString('utf8');
}

/** A random token for tags and Call-IDs (RFC 3261 §19.3: at least 32 bits of randomness). */
export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}

/** A Via branch with the RFC 3261 magic cookie. */
export function newBranch(): string {
  return `z9hG4bK${randomToken(10)}`;
}

export function quoteDisplayName(name: string): string {
  return `"${toWire(name).replace(/(["\\])/g, '\\$1')}"`;
}

export function unquoteDisplayName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const trimmed = name.trim();
  if (trimmed === '') return undefined;
  const inner = trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1).replace(/\\(.)/g, '$1') : trimmed;
  return fromWire(inner);
}

export function tagOf(addr: NameAddr | undefined): string | undefined {
  const tag = addr?.params?.['tag'];
  return typeof tag === 'string' && tag !== '' ? tag : undefined;
}

/** The URI of a name-addr as a string. */
export function uriString(uri: string | SipUri): string {
  return typeof uri === 'string' ? uri : stringifyUri(uri);
}

/** The user part of a URI %-decoded (RFC 3261 §19.1.2); as sent when its escapes are broken (`%zz`, a lone `%`). */
function decodeUser(user: string): string {
  try {
    return decodeURIComponent(user);
  } catch {
    return user; // URIError: not valid %-escaped UTF-8
  }
}

/** Reads a From/To/Contact value into a `SipParty`. */
export function partyOf(addr: NameAddr): SipParty {
  const uri = uriString(addr.uri);
  const parsed = parseUri(uri);
  const party: SipParty = { uri, host: parsed?.host ?? '' };
  if (parsed?.user) party.user = decodeUser(parsed.user);
  if (parsed?.port && parsed.port <= 65535) party.port = parsed.port;
  const displayName = unquoteDisplayName(addr.name);
  if (displayName !== undefined) party.displayName = displayName;
  const tag = tagOf(addr);
  if (tag !== undefined) party.tag = tag;
  return party;
}

/** Builds a From/To value; the display name is quoted and UTF-8 encoded. */
export function nameAddr(uri: string, displayName?: string, tag?: string): NameAddr {
  const addr: NameAddr = { uri, params: {} };
  if (displayName) addr.name = quoteDisplayName(displayName);
  if (tag && addr.params) addr.params['tag'] = tag;
  return addr;
}

/** A copy of a name-addr with a tag set (the request's own object stays untouched). */
export function withTag(addr: NameAddr, tag: string): NameAddr {
  return { ...addr, params: { ...(addr.params ?? {}), tag } };
}

/** A generic (unparsed) header as a string, or undefined. */
export function headerValue(message: SipMessage, name: string): string | undefined {
  const value = message.headers[name.toLowerCase()];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** The message's SDP body (Content-Type application/sdp, not empty), or undefined. */
export function sdpBody(message: SipMessage): string | undefined {
  return /application\/sdp/i.test(headerValue(message, 'content-type') ?? '') && message.content ? message.content : undefined;
}

/** The generic headers of a message (lowercase names), i.e. all the ones npm `sip` leaves as strings. */
export function genericHeaders(message: SipMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.headers)) {
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/** Lower-cases the names of user-supplied extra headers (npm `sip` keys headers by lowercase name). */
export function normaliseHeaders(headers: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) out[name.toLowerCase()] = toWire(value);
  return out;
}

export function formatReason(reason: SipReason): string {
  const text = reason.text === undefined ? '' : `;text="${toWire(reason.text).replace(/"/g, '')}"`;
  return `${reason.protocol};cause=${reason.cause}${text}`;
}

/** Parses the first value of a `Reason` header; undefined when absent or malformed (a cause of more than 10 digits too). */
export function parseReason(value: string | undefined): SipReason | undefined {
  if (!value) return undefined;
  const m = /^\s*(SIP|Q\.850)\s*;(.*)$/i.exec(value.split(/,(?=\s*(?:SIP|Q\.850)\s*;)/i)[0] ?? '');
  if (!m) return undefined;
  const protocol = m[1]?.toUpperCase() === 'SIP' ? 'SIP' : 'Q.850';
  const cause = /cause\s*=\s*(\d{1,10})(?!\d)/i.exec(m[2] ?? '');
  if (!cause) return undefined;
  const reason: SipReason = { protocol, cause: Number(cause[1]) };
  const text = /text\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(m[2] ?? '');
  if (text?.[1] !== undefined) reason.text = fromWire(text[1]);
  return reason;
}

/**
 * Seconds of a `Retry-After` header (RFC 3261 §20.33), ignoring comments and parameters; undefined when
 * absent or malformed (more than 10 digits included: no usable number of seconds).
 */
export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^\s*(\d{1,10})(?!\d)/.exec(value);
  return m ? Number(m[1]) : undefined;
}

/**
 * delta-seconds (RFC 3261 §25.1: 1*DIGIT, at most 10 digits here) of an Expires header or an `expires`
 * parameter; undefined for anything else (empty, a parameter without value, signed, hex, 1e3, 1.0).
 */
export function parseDeltaSeconds(value: unknown): number | undefined {
  const text = typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** A DTMF digit carried by SIP INFO. */
export interface DtmfInfo {
  digit: string;
  durationMs?: number;
}

const DTMF_EVENT_DIGITS = '0123456789*#ABCD';

function normaliseDigit(raw: string): string | undefined {
  const value = raw.trim().toUpperCase();
  if (/^\d+$/.test(value) && value.length > 1) return DTMF_EVENT_DIGITS[Number(value)];
  return value.length === 1 && DTMF_EVENT_DIGITS.includes(value) ? value : undefined;
}

/**
 * Reads a DTMF INFO body: `application/dtmf-relay` (`Signal=5` / `Duration=160`, Cisco style, event codes
 * 10/11 meaning * and #) or `application/dtmf` (the digit alone). Undefined for other bodies.
 */
export function parseDtmfInfo(contentType: string | undefined, body: string | undefined): DtmfInfo | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (!body) return undefined;
  if (type === 'application/dtmf') {
    const digit = normaliseDigit(body);
    return digit === undefined ? undefined : { digit };
  }
  if (type !== 'application/dtmf-relay') return undefined;
  const signal = /^\s*signal\s*=\s*(\S+)\s*$/im.exec(body);
  const digit = signal?.[1] === undefined ? undefined : normaliseDigit(signal[1]);
  if (digit === undefined) return undefined;
  const duration = /^\s*duration\s*=\s*(\d{1,10})\s*$/im.exec(body);
  return duration ? { digit, durationMs: Number(duration[1]) } : { digit };
}

/** The body of an `application/dtmf-relay` INFO for one digit. */
export function buildDtmfRelay(digit: string, durationMs = 160): string {
  const d = normaliseDigit(digit);
  if (d === undefined) throw new TypeError(`not a DTMF digit: ${digit}`);
  return `Signal=${d}\r\nDuration=${durationMs}\r\n`;
}
