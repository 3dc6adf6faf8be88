import { fuzz, mutateText, type Prng } from '@wagw/testing';
import { parseRack } from './reliable-provisionals';

/** Robustness of the RAck reader (RFC 3262 §7.2) over what a PBX sends in a PRACK. */

function mutateDigits(rng: Prng, text: string): string {
  const runs = [...text.matchAll(/\d+/g)];
  const run = runs.length > 0 ? rng.pick(runs) : undefined;
  if (run?.index === undefined) return text;
  return text.slice(0, run.index) + rng.pick(['0', '4294967295', '9999999999', '99999999999', '9'.repeat(400)]) + text.slice(run.index + run[0].length);
}

describe('parseRack (fuzz)', () => {
  it('reads undefined, or two non-negative integers and an upper-case method', () => {
    const seeds = [' 776656 1 INVITE ', '1 314159 INVITE', '2147483647 2 invite', '776656 1'];
    const failures = fuzz({
      seed: 0x5eed_5401,
      cases: 4000,
      make: (rng) => (rng.chance(0.3) ? mutateDigits(rng, rng.pick(seeds)) : mutateText(rng, rng.pick(seeds), 4)),
      check: (value) => {
        const r = parseRack(value);
        if (r === undefined) return;
        if (!Number.isSafeInteger(r.rseq) || r.rseq < 0 || !Number.isSafeInteger(r.seq) || r.seq < 0) throw new Error(`numbers ${JSON.stringify(r)}`);
        if (!/^[A-Z]+$/.test(r.method)) throw new Error(`method ${r.method}`);
      },
    });
    expect(failures).toEqual([]);
  });
});
