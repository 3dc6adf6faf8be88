import { parse, type SipMessage } from 'sip';
import { fuzz, mutateText, type Prng } from '@wagw/testing';
import { registerInfo } from './incoming-request-router';

/**
 * Robustness of registerInfo (a REGISTER as the registrar sees it) over what a PBX sends: any REGISTER the
 * transport passes on reads into contacts, wildcard and Expires without throwing, and an expiry is only ever
 * what the request wrote as delta-seconds (RFC 3261 §20.10, §20.19, §25.1: 1*DIGIT), never a guess such as
 * 0 for an empty value (0 removes the binding).
 */

const REMOTE = { protocol: 'udp' as const, address: '192.0.2.7', port: 40123 };

const HEADER_SEEDS = [
  'Contact: <sip:acme@10.1.1.1:5060>;expires=120, <sip:acme@10.1.1.2>\r\nExpires: 600',
  'Contact: *\r\nExpires: 0',
  'Expires: soon',
  'Contact: "PBX" <sip:acme@[2001:db8::7]:5070;transport=tcp>;expires=3600;q=0.5\r\nExpires: 3600',
  'm: <sip:acme@10.1.1.1>;expires=0',
];

function mutateDigits(rng: Prng, text: string): string {
  const runs = [...text.matchAll(/\d+/g)];
  const run = runs.length > 0 ? rng.pick(runs) : undefined;
  if (run?.index === undefined) return text;
  return text.slice(0, run.index) + rng.pick(['', '0', '00', '4294967295', '99999999999', '9'.repeat(400), '0x10', '1e3', '-0', '1.0']) + text.slice(run.index + run[0].length);
}

function register(from: string, headers: string): SipMessage | undefined {
  return parse(['REGISTER sip:gw.example SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.7:40123;branch=z9hG4bK1', `From: ${from}`, 'To: <sip:acme@gw.example>', 'Call-ID: r1', 'CSeq: 1 REGISTER', headers, 'Content-Length: 0', '', ''].join('\r\n'));
}

/** What the transport hands on (sip-transport.ts isValid): the mandatory headers are there. */
function passesTransport(m: SipMessage): boolean {
  const h = m.headers;
  return Array.isArray(h.via) && h.via.length > 0 && typeof h['call-id'] === 'string' && !!h.to && !!h.from && !!h.cseq;
}

/** An expiry read from `raw` must be its delta-seconds; plain delta-seconds of up to 9 digits must be read. */
function expectExpiry(what: string, raw: unknown, read: number | undefined): void {
  const text = typeof raw === 'string' || typeof raw === 'number' ? String(raw).trim() : undefined;
  if (read !== undefined && !(text !== undefined && /^\d+$/.test(text) && Number.isSafeInteger(read) && Number(text) === read)) {
    throw new Error(`${what} read as ${read} from ${JSON.stringify(raw)}`);
  }
  if (read === undefined && text !== undefined && /^\d{1,9}$/.test(text)) throw new Error(`${what} ${JSON.stringify(raw)} not read`);
}

describe('registerInfo (fuzz)', () => {
  it('reads any REGISTER the transport passes on, taking an expiry only from delta-seconds', () => {
    let registers = 0;
    const failures = fuzz({
      seed: 0x5eed_5501,
      cases: 4000,
      make: (rng) => {
        const headers = rng.pick(HEADER_SEEDS);
        const from = rng.chance(0.2) ? mutateText(rng, '<sip:acme@gw.example>;tag=1', 3) : '<sip:acme@gw.example>;tag=1';
        return { from, headers: rng.chance(0.4) ? mutateDigits(rng, headers) : mutateText(rng, rng.chance(0.3) ? mutateDigits(rng, headers) : headers, 4) };
      },
      check: ({ from, headers }) => {
        const m = register(from, headers);
        if (!m || !passesTransport(m)) return;
        registers++;
        const info = registerInfo(m, REMOTE);
        expectExpiry('Expires', m.headers['expires'], info.expires);
        const raw: unknown = m.headers.contact;
        const listed = (Array.isArray(raw) ? (raw as { uri?: unknown; params?: Record<string, unknown> }[]) : []).filter((c) => typeof c.uri === 'string' && c.uri !== '' && c.uri !== '*');
        if (info.contacts.length !== listed.length) throw new Error(`${info.contacts.length} contacts of ${listed.length}`);
        info.contacts.forEach((c, i) => {
          if (c.uri !== listed[i]?.uri) throw new Error(`contact ${i} is ${c.uri}`);
          expectExpiry(`contact ${i} expires`, listed[i]?.params?.['expires'], c.expires);
        });
        if (typeof info.wildcard !== 'boolean') throw new Error('wildcard is not a boolean');
      },
    });
    expect(failures).toEqual([]);
    expect(registers).toBeGreaterThan(2000);
  });
});
