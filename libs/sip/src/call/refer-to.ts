import type { SipMessage } from 'sip';
import { parseUri } from 'sip';

/** The Refer-To URI (npm `sip` parses the header as a name-addr; a compact `r` stays a string), or ''. */
export function referToUri(request: SipMessage): string {
  const raw: unknown = request.headers['refer-to'] ?? request.headers['r'];
  if (raw && typeof raw === 'object' && 'uri' in raw) return String((raw as { uri: unknown }).uri);
  const text = typeof raw === 'string' ? raw : '';
  return /<([^>]+)>/.exec(text)?.[1] ?? text.trim().split(';')[0] ?? '';
}

/**
 * The Refer-To URI split from its header part (RFC 3261 §19.1.1: `?name=value&...`, %-escaped): the target
 * URI, and the Replaces value when there is one (RFC 3891 §6.1 needs its to-tag and from-tag); other
 * embedded headers are ignored. A string says why the URI cannot be used.
 */
export function parseReferTo(raw: string): { uri: string; replaces?: string } | string {
  if (!/^sips?:/i.test(raw)) return 'not a SIP URI';
  const q = raw.indexOf('?');
  const uri = q < 0 ? raw : raw.slice(0, q);
  // what the transfer will INVITE must be a SIP URI with a host (sip:@host or sip:user@ cannot be called)
  const parsed = parseUri(uri);
  if (!parsed || !parsed.host || (parsed.user !== undefined && parsed.user === '')) return 'not a SIP URI with a host';
  if (q < 0) return { uri };
  for (const pair of raw.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    if (eq < 0 || pair.slice(0, eq).toLowerCase() !== 'replaces') continue;
    let value: string;
    try {
      value = decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return 'badly escaped Replaces';
    }
    if (!/^[^;\s]+(;[^;\s]+)*$/.test(value) || !/;to-tag=[^;]+/i.test(value) || !/;from-tag=[^;]+/i.test(value)) return 'Replaces without call-id, to-tag and from-tag';
    return { uri, replaces: value };
  }
  return { uri };
}

