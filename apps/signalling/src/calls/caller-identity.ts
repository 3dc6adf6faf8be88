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
 * The WhatsApp user as the caller toward the PBX (From: the trunk's fromUser, else the user's number), the
 * X-WA-Call-Id / X-WA-User headers, and with the trunk's `assertIdentity` a P-Asserted-Identity (RFC 3325)
 * with the number as +E.164, for PBXs that take the caller ID from it on a trusted trunk.
 */
export function pbxCallerIdentity(rec: Pick<CallRecord, 'userWaId' | 'userName' | 'waCallId'>, trunk: Pick<TrunkConfig, 'fromUser' | 'fromDomain' | 'hosts' | 'assertIdentity'>): CallerIdentity {
  const headers: Record<string, string> = { 'X-WA-Call-Id': rec.waCallId ?? '', ...(rec.userWaId ? { 'X-WA-User': rec.userWaId } : {}) };
  if (trunk.assertIdentity && rec.userWaId) {
    headers['P-Asserted-Identity'] = `${rec.userName ? `${quoted(rec.userName)} ` : ''}<sip:+${rec.userWaId}@${trunkDomain(trunk)};user=phone>`;
  }
  return {
    caller: { user: trunk.fromUser || rec.userWaId || 'whatsapp', ...(rec.userName ? { displayName: rec.userName } : {}) },
    headers,
  };
}
