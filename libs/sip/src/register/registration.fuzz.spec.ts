import { parse } from 'sip';
import { fuzz, mutateText, type Prng } from '@wagw/testing';
import { grantedExpires } from './registration';

/**
 * Robustness of grantedExpires over the 2xx a registrar sends to our REGISTER: the interval is what we asked,
 * or at most what the 2xx wrote as delta-seconds (RFC 3261 §25.1) for our binding or in Expires; positive,
 * and short enough for the refresh timer the Registration arms from it (Node fires a setTimeout above
 * 2^31-1 ms at once, which would re-REGISTER in a loop).
 */

const OURS = 'sip:gw@10.0.0.9:5080';
const ASKED = 600;
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const SEEDS = [
  'Contact: <sip:gw@10.0.0.7:5080>;expires=3000\r\nContact: <sip:gw@10.0.0.9:5080>;expires=120\r\nExpires: 900',
  'Contact: <SIP:GW@10.0.0.9:5080;transport=udp>;expires=300',
  'Contact: <sip:gw@10.0.0.7:5080>;expires=3000\r\nExpires: 900',
  'Expires: 3600',
  'Expires: soon',
];

function mutateDigits(rng: Prng, text: string): string {
  const runs = [...text.matchAll(/\d+/g)].filter((r) => r[0].length >= 3); // the expiries, not the addresses
  const run = runs.length > 0 ? rng.pick(runs) : undefined;
  if (run?.index === undefined) return text;
  return text.slice(0, run.index) + rng.pick(['', '0', '86400', '604800', '2592000', '4294967295', '99999999999', '9'.repeat(400), '0x10', '1e3']) + text.slice(run.index + run[0].length);
}

describe('grantedExpires (fuzz)', () => {
  it('reads what we asked, or positive delta-seconds from the 2xx that a refresh timer can wait for', () => {
    let read = 0;
    const failures = fuzz({
      seed: 0x5eed_5701,
      cases: 4000,
      make: (rng) => {
        const seed = rng.pick(SEEDS);
        return rng.chance(0.4) ? mutateDigits(rng, seed) : mutateText(rng, rng.chance(0.3) ? mutateDigits(rng, seed) : seed, 4);
      },
      check: (headers) => {
        const rs = parse(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa\r\nFrom: <sip:gw@pbx>;tag=a\r\nTo: <sip:gw@pbx>;tag=b\r\nCall-ID: c1\r\nCSeq: 2 REGISTER\r\n${headers}\r\nContent-Length: 0\r\n\r\n`);
        if (!rs) return;
        read++;
        const granted = grantedExpires(rs, ASKED, OURS);
        if (!Number.isSafeInteger(granted) || granted <= 0) throw new Error(`granted ${granted}`);
        if (granted * 1000 > MAX_TIMEOUT_MS) throw new Error(`granted ${granted} s: longer than a timer can wait`);
        if (granted === ASKED) return;
        // delta-seconds the 2xx wrote: the grant is one of them, or a longer one taken shorter (never longer)
        const written = [...headers.matchAll(/expires\s*[=:]\s*(\d+)(?![\d.xe])/gi)].map((m) => Number(m[1]));
        if (!written.some((w) => w >= granted)) throw new Error(`granted ${granted}, more than the 2xx wrote as delta-seconds (${written.join(', ')})`);
      },
    });
    expect(failures).toEqual([]);
    expect(read).toBeGreaterThan(3000);
  });
});
