import type { SipMessage } from 'sip';
import { stringify } from 'sip';
import { ackOfFailure, assertPendingInviteSnapshot, cancelOf, inviteOf, snapshotOfInvite, type PendingInviteSnapshot } from './pending-invite';

// an INVITE as it went out: the transport stamped its Via (sent-by, rport), the transaction layer its branch
const SENT: SipMessage = {
  method: 'INVITE',
  uri: 'sip:1001@pbx.example.com',
  headers: {
    via: [{ version: '2.0', protocol: 'UDP', host: '10.0.0.5', port: 5080, params: { branch: 'z9hG4bKabc123', rport: null } }],
    from: { name: '"WhatsApp"', uri: 'sip:15550001@10.0.0.5', params: { tag: 'ourtag' } },
    to: { uri: 'sip:1001@pbx.example.com', params: {} },
    'call-id': 'cid-1@wagw',
    cseq: { seq: 2, method: 'INVITE' },
    route: [{ uri: 'sip:proxy.example.com;lr', params: {} }],
  },
  content: 'v=0\r\n',
};
const DESTINATION = { protocol: 'udp' as const, address: '10.0.0.9', port: 5060 };

function roundTrip(s: PendingInviteSnapshot | undefined): PendingInviteSnapshot {
  const back: unknown = JSON.parse(JSON.stringify(s));
  assertPendingInviteSnapshot(back);
  return back;
}

describe('pending INVITE snapshots (another process cancelling a ringing call)', () => {
  it('CANCELs with the INVITE\'s Request-URI, Via (sent-by and branch), From, To, Call-ID, CSeq number and Route', () => {
    const s = roundTrip(snapshotOfInvite(SENT, 'sip:1001@pbx.example.com', DESTINATION));
    const cancel = cancelOf(s, { protocol: 'Q.850', cause: 41, text: 'signalling instance lost' });
    const wire = stringify(cancel);
    expect(wire).toMatch(/^CANCEL sip:1001@pbx\.example\.com SIP\/2\.0\r\n/);
    expect(wire).toMatch(/\r\nVia: SIP\/2\.0\/UDP 10\.0\.0\.5:5080;branch=z9hG4bKabc123;rport\r\n/);
    expect(cancel.headers).toMatchObject({ 'call-id': 'cid-1@wagw', cseq: { seq: 2, method: 'CANCEL' }, from: SENT.headers.from, to: SENT.headers.to, route: SENT.headers.route });
    expect(wire).toMatch(/\r\nReason: Q\.850;cause=41;text="signalling instance lost"\r\n/);
    expect(s.destination).toEqual(DESTINATION);
  });

  it('ACKs a non-2xx final response hop by hop: the INVITE\'s Via and CSeq number, the response\'s To tag', () => {
    const s = roundTrip(snapshotOfInvite(SENT, 'sip:1001@pbx.example.com', DESTINATION));
    const response: SipMessage = { status: 487, reason: 'Request Terminated', headers: { ...SENT.headers, to: { ...SENT.headers.to, params: { tag: 'pbxtag' } }, cseq: { seq: 2, method: 'INVITE' } } };
    const ack = ackOfFailure(s, response);
    expect(ack).toMatchObject({ method: 'ACK', uri: 'sip:1001@pbx.example.com', headers: { cseq: { seq: 2, method: 'ACK' }, to: { params: { tag: 'pbxtag' } }, route: SENT.headers.route } });
    expect(ack.headers.via).toEqual([expect.objectContaining({ host: '10.0.0.5', port: 5080, params: { branch: 'z9hG4bKabc123', rport: null } })]);
    expect(inviteOf(s).headers).toMatchObject({ 'call-id': 'cid-1@wagw', cseq: { seq: 2, method: 'INVITE' }, from: SENT.headers.from });
  });

  it('has no snapshot for an INVITE not yet on the wire (no branch or sent-by)', () => {
    expect(snapshotOfInvite({ ...SENT, headers: { ...SENT.headers, via: [{ params: {} }] } }, 'sip:1001@pbx.example.com', DESTINATION)).toBeUndefined();
  });

  it('refuses a snapshot that lacks what a CANCEL needs, naming it', () => {
    const good = JSON.parse(JSON.stringify(snapshotOfInvite(SENT, 'sip:1001@pbx.example.com', DESTINATION))) as Record<string, unknown>;
    expect(() => assertPendingInviteSnapshot(good)).not.toThrow();
    expect(() => assertPendingInviteSnapshot({ ...good, uri: 'tel:1001' })).toThrow(/uri/);
    expect(() => assertPendingInviteSnapshot({ ...good, via: { protocol: 'UDP', host: 'h', params: { branch: 'abc' } } })).toThrow(/via branch/);
    expect(() => assertPendingInviteSnapshot({ ...good, callId: '' })).toThrow(/callId/);
    expect(() => assertPendingInviteSnapshot({ ...good, cseq: 0 })).toThrow(/cseq/);
    expect(() => assertPendingInviteSnapshot({ ...good, route: [{}] })).toThrow(/route/);
    expect(() => assertPendingInviteSnapshot({ ...good, destination: { protocol: 'sctp', address: '10.0.0.9', port: 5060 } })).toThrow(/destination/);
    expect(() => assertPendingInviteSnapshot('{}')).toThrow(/not an object/);
  });
});
