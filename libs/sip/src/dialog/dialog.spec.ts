import type { SipMessage } from 'sip';
import { stringify, stringifyUri } from 'sip';
import { sipMessage as message } from '@wagw/testing';
import { assertDialogSnapshot, Dialog } from './dialog';

const INVITE = message(`INVITE sip:1001@pbx.example.com SIP/2.0
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa
From: <sip:gw@10.0.0.1>;tag=ours
To: <sip:1001@pbx.example.com>
Call-ID: call-1
CSeq: 7 INVITE
Contact: <sip:gw@10.0.0.1:5060>
Content-Length: 0

`);

const OK_WITH_ROUTES = message(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa
Record-Route: <sip:p2.example.com;lr>
Record-Route: <sip:p1.example.com:5070;lr;transport=tcp>
From: <sip:gw@10.0.0.1>;tag=ours
To: <sip:1001@pbx.example.com>;tag=theirs
Call-ID: call-1
CSeq: 7 INVITE
Contact: <sip:1001@10.0.0.9:5080>
Content-Length: 0

`);

function routeUris(m: SipMessage): string[] {
  return (m.headers.route ?? []).map((r) => stringifyUri(r.uri));
}

describe('Dialog (UAC side)', () => {
  const dialog = Dialog.asUac(INVITE, OK_WITH_ROUTES, 'udp');

  it('takes its id from Call-ID and tags, the remote target from Contact, the route set reversed', () => {
    expect(dialog.id).toBe('call-1|ours|theirs');
    expect(dialog.remoteTarget).toBe('sip:1001@10.0.0.9:5080');
    expect(dialog.routeSet.map((r) => stringifyUri(r.uri))).toEqual(['sip:p1.example.com:5070;lr;transport=tcp', 'sip:p2.example.com;lr']);
    expect(stringifyUri(dialog.nextHop)).toBe('sip:p1.example.com:5070;lr;transport=tcp');
  });

  it('builds the ACK with the INVITE CSeq number and BYEs with increasing CSeq, loose-routed', () => {
    const ack = dialog.createAck(7);
    expect(ack.headers.cseq).toEqual({ seq: 7, method: 'ACK' });
    const bye = dialog.createRequest('BYE');
    const info = dialog.createRequest('INFO', { body: 'Signal=1', contentType: 'application/dtmf-relay' });
    expect(bye.headers.cseq).toEqual({ seq: 8, method: 'BYE' });
    expect(info.headers.cseq).toEqual({ seq: 9, method: 'INFO' });
    expect(info.headers['content-type']).toBe('application/dtmf-relay');
    expect(bye.uri).toBe('sip:1001@10.0.0.9:5080');
    expect(routeUris(bye)).toEqual(['sip:p1.example.com:5070;lr;transport=tcp', 'sip:p2.example.com;lr']);
    const wire = stringify(bye);
    expect(wire).toContain('To:  <sip:1001@pbx.example.com>;tag=theirs');
    expect(wire).toContain('From:  <sip:gw@10.0.0.1>;tag=ours');
  });

  it('refuses a request with a lower CSeq than the last one (RFC 3261 §12.2.2), but not ACK', () => {
    const d = Dialog.asUac(INVITE, OK_WITH_ROUTES, 'udp');
    const inDialog = (method: string, seq: number): SipMessage => ({ ...OK_WITH_ROUTES, method, headers: { ...OK_WITH_ROUTES.headers, cseq: { seq, method } } });
    expect(d.acceptRemoteSeq(inDialog('INFO', 100))).toBe(true);
    expect(d.acceptRemoteSeq(inDialog('INFO', 99))).toBe(false);
    expect(d.acceptRemoteSeq(inDialog('ACK', 1))).toBe(true);
  });
});

describe('Dialog (UAS side)', () => {
  const incoming = message(`INVITE sip:gw@10.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKb
Record-Route: <sip:edge.example.com;lr>, <sip:core.example.com>
From: "Alice" <sip:1001@pbx.example.com>;tag=caller
To: <sip:gw@10.0.0.1>
Call-ID: call-2
CSeq: 3 INVITE
Contact: <sip:1001@10.0.0.9:5080>
Content-Length: 0

`);
  const dialog = Dialog.asUas(incoming, { ...incoming.headers.to, params: { tag: 'mine' } }, 'udp');

  it('keeps Record-Route in order and swaps local and remote', () => {
    expect(dialog.id).toBe('call-2|mine|caller');
    expect(dialog.routeSet.map((r) => stringifyUri(r.uri))).toEqual(['sip:edge.example.com;lr', 'sip:core.example.com']);
    const bye = dialog.createRequest('BYE');
    expect(bye.headers.from.params).toEqual({ tag: 'mine' });
    expect(bye.headers.to.params).toEqual({ tag: 'caller' });
    expect(bye.headers.cseq.seq).toBe(1);
  });

  it('refreshes the remote target from the Contact of a re-INVITE', () => {
    const d = Dialog.asUas(incoming, { ...incoming.headers.to, params: { tag: 'mine' } }, 'udp');
    d.refreshTarget({ ...incoming, headers: { ...incoming.headers, contact: [{ uri: 'sip:1001@10.0.0.99:5090', params: {} }] } });
    expect(d.remoteTarget).toBe('sip:1001@10.0.0.99:5090');
  });

  it('uses strict routing when the first route has no lr (RFC 3261 §12.2.1.1)', () => {
    const strict = message(`INVITE sip:gw@10.0.0.1 SIP/2.0
Via: SIP/2.0/UDP 10.0.0.9:5080;branch=z9hG4bKc
Record-Route: <sip:strict.example.com>, <sip:edge.example.com;lr>
From: <sip:1001@pbx.example.com>;tag=caller
To: <sip:gw@10.0.0.1>
Call-ID: call-3
CSeq: 1 INVITE
Contact: <sip:1001@10.0.0.9:5080>
Content-Length: 0

`);
    const d = Dialog.asUas(strict, { ...strict.headers.to, params: { tag: 'mine' } }, 'udp');
    const bye = d.createRequest('BYE');
    expect(stringifyUri(bye.uri ?? '')).toBe('sip:strict.example.com');
    expect(routeUris(bye)).toEqual(['sip:edge.example.com;lr', 'sip:1001@10.0.0.9:5080']);
    expect(stringifyUri(d.nextHop)).toBe('sip:strict.example.com');
  });
});

describe('Dialog snapshots (another process hanging up)', () => {
  it('survives JSON: the rebuilt dialog sends the same BYE, its CSeq the given distance ahead', () => {
    const original = Dialog.asUac(INVITE, OK_WITH_ROUTES, 'tcp');
    original.createRequest('INFO'); // CSeq 8, after which the snapshot is taken
    const snapshot = JSON.parse(JSON.stringify(original.snapshot())) as unknown;
    assertDialogSnapshot(snapshot);
    const rebuilt = Dialog.fromSnapshot(snapshot, 1000);
    expect(rebuilt.id).toBe(original.id);
    expect(rebuilt.transport).toBe('tcp');
    const bye = rebuilt.createRequest('BYE');
    const expected = original.createRequest('BYE');
    expect(bye.headers.cseq).toEqual({ seq: 1009, method: 'BYE' });
    expect(stringify({ ...bye, headers: { ...bye.headers, cseq: expected.headers.cseq } })).toBe(stringify(expected));
    expect(routeUris(bye)).toEqual(['sip:p1.example.com:5070;lr;transport=tcp', 'sip:p2.example.com;lr']);
  });

  it('refuses a snapshot that lacks what a request needs, naming it', () => {
    const good = JSON.parse(JSON.stringify(Dialog.asUac(INVITE, OK_WITH_ROUTES, 'udp').snapshot())) as Record<string, unknown>;
    expect(() => assertDialogSnapshot({ ...good, remote: { uri: 'sip:1001@pbx.example.com', params: {} } })).toThrow(/tags/);
    expect(() => assertDialogSnapshot({ ...good, transport: 'sctp' })).toThrow(/transport/);
    expect(() => assertDialogSnapshot({ ...good, localSeq: -1 })).toThrow(/localSeq/);
    expect(() => assertDialogSnapshot({ ...good, remoteTarget: '' })).toThrow(/remoteTarget/);
    expect(() => assertDialogSnapshot('{}')).toThrow(/not an object/);
  });
});
