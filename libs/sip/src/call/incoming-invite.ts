import type { NameAddr, SipMessage, Via } from 'sip';
import type { Endpoint } from '../transport/sip-transport';

/**
 * What another process needs to answer an INVITE it did not receive with a final response (a PBX call that
 * rings at a signalling process that died: the PBX would wait for an answer no one sends): the INVITE's Vias
 * (with the received/rport we noted), From, our To (with the tag of our provisionals), Call-ID, CSeq number,
 * and where it came from. Plain JSON.
 */
export interface IncomingInviteSnapshot {
  via: Via[];
  from: NameAddr;
  to: NameAddr;
  callId: string;
  cseq: number;
  source: Endpoint;
}

const TRANSPORTS: readonly string[] = ['udp', 'tcp', 'tls'];

/** Checks a snapshot read back (e.g. from Redis): throws TypeError naming what is wrong. */
export function assertIncomingInviteSnapshot(value: unknown): asserts value is IncomingInviteSnapshot {
  const s = value as Partial<IncomingInviteSnapshot> | null;
  const nameAddr = (n: unknown): boolean => typeof n === 'object' && n !== null && 'uri' in n;
  if (typeof s !== 'object' || s === null) throw new TypeError('incoming INVITE snapshot: not an object');
  if (!Array.isArray(s.via) || s.via.length === 0 || !s.via.every((v) => typeof v === 'object' && v !== null && typeof v.host === 'string' && typeof v.params === 'object' && v.params !== null)) {
    throw new TypeError('incoming INVITE snapshot: via');
  }
  if (typeof s.via[0]?.params['branch'] !== 'string') throw new TypeError('incoming INVITE snapshot: via branch');
  if (!nameAddr(s.from) || !nameAddr(s.to) || typeof (s.to as NameAddr).params?.['tag'] !== 'string') throw new TypeError('incoming INVITE snapshot: from, and to with our tag');
  if (typeof s.callId !== 'string' || s.callId === '') throw new TypeError('incoming INVITE snapshot: callId');
  if (!Number.isSafeInteger(s.cseq) || (s.cseq as number) < 1) throw new TypeError('incoming INVITE snapshot: cseq');
  const d = s.source;
  if (typeof d !== 'object' || d === null || !TRANSPORTS.includes(d.protocol) || typeof d.address !== 'string' || !Number.isInteger(d.port) || d.port < 1 || d.port > 65535) {
    throw new TypeError('incoming INVITE snapshot: source');
  }
}

/** The INVITE as far as a response to it needs (makeResponse copies Via, From, To, Call-ID and CSeq). */
export function inviteForResponse(s: IncomingInviteSnapshot): SipMessage {
  return {
    method: 'INVITE',
    uri: '',
    headers: { via: s.via.map((v) => ({ ...v, params: { ...v.params } })), from: s.from, to: s.to, 'call-id': s.callId, cseq: { seq: s.cseq, method: 'INVITE' } },
  };
}
