import type { NameAddr, SipMessage, Via } from 'sip';
import { formatReason, type SipReason } from '../message/headers';
import type { Endpoint } from '../transport/sip-transport';

/**
 * What another process needs to CANCEL an INVITE it did not send (the ringing calls of a signalling process
 * that died), and to ACK the INVITE's final response: the INVITE's Request-URI, its top Via (branch and
 * sent-by: the PBX matches the CANCEL to the INVITE by them, RFC 3261 §9.2 and §17.2.3), From, To, Call-ID,
 * CSeq number and Route, and where it went. Plain JSON.
 */
export interface PendingInviteSnapshot {
  uri: string;
  via: { protocol: string; host: string; port?: number; params: Record<string, string | null> };
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: number;
  route: NameAddr[];
  destination: Endpoint;
}

const TRANSPORTS: readonly string[] = ['udp', 'tcp', 'tls'];

/** Checks a snapshot read back (e.g. from Redis): throws TypeError naming what is wrong. */
export function assertPendingInviteSnapshot(value: unknown): asserts value is PendingInviteSnapshot {
  const s = value as Partial<PendingInviteSnapshot> | null;
  const nameAddr = (n: unknown): boolean => typeof n === 'object' && n !== null && 'uri' in n;
  if (typeof s !== 'object' || s === null) throw new TypeError('pending INVITE snapshot: not an object');
  if (typeof s.uri !== 'string' || !/^sips?:/i.test(s.uri)) throw new TypeError('pending INVITE snapshot: uri');
  const via = s.via;
  if (typeof via !== 'object' || via === null || typeof via.host !== 'string' || typeof via.protocol !== 'string' || typeof via.params !== 'object' || via.params === null) {
    throw new TypeError('pending INVITE snapshot: via');
  }
  if (typeof via.params['branch'] !== 'string' || !via.params['branch'].startsWith('z9hG4bK')) throw new TypeError('pending INVITE snapshot: via branch');
  if (!nameAddr(s.from) || !nameAddr(s.to)) throw new TypeError('pending INVITE snapshot: from and to');
  if (typeof s.callId !== 'string' || s.callId === '') throw new TypeError('pending INVITE snapshot: callId');
  if (!Number.isSafeInteger(s.cseq) || (s.cseq as number) < 1) throw new TypeError('pending INVITE snapshot: cseq');
  if (!Array.isArray(s.route) || !s.route.every(nameAddr)) throw new TypeError('pending INVITE snapshot: route');
  const d = s.destination;
  if (typeof d !== 'object' || d === null || !TRANSPORTS.includes(d.protocol) || typeof d.address !== 'string' || !Number.isInteger(d.port) || d.port < 1 || d.port > 65535) {
    throw new TypeError('pending INVITE snapshot: destination');
  }
}

/** The snapshot of an INVITE already on the wire (its Via stamped by the transport) and where it went. */
export function snapshotOfInvite(invite: SipMessage, uri: string, destination: Endpoint): PendingInviteSnapshot | undefined {
  const via = invite.headers.via[0];
  const branch = via?.params['branch'];
  if (!via?.host || !via.protocol || typeof branch !== 'string') return undefined;
  const params: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(via.params)) if (v !== undefined) params[k] = v;
  return {
    uri,
    via: { protocol: via.protocol, host: via.host, ...(via.port ? { port: via.port } : {}), params },
    from: invite.headers.from,
    to: invite.headers.to,
    callId: invite.headers['call-id'],
    cseq: invite.headers.cseq.seq,
    route: invite.headers.route ?? [],
    destination: { ...destination },
  };
}

function topVia(s: PendingInviteSnapshot): Via {
  return { version: '2.0', protocol: s.via.protocol, host: s.via.host, ...(s.via.port ? { port: s.via.port } : {}), params: { ...s.via.params } };
}

/** The CANCEL of the snapshot's INVITE (RFC 3261 §9.1): its Request-URI, Via, Call-ID, From, To, CSeq number and Route. */
export function cancelOf(s: PendingInviteSnapshot, reason?: SipReason): SipMessage {
  return {
    method: 'CANCEL',
    uri: s.uri,
    headers: {
      via: [topVia(s)],
      'max-forwards': 70,
      to: s.to,
      from: s.from,
      'call-id': s.callId,
      cseq: { seq: s.cseq, method: 'CANCEL' },
      ...(s.route.length > 0 ? { route: s.route } : {}),
      ...(reason ? { reason: formatReason(reason) } : {}),
    },
  };
}

/** The ACK of a non-2xx final response to the snapshot's INVITE (RFC 3261 §17.1.1.3): hop by hop, the INVITE's Via. */
export function ackOfFailure(s: PendingInviteSnapshot, response: SipMessage): SipMessage {
  return {
    method: 'ACK',
    uri: s.uri,
    headers: {
      via: [topVia(s)],
      'max-forwards': 70,
      to: response.headers.to,
      from: s.from,
      'call-id': s.callId,
      cseq: { seq: s.cseq, method: 'ACK' },
      ...(s.route.length > 0 ? { route: s.route } : {}),
      'content-length': 0,
    },
  };
}

/** The snapshot's INVITE as far as a dialog needs it (Dialog.asUac, for a 2xx that crosses the CANCEL). */
export function inviteOf(s: PendingInviteSnapshot): SipMessage {
  return { method: 'INVITE', uri: s.uri, headers: { via: [topVia(s)], to: s.to, from: s.from, 'call-id': s.callId, cseq: { seq: s.cseq, method: 'INVITE' } } };
}
