import { parse } from 'sip';
import { fuzz, mutateText, type Prng } from '@wagw/testing';
import { parseDtmfInfo, parseReason, parseRetryAfter, partyOf } from './headers';

/**
 * Robustness of the header readers over what PBXs send: each returns undefined for what it cannot read and
 * otherwise a well-formed value; none throws.
 */

/** Numbers a text mutator rarely makes: digit runs too long for a safe integer, or for a double at all. */
function mutateDigits(rng: Prng, text: string): string {
  const runs = [...text.matchAll(/\d+/g)];
  const run = runs.length > 0 ? rng.pick(runs) : undefined;
  const digits = rng.pick(['0', '00', '4294967295', '4294967296', '9007199254740993', '9'.repeat(20), '9'.repeat(400), '-1', '1.5', '1e3', '0x10']);
  if (run?.index === undefined) return `${digits}${text}`;
  return text.slice(0, run.index) + digits + text.slice(run.index + run[0].length);
}

function mutateHeader(rng: Prng, seeds: readonly string[]): string {
  const seed = rng.pick(seeds);
  if (rng.chance(0.3)) return mutateText(rng, mutateDigits(rng, seed), 2);
  return rng.chance(0.3) ? mutateDigits(rng, seed) : mutateText(rng, seed, 4);
}

function expectSafeCount(what: string, n: unknown): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new Error(`${what} is not a non-negative safe integer: ${String(n)}`);
}

function expectOnlyKeys(value: object, keys: readonly string[]): void {
  const extra = Object.keys(value).filter((k) => !keys.includes(k));
  if (extra.length > 0) throw new Error(`unexpected keys ${extra.join(', ')}`);
}

describe('SIP header readers (fuzz)', () => {
  it('parseReason: undefined, or SIP/Q.850 with a non-negative integer cause and text', () => {
    const seeds = ['Q.850;cause=16;text="Normal call clearing"', 'SIP;cause=200;text="Call completed elsewhere"', 'sip;cause=200, Q.850;cause=31', 'Q.850 ; cause = 102 ; text = "Session timer expired"', 'SIP;cause=487', 'Q.850;cause=21;text="Call rejected \\"busy\\""'];
    const failures = fuzz({
      seed: 0x5eed_5101,
      cases: 3000,
      make: (rng) => mutateHeader(rng, seeds),
      check: (value) => {
        const r = parseReason(value);
        if (r === undefined) return;
        expectOnlyKeys(r, ['protocol', 'cause', 'text']);
        if (r.protocol !== 'SIP' && r.protocol !== 'Q.850') throw new Error(`protocol ${String(r.protocol)}`);
        expectSafeCount('cause', r.cause);
        if (r.text !== undefined && typeof r.text !== 'string') throw new Error('text is not a string');
      },
    });
    expect(failures).toEqual([]);
  });

  it('parseRetryAfter: undefined, or non-negative integer seconds', () => {
    const seeds = ['120 (in a meeting);duration=3600', '18000;duration=3600', '0', ' 5', '300 (Service down for maintenance)'];
    const failures = fuzz({
      seed: 0x5eed_5102,
      cases: 3000,
      make: (rng) => mutateHeader(rng, seeds),
      check: (value) => {
        const s = parseRetryAfter(value);
        if (s !== undefined) expectSafeCount('Retry-After', s);
      },
    });
    expect(failures).toEqual([]);
  });

  it('parseDtmfInfo: undefined, or one digit of 0-9 * # A-D with a non-negative integer duration', () => {
    const types = ['application/dtmf-relay', 'Application/DTMF-Relay; charset=x', 'application/dtmf', 'text/plain'];
    const bodies = ['Signal=5\r\nDuration=160\r\n', 'Signal= 11\r\n', 'Signal=10\r\n', 'signal=#\r\nduration=250\r\n', ' a\r\n', '5', 'Signal=D\nDuration=100'];
    const failures = fuzz({
      seed: 0x5eed_5103,
      cases: 3000,
      make: (rng) => ({ contentType: rng.chance(0.2) ? mutateHeader(rng, types) : rng.pick(types), body: mutateHeader(rng, bodies) }),
      check: ({ contentType, body }) => {
        const d = parseDtmfInfo(contentType, body);
        if (d === undefined) return;
        expectOnlyKeys(d, ['digit', 'durationMs']);
        if (typeof d.digit !== 'string' || d.digit.length !== 1 || !'0123456789*#ABCD'.includes(d.digit)) throw new Error(`digit ${JSON.stringify(d.digit)}`);
        // Duration=0 is read as 0 ms: the relay clamps every duration to 40..2000 ms (apps/signalling dtmf-relay.ts)
        if (d.durationMs !== undefined) expectSafeCount('durationMs', d.durationMs);
      },
    });
    expect(failures).toEqual([]);
  });

  it('partyOf: every From that npm sip parses reads into a party, without throwing', () => {
    const seeds = [
      '"Alice" <sip:alice@example.com>;tag=1928301774',
      '<sip:+15551234@gw.example.com:5060;user=phone>;tag=abc',
      'sip:1001@10.0.0.1;tag=x',
      '"Jos\u00c3\u00a9 \\"Pepe\\"" <sips:%2B1555%20x@host.example>;tag=9',
      'Anonymous <sip:anonymous@anonymous.invalid>;tag=1',
      '<sip:[2001:db8::1]:5070>;tag=v6',
    ];
    let parsed = 0;
    const failures = fuzz({
      seed: 0x5eed_5104,
      cases: 3000,
      make: (rng) => mutateHeader(rng, seeds),
      check: (from) => {
        const m = parse(`INVITE sip:gw SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: ${from}\r\nTo: <sip:gw>\r\nCall-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n`);
        // the transport drops a message without From (sip-transport.ts isValid)
        if (!m?.headers.from) return;
        parsed++;
        const p = partyOf(m.headers.from);
        expectOnlyKeys(p, ['uri', 'user', 'host', 'port', 'displayName', 'tag']);
        if (typeof p.uri !== 'string' || typeof p.host !== 'string') throw new Error('uri or host is not a string');
        if (p.port !== undefined && !(Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535)) throw new Error(`port ${p.port}`);
        for (const k of ['user', 'displayName', 'tag'] as const) if (p[k] !== undefined && typeof p[k] !== 'string') throw new Error(`${k} is not a string`);
      },
    });
    expect(failures).toEqual([]);
    expect(parsed).toBeGreaterThan(1000);
  });
});
