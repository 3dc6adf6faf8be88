import type { SipMessage } from 'sip';
import { parse } from 'sip';

/**
 * A SIP message for unit tests from readable text: lines end in `\n` here and get the wire's CRLF, and
 * npm `sip` parses it as it would off the wire. Throws when it does not parse.
 */
export function sipMessage(text: string): SipMessage {
  const m = parse(text.replace(/\r?\n/g, '\r\n'));
  if (!m) throw new Error(`unparseable test SIP message: ${text.slice(0, 80)}`);
  return m;
}
