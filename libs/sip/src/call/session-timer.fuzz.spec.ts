import { parse, type SipMessage } from 'sip';
import { fuzz, mutateText, type Prng } from '@wagw/testing';
import { answerSessionTimer, parseMinSe, parseSessionExpires, SessionTimer, sessionTimerFromResponse, type SessionTimerTerms } from './session-timer';

/**
 * Robustness of the session timer readers (RFC 4028) over the Session-Expires, Min-SE, Supported and
 * Require headers a PBX sends: each returns undefined or well-formed terms, never throws, and the terms they
 * give arm a SessionTimer that neither refreshes nor expires before half the interval.
 */

const POLICY = { expiresS: 1800, minSeS: 90 };
/** Node (and Jest's fake timers) fire a setTimeout longer than this after 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

const HEADER_SEEDS = [
  'Session-Expires: 1800;refresher=uac',
  'x: 600 ; Refresher = UAS',
  'Session-Expires: 900',
  'Session-Expires: 90;refresher=uas;x-foo=1',
  'Min-SE: 120;foo=bar',
  'Min-SE: 90',
  'Supported: replaces, timer',
  'k: timer, 100rel',
  'Require: timer',
];

/** Digit runs a text mutator rarely makes: long intervals (days, years), zero, too many digits. */
function mutateDigits(rng: Prng, text: string): string {
  const runs = [...text.matchAll(/\d+/g)];
  const run = runs.length > 0 ? rng.pick(runs) : undefined;
  const digits = rng.pick(['0', '1', '86400', '2147484', '4294967', '999999999', '1000000000', '9'.repeat(30)]);
  if (run?.index === undefined) return text;
  return text.slice(0, run.index) + digits + text.slice(run.index + run[0].length);
}

function headerLines(rng: Prng): string[] {
  const n = 1 + rng.int(3);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const seed = rng.pick(HEADER_SEEDS);
    lines.push(rng.chance(0.4) ? mutateDigits(rng, seed) : rng.chance(0.5) ? mutateText(rng, mutateDigits(rng, seed), 2) : mutateText(rng, seed, 3));
  }
  return lines;
}

function message(kind: 'invite' | 'ok', lines: string[]): SipMessage | undefined {
  const start = kind === 'invite' ? 'INVITE sip:1001@gw SIP/2.0' : 'SIP/2.0 200 OK';
  return parse([start, 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKa', 'From: <sip:pbx@10.0.0.1>;tag=a', 'To: <sip:1001@gw>;tag=b', 'Call-ID: c1', 'CSeq: 1 INVITE', ...lines, 'Content-Length: 0', '', ''].join('\r\n'));
}

/** Requests and responses alike (the parsers take both): the first header line decides which. */
function kindFor(lines: readonly string[]): 'invite' | 'ok' {
  return (lines[0]?.length ?? 0) % 2 === 0 ? 'invite' : 'ok';
}

function expectDeltaSeconds(what: string, n: unknown, min: number): void {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw new Error(`${what} is not an integer >= ${min}: ${String(n)}`);
}

/** The timer these terms arm does nothing before half the interval (or the longest timeout Node can wait). */
function expectQuietUntilHalfInterval(terms: SessionTimerTerms): void {
  const fired: string[] = [];
  const timer = new SessionTimer({ refresh: () => fired.push('refresh'), expire: () => fired.push('expire') });
  timer.start(terms);
  jest.advanceTimersByTime(Math.min(terms.intervalS * 500, MAX_TIMEOUT_MS) - 1);
  timer.stop();
  if (fired.length > 0) throw new Error(`${fired.join(', ')} within half of a ${terms.intervalS} s session interval`);
}

function expectTerms(terms: SessionTimerTerms | undefined, minIntervalS: number): void {
  if (terms === undefined) return;
  expectDeltaSeconds('intervalS', terms.intervalS, minIntervalS);
  if (terms.refresher !== 'local' && terms.refresher !== 'remote') throw new Error(`refresher ${String(terms.refresher)}`);
  expectQuietUntilHalfInterval(terms);
}

describe('session timer readers (fuzz)', () => {
  beforeAll(() => jest.useFakeTimers());
  afterAll(() => jest.useRealTimers());

  it('parseSessionExpires and parseMinSe: undefined, or delta-seconds (Session-Expires positive)', () => {
    let read = 0;
    const failures = fuzz({
      seed: 0x5eed_5201,
      cases: 3000,
      make: (rng) => headerLines(rng),
      check: (lines) => {
        const m = message(kindFor(lines), lines);
        if (!m) return;
        const se = parseSessionExpires(m);
        if (se !== undefined) {
          read++;
          expectDeltaSeconds('Session-Expires', se.deltaS, 1);
          const extra = Object.keys(se).filter((k) => k !== 'deltaS' && k !== 'refresher');
          if (extra.length > 0 || (se.refresher !== undefined && se.refresher !== 'uac' && se.refresher !== 'uas')) throw new Error(`malformed ${JSON.stringify(se)}`);
        }
        const minSe = parseMinSe(m);
        // Min-SE: 0 is read as 0: a lower bound of nothing; callers only act on a Min-SE above their interval
        if (minSe !== undefined) expectDeltaSeconds('Min-SE', minSe, 0);
      },
    });
    expect(failures).toEqual([]);
    expect(read).toBeGreaterThan(500);
  });

  it('answerSessionTimer (UAS): our 2xx headers match terms of at least our Min-SE that arm a sane timer', () => {
    const failures = fuzz({
      seed: 0x5eed_5202,
      cases: 3000,
      make: (rng) => headerLines(rng),
      check: (lines) => {
        const m = message('invite', lines);
        if (!m) return;
        const { terms, headers } = answerSessionTimer(m, POLICY);
        if (headers['supported'] !== 'timer') throw new Error('2xx without Supported: timer');
        if (terms === undefined) return;
        const refresher = terms.refresher === 'remote' ? 'uac' : 'uas';
        if (headers['session-expires'] !== `${terms.intervalS};refresher=${refresher}`) throw new Error(`Session-Expires ${headers['session-expires']} for ${JSON.stringify(terms)}`);
        if ((headers['require'] === 'timer') !== (refresher === 'uac')) throw new Error(`Require ${headers['require']} with refresher=${refresher}`);
        expectTerms(terms, POLICY.minSeS);
      },
    });
    expect(failures).toEqual([]);
  });

  it('sessionTimerFromResponse (UAC): no terms, or terms of a positive interval that arm a sane timer', () => {
    const failures = fuzz({
      seed: 0x5eed_5203,
      cases: 3000,
      make: (rng) => headerLines(rng),
      check: (lines) => {
        const m = message('ok', lines);
        if (m) expectTerms(sessionTimerFromResponse(m), 1);
      },
    });
    expect(failures).toEqual([]);
  });
});
