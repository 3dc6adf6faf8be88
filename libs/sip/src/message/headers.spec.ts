import { parse, stringify } from 'sip';
import {
  buildDtmfRelay,
  formatReason,
  genericHeaders,
  nameAddr,
  newBranch,
  parseDtmfInfo,
  parseReason,
  parseRetryAfter,
  partyOf,
  withTag,
} from './headers';

describe('Reason headers (RFC 3326)', () => {
  it('formats and parses a Q.850 reason with text', () => {
    const value = formatReason({ protocol: 'Q.850', cause: 16, text: 'Normal call clearing' });
    expect(value).toBe('Q.850;cause=16;text="Normal call clearing"');
    expect(parseReason(value)).toEqual({ protocol: 'Q.850', cause: 16, text: 'Normal call clearing' });
  });

  it('parses the first of several reasons, case-insensitively, without text', () => {
    expect(parseReason('sip;cause=200, Q.850;cause=31')).toEqual({ protocol: 'SIP', cause: 200 });
  });

  it('ignores malformed values', () => {
    expect(parseReason(undefined)).toBeUndefined();
    expect(parseReason('X-Foo;cause=1')).toBeUndefined();
    expect(parseReason('SIP;text="no cause"')).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads the seconds and ignores comments and parameters', () => {
    expect(parseRetryAfter('120 (in a meeting);duration=3600')).toBe(120);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('DTMF INFO bodies', () => {
  it('reads application/dtmf-relay with duration, including event codes 10 and 11', () => {
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=5\r\nDuration=160\r\n')).toEqual({ digit: '5', durationMs: 160 });
    expect(parseDtmfInfo('Application/DTMF-Relay; charset=x', 'Signal= 11\r\n')).toEqual({ digit: '#' });
    expect(parseDtmfInfo('application/dtmf-relay', 'Signal=10\r\n')).toEqual({ digit: '*' });
  });

  it('reads application/dtmf and rejects other types and non-digits', () => {
    expect(parseDtmfInfo('application/dtmf', ' a\r\n')).toEqual({ digit: 'A' });
    expect(parseDtmfInfo('application/dtmf', 'x')).toBeUndefined();
    expect(parseDtmfInfo('text/plain', 'Signal=5')).toBeUndefined();
  });

  it('builds a dtmf-relay body that parses back', () => {
    const body = buildDtmfRelay('#', 250);
    expect(parseDtmfInfo('application/dtmf-relay', body)).toEqual({ digit: '#', durationMs: 250 });
    expect(() => buildDtmfRelay('x')).toThrow(TypeError);
  });
});

describe('name-addr handling over the wire', () => {
  it('quotes and UTF-8 encodes display names so they survive stringify and parse', () => {
    const from = nameAddr('sip:15551234@gw.example.com', 'José "Pepe" Ñúñez', 'abc');
    const wire = stringify({
      method: 'OPTIONS',
      uri: 'sip:pbx.example.com',
      headers: { via: [], from, to: nameAddr('sip:pbx.example.com'), 'call-id': 'c1', cseq: { seq: 1, method: 'OPTIONS' } },
    });
    const message = parse(`${wire.replace('\r\n', '\r\nVia: SIP/2.0/UDP 1.2.3.4;branch=z9hG4bKx\r\n')}`);
    expect(message && partyOf(message.headers.from)).toEqual({
      uri: 'sip:15551234@gw.example.com',
      user: '15551234',
      host: 'gw.example.com',
      displayName: 'José "Pepe" Ñúñez',
      tag: 'abc',
    });
  });

  it('withTag copies instead of mutating the request header', () => {
    const to = nameAddr('sip:a@b');
    const tagged = withTag(to, 't1');
    expect(tagged.params).toEqual({ tag: 't1' });
    expect(to.params).toEqual({});
  });

  it('exposes only unparsed headers as generic headers', () => {
    const message = parse(
      'INVITE sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h;branch=z9hG4bK1\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\nP-Asserted-Identity: <sip:+15551234@y>\r\nX-Call: 42\r\nContent-Length: 0\r\n\r\n',
    );
    expect(message && genericHeaders(message)).toEqual({ 'call-id': 'c', 'p-asserted-identity': '<sip:+15551234@y>', 'x-call': '42' });
  });

  it('makes branches with the RFC 3261 magic cookie, unique per call', () => {
    const a = newBranch();
    expect(a).toMatch(/^z9hG4bK[0-9a-f]{20}$/);
    expect(newBranch()).not.toBe(a);
  });
});

describe('regressions found by headers.fuzz.spec.ts', () => {
  function from(value: string) {
    const m = parse(`INVITE sip:gw SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: ${value}\r\nTo: <sip:gw>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`);
    if (!m) throw new Error('unparseable test message');
    return m.headers.from;
  }

  it('partyOf keeps a user part with broken %-escapes as sent instead of throwing URIError', () => {
    expect(partyOf(from('sip:1001%@10.0.0.1;tag=x'))).toEqual({ uri: 'sip:1001%@10.0.0.1', user: '1001%', host: '10.0.0.1', tag: 'x' });
    expect(partyOf(from('<sips:%2B1555%2<0x@host.example>;tag=9')).user).toBe('%2B1555%2<0x');
  });

  it('partyOf leaves out a port beyond 65535', () => {
    expect(partyOf(from('<sip:+15551234@gw.example.com:9007199254740993;user=phone>;tag=abc')).port).toBeUndefined();
    expect(partyOf(from('<sip:+15551234@gw.example.com:5070;user=phone>;tag=abc')).port).toBe(5070);
  });

  it('reads a number of more than 10 digits (not a safe integer, or Infinity) as malformed', () => {
    expect(parseRetryAfter('9007199254740993 (Service down for maintenance)')).toBeUndefined();
    expect(parseRetryAfter(`${'9'.repeat(400)}`)).toBeUndefined();
    expect(parseRetryAfter('4294967295')).toBe(4294967295);
    expect(parseReason('SIP;cause=99999999999999999999;text="Call completed elsewhere"')).toBeUndefined();
    expect(parseReason(`Q.850;cause=${'9'.repeat(400)}`)).toBeUndefined();
    expect(parseDtmfInfo('application/dtmf-relay', `Signal=D\nDuration=${'9'.repeat(400)}`)).toEqual({ digit: 'D' });
    expect(parseDtmfInfo('application/dtmf-relay', 'signal=#\r\nduration=9007199254740993\r\n')).toEqual({ digit: '#' });
  });
});
