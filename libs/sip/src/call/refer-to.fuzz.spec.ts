import { parse, parseUri } from 'sip';
import { fuzz, mutateText } from '@wagw/testing';
import { parseReferTo, referToUri } from './refer-to';

/**
 * Robustness of the Refer-To reader (RFC 3515, Replaces of RFC 3891) over what a desk phone sends in a
 * REFER: the URI (a string, never a throw), then either a usable target or a reason why not.
 */

const SEEDS = [
  'Refer-To: <sip:1002@pbx.example.com>',
  'Refer-To: sips:1002@pbx.example.com;transport=tls',
  'Refer-To: <sip:1002@pbx.example.com?Replaces=a84b4c76e66710%40pc33.example.com%3Bto-tag%3D1928301774%3Bfrom-tag%3D314159>',
  'r: <sip:1002@h?Require=replaces&replaces=x%3Bfrom-tag%3D1%3Bto-tag%3D2%3Bearly-only>;x=1',
  'Refer-To: "Bob" <sip:1002@h?Subject=hello>',
  'Refer-To: <tel:+15551234>',
];

describe('Refer-To (fuzz)', () => {
  it('reads any Refer-To into a SIP target with a well-formed Replaces, or a reason, without throwing', () => {
    let targets = 0;
    const failures = fuzz({
      seed: 0x5eed_5301,
      cases: 4000,
      make: (rng) => mutateText(rng, rng.pick(SEEDS), 4),
      check: (header) => {
        const m = parse(`REFER sip:gw SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:1001@pbx>;tag=a\r\nTo: <sip:gw>;tag=b\r\nCall-ID: c1\r\nCSeq: 2 REFER\r\n${header}\r\nContent-Length: 0\r\n\r\n`);
        if (!m) return;
        const uri = referToUri(m);
        if (typeof uri !== 'string') throw new Error(`referToUri gave ${typeof uri}`);
        const target = parseReferTo(uri);
        if (typeof target === 'string') {
          if (target.length === 0) throw new Error('refused without a reason');
          return;
        }
        targets++;
        if (!/^sips?:/i.test(target.uri) || target.uri.includes('?') || !uri.startsWith(target.uri)) throw new Error(`target ${target.uri} of ${uri}`);
        // what the transfer INVITEs: a SIP URI with a host
        if (!parseUri(target.uri)?.host) throw new Error(`target ${target.uri} has no host`);
        if (target.replaces !== undefined && !/^[^;\s]+(;[^;\s]+)*$/.test(target.replaces)) throw new Error(`Replaces ${target.replaces}`);
      },
    });
    expect(failures).toEqual([]);
    // a good share of the mutants still name a usable target (so the checks above do run)
    expect(targets).toBeGreaterThan(600);
  });
});
