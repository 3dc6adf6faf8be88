import type { CallRecord } from '@wagw/call-state';
import { trunkDomain, type TrunkConfig } from '../sip/trunk-directory';

/** Who a desk phone sees calling, and the headers that name the WhatsApp call. */
export interface CallerIdentity {
  caller: { user: string; displayName?: string };
  headers: Record<string, string>;
}

/** A display name as an RFC 3261 quoted-string (quotes and backslashes escaped, control characters dropped). */
function quoted(name: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${name.replace(/[\u0000-\u001f\u007f]/g, '').replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * A call button or deep link payload as a SIP header value: visible ASCII stays as it is (`queue=billing`
 * arrives as written), a space, `%`, control and non-ASCII characters are percent-encoded (UTF-8, as RFC 3986
 * does), so that nothing a user's link carries can break the header or the message.
 */
export function headerSafePayload(payload: string): string {
  return payload.replace(/[^\x21-\x24\x26-\x7e]/gu, (c) => [...Buffer.from(c, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

/**
 * The WhatsApp user as the caller toward the PBX (From: the trunk's fromUser, else the user's number), the
 * X-WA-Call-Id / X-WA-User headers, X-WA-Entry-Point / X-WA-Entry-Payload for a call placed from a call
 * button or deep link (a PBX dialplan may route on them), and with the trunk's `assertIdentity` a
 * P-Asserted-Identity (RFC 3325) with the number as +E.164, for PBXs that take the caller ID from it on a
 * trusted trunk.
 */
export function pbxCallerIdentity(
  rec: Pick<CallRecord, 'userWaId' | 'userName' | 'waCallId' | 'entryPoint' | 'entryPayload'>,
  trunk: Pick<TrunkConfig, 'fromUser' | 'fromDomain' | 'hosts' | 'assertIdentity'>,
): CallerIdentity {
  const headers: Record<string, string> = { 'X-WA-Call-Id': rec.waCallId ?? '', ...(rec.userWaId ? { 'X-WA-User': rec.userWaId } : {}) };
  if (rec.entryPoint) headers['X-WA-Entry-Point'] = rec.entryPoint;
  if (rec.entryPoint && rec.entryPayload) headers['X-WA-Entry-Payload'] = headerSafePayload(rec.entryPayload);
  if (trunk.assertIdentity && rec.userWaId) {
    headers['P-Asserted-Identity'] = `${rec.userName ? `${quoted(rec.userName)} ` : ''}<sip:+${rec.userWaId}@${trunkDomain(trunk)};user=phone>`;
  }
  return {
    caller: { user: trunk.fromUser || rec.userWaId || 'whatsapp', ...(rec.userName ? { displayName: rec.userName } : {}) },
    headers,
  };
}
