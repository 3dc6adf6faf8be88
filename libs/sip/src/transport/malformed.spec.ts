import { parse, type SipMessage } from 'sip';
import { badRequestFor, canAnswerMalformed, malformedReason } from './malformed';

function msg(lines: string[]): SipMessage {
  const m = parse(`${lines.join('\r\n')}\r\n\r\n`);
  if (!m) throw new Error('the test message does not parse');
  return m;
}
const HEAD = ['Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1', 'From: <sip:1001@10.0.0.1>;tag=a', 'To: <sip:2001@10.0.0.2>', 'Call-ID: c1@10.0.0.1', 'CSeq: 7 INVITE', 'Content-Length: 0'];

describe('malformedReason: messages the transport drops (RFC 3261 §8.1.1 mandatory headers)', () => {
  it('accepts a complete request and response', () => {
    expect(malformedReason(msg(['INVITE sip:2001@10.0.0.2 SIP/2.0', ...HEAD]))).toBeUndefined();
    expect(malformedReason(msg(['SIP/2.0 180 Ringing', ...HEAD]))).toBeUndefined();
  });

  it.each([
    ['Via', 'no usable Via'],
    ['Call-ID', 'no Call-ID'],
    ['To', 'no usable To'],
    ['From', 'no usable From'],
    ['CSeq', 'no usable CSeq'],
  ])('names a missing %s', (header, reason) => {
    const lines = HEAD.filter((l) => !l.startsWith(`${header}:`));
    expect(malformedReason(msg(['INVITE sip:2001@10.0.0.2 SIP/2.0', ...lines]))).toBe(reason);
  });

  it('refuses a top Via without a branch: its transaction could not be told from others (RFC 3261 §17.2.3)', () => {
    const lines = HEAD.map((l) => (l.startsWith('Via:') ? 'Via: SIP/2.0/UDP 10.0.0.1:5060;rport' : l));
    expect(malformedReason(msg(['INFO sip:2001@10.0.0.2 SIP/2.0', ...lines.map((l) => l.replace('INVITE', 'INFO'))]))).toBe('top Via without a branch (RFC 3261 §8.1.1.7)');
    const rfc2543 = HEAD.map((l) => (l.startsWith('Via:') ? 'Via: SIP/2.0/UDP 10.0.0.1:5060;branch=1234' : l));
    expect(malformedReason(msg(['INVITE sip:2001@10.0.0.2 SIP/2.0', ...rfc2543]))).toBeUndefined();
  });

  it('refuses a CSeq that is no number or names another method', () => {
    const with_ = (cseq: string): string[] => ['BYE sip:2001@10.0.0.2 SIP/2.0', ...HEAD.map((l) => (l.startsWith('CSeq:') ? `CSeq: ${cseq}` : l))];
    expect(malformedReason(msg(with_('x BYE')))).toBe('no usable CSeq');
    expect(malformedReason(msg(with_('7 INVITE')))).toBe("CSeq method INVITE is not the request's BYE");
    expect(malformedReason(msg(with_('7 BYE')))).toBeUndefined();
  });
});

describe('canAnswerMalformed / badRequestFor: the 400 a malformed request gets (RFC 3261 §8.2)', () => {
  const noBranch = (first: string, extra: string[] = []): SipMessage =>
    msg([first, ...HEAD.map((l) => (l.startsWith('Via:') ? 'Via: SIP/2.0/UDP 10.0.0.1:5060;rport' : l)), ...extra]);

  it('answers a request whose response can be matched, never an ACK or a response', () => {
    expect(canAnswerMalformed(noBranch('INVITE sip:2001@10.0.0.2 SIP/2.0'))).toBe(true);
    expect(canAnswerMalformed(noBranch('ACK sip:2001@10.0.0.2 SIP/2.0'))).toBe(false);
    expect(canAnswerMalformed(noBranch('SIP/2.0 200 OK'))).toBe(false);
  });

  it.each(['Via', 'Call-ID', 'To', 'From', 'CSeq'])('does not answer without a usable %s', (header) => {
    const lines = HEAD.filter((l) => !l.startsWith(`${header}:`));
    expect(canAnswerMalformed(msg(['INVITE sip:2001@10.0.0.2 SIP/2.0', ...lines]))).toBe(false);
  });

  it('does not answer a CSeq number it could not write back as sent', () => {
    const lines = HEAD.map((l) => (l.startsWith('CSeq:') ? 'CSeq: 99999999999999999999 INVITE' : l));
    expect(canAnswerMalformed(msg(['INVITE sip:2001@10.0.0.2 SIP/2.0', ...lines]))).toBe(false);
  });

  it('copies the request headers, tags the To once, and names why in the phrase and a Warning (quotes and line ends taken out)', () => {
    const rq = noBranch('INVITE sip:2001@10.0.0.2 SIP/2.0');
    const rs = badRequestFor(rq, 'odd "value"\r\nX-Injected: 1');
    expect(rs.status).toBe(400);
    expect(rs.reason).toBe('Bad Request (odd  value   X-Injected: 1)');
    expect(rs.headers['warning']).toBe('399 wagw "odd  value   X-Injected: 1"');
    expect(rs.headers['call-id']).toBe('c1@10.0.0.1');
    expect(rs.headers.cseq).toEqual({ seq: 7, method: 'INVITE' });
    expect(rs.headers.to.params?.['tag']).toMatch(/^[0-9a-f]{16}$/);
    expect(rq.headers.to.params?.['tag']).toBeUndefined();
    const inDialog = msg(['BYE sip:2001@10.0.0.2 SIP/2.0', ...HEAD.map((l) => (l.startsWith('To:') ? 'To: <sip:2001@10.0.0.2>;tag=t9' : l.replace('7 INVITE', '7 INFO')))]);
    expect(badRequestFor(inDialog, 'x').headers.to.params?.['tag']).toBe('t9');
  });
});
