import { parse, stringify, type SipMessage } from 'sip';
import { signRequest } from 'sip/digest';
import { fuzz, mutateText, Prng } from '@wagw/testing';
import { DigestVerifier } from './digest-verifier';

/**
 * Robustness of DigestVerifier.check over the (Proxy-)Authorization headers a PBX or a scanner sends, as
 * npm `sip` parses them: the check always settles on one of its outcomes (never rejects), names the user
 * whenever it found credentials, and passes only the configured user with the right password.
 */

const OUTCOMES = ['ok', 'absent', 'stale', 'unknown-user', 'bad-password'];
const USER = 'acme';
const PASSWORD = 's3cret';

function register(): SipMessage {
  const m = parse(['REGISTER sip:gw.example SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bK1', 'From: <sip:acme@gw.example>;tag=1', 'To: <sip:acme@gw.example>', 'Call-ID: r1', 'CSeq: 1 REGISTER', 'Contact: <sip:acme@192.0.2.7>', 'Content-Length: 0', '', ''].join('\r\n'));
  if (!m) throw new Error('unparseable test message');
  return m;
}

function decisionFor(proxy: boolean) {
  return { action: 'digest' as const, realm: 'gw.example', proxy, password: (u: string) => (u === USER ? PASSWORD : undefined) };
}

/**
 * A REGISTER answering a fresh challenge of `verifier`, as wire text. npm `sip/digest` draws nonces and
 * cnonces from Math.random: seeded here, so each case is the same on every run.
 */
function answeredText(verifier: DigestVerifier, rng: Prng, proxy: boolean, user: string, password: string): string {
  const random = jest.spyOn(Math, 'random').mockImplementation(() => rng.next());
  try {
    const request = register();
    signRequest({}, request, verifier.challenge(request, decisionFor(proxy)), { user, password });
    return stringify(request);
  } finally {
    random.mockRestore();
  }
}

/** Mutates the Authorization line(s) only (the rest of the request is what the transport passes on). */
function mutateCredentials(rng: Prng, text: string): string {
  const lines = text.split('\r\n');
  const at = lines.findIndex((l) => /^(proxy-)?authorization:/i.test(l));
  if (at < 0) return text;
  const line = lines[at] as string;
  if (rng.chance(0.1)) lines.splice(at, 0, line.replace(/realm="[^"]*"/, 'realm="other.example"'));
  else lines[at] = mutateText(rng, line, 4);
  return lines.join('\r\n');
}

interface Case {
  proxy: boolean;
  text: string;
}

describe('DigestVerifier.check (fuzz)', () => {
  it('passes the seed: the right password against a live challenge, for 401 and 407', async () => {
    const verifier = new DigestVerifier();
    for (const proxy of [false, true]) {
      const m = parse(answeredText(verifier, new Prng(1), proxy, USER, PASSWORD));
      expect(m && (await verifier.check(m, decisionFor(proxy)))).toEqual({ outcome: 'ok', username: USER });
    }
  });

  it('settles any mutated credentials on an outcome, naming the user it found, passing only the right password', async () => {
    const verifier = new DigestVerifier();
    const settled: Promise<{ index: number; input: Case; error: string } | undefined>[] = [];
    let checked = 0;
    const seen = new Map<string, number>();
    const failures = fuzz<Case>({
      seed: 0x5eed_5601,
      cases: 3000,
      make: (rng) => {
        const proxy = rng.chance(0.3);
        const wrong = rng.chance(0.2);
        return { proxy, text: mutateCredentials(rng, answeredText(verifier, rng, proxy, USER, wrong ? 'guess' : PASSWORD)) };
      },
      check: (input) => {
        const m = parse(input.text);
        if (!m) return;
        checked++;
        const index = checked;
        settled.push(
          verifier.check(m, decisionFor(input.proxy)).then(
            (r) => {
              seen.set(r.outcome, (seen.get(r.outcome) ?? 0) + 1);
              const problem =
                !OUTCOMES.includes(r.outcome) ? `outcome ${String(r.outcome)}`
                : r.outcome === 'absent' ? (r.username === undefined ? undefined : 'absent with a username')
                : typeof r.username !== 'string' || r.username === '' ? `${r.outcome} without the username`
                : r.outcome === 'ok' && r.username !== USER ? `ok for ${r.username}`
                : undefined;
              return problem === undefined ? undefined : { index, input, error: problem };
            },
            (err: unknown) => ({ index, input, error: `rejected: ${String(err)}` }),
          ),
        );
      },
    });
    const rejected = (await Promise.all(settled)).filter((f) => f !== undefined);
    expect([...failures, ...rejected].slice(0, 20)).toEqual([]);
    expect(checked).toBeGreaterThan(2000);
    // the mutations reach every outcome, not just "absent"
    expect(OUTCOMES.filter((o) => !seen.has(o))).toEqual([]);
  });
});
