/**
 * Deterministic input mutation for robustness tests: a seeded PRNG and mutators for text/bytes and for
 * JSON values. Every case is reproducible from (seed, index), so a failure names the input that caused it
 * and a test can replay it. Bounded by construction: callers give the number of cases.
 */

/** mulberry32: small, fast, good enough to spread mutations; never used for anything but tests. */
export class Prng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  /** [0, 1) */
  next(): number {
    this.#s = (this.#s + 0x6d2b79f5) >>> 0;
    let t = this.#s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Characters that carry structure in SIP, SDP, HTTP and JSON text. */
const STRUCTURAL = [':', ';', ',', '<', '>', '"', "'", '=', ' ', '\t', '\r', '\n', '\r\n', '/', '@', '[', ']', '{', '}', '\\', '%', '\0', '\u00ff', '\u2028', '-', '0', '9', '.'];

/** Values that break naive parsing when they replace a field or a number. */
const AWKWARD_TEXT = ['', ' ', '0', '-1', '4294967296', '99999999999999999999', 'NaN', 'null', 'undefined', '%00', '\r\n', 'x'.repeat(2048), '\u0000', '😀', '::', '<>', '""', '\\'];

/**
 * One mutated copy of `input` (latin1 text, as SIP and SDP travel): 1-`maxEdits` edits, each a byte flip,
 * a structural character inserted, a span deleted, a span duplicated, a line dropped or repeated, a cut, or a
 * field replaced by an awkward value.
 */
export function mutateText(rng: Prng, input: string, maxEdits = 4): string {
  let s = input;
  const edits = 1 + rng.int(maxEdits);
  for (let i = 0; i < edits; i++) {
    const pos = rng.int(s.length + 1);
    switch (rng.int(9)) {
      case 0:
        s = s.slice(0, pos) + String.fromCharCode(rng.int(256)) + s.slice(pos + 1);
        break;
      case 1:
        s = s.slice(0, pos) + rng.pick(STRUCTURAL) + s.slice(pos);
        break;
      case 2:
        s = s.slice(0, pos) + s.slice(pos + 1 + rng.int(16));
        break;
      case 3: {
        const len = 1 + rng.int(32);
        s = s.slice(0, pos) + s.slice(pos, pos + len).repeat(1 + rng.int(4)) + s.slice(pos);
        break;
      }
      case 4: {
        const lines = s.split('\n');
        lines.splice(rng.int(lines.length), 1);
        s = lines.join('\n');
        break;
      }
      case 5: {
        const lines = s.split('\n');
        const at = rng.int(lines.length);
        lines.splice(at, 0, lines[at] ?? '');
        s = lines.join('\n');
        break;
      }
      case 6:
        s = s.slice(0, pos);
        break;
      case 7: {
        // a token (between separators) replaced by an awkward value
        const m = /[^\s:;,<>="@/]+/g;
        const tokens = [...s.matchAll(m)];
        const t = tokens.length > 0 ? rng.pick(tokens) : undefined;
        if (t?.index !== undefined) s = s.slice(0, t.index) + rng.pick(AWKWARD_TEXT) + s.slice(t.index + t[0].length);
        break;
      }
      default:
        s = s.slice(0, pos) + String.fromCharCode(0x20 + rng.int(0x5f)) + s.slice(pos);
    }
  }
  return s;
}

/** Values a JSON field may be replaced with. */
function awkwardJson(rng: Prng): unknown {
  switch (rng.int(10)) {
    case 0:
      return null;
    case 1:
      return rng.int(2) === 0;
    case 2:
      return rng.pick([0, -1, 1.5, 1e21, -1e21, 2 ** 53, Number.MAX_SAFE_INTEGER]);
    case 3:
      return rng.pick(AWKWARD_TEXT);
    case 4:
      return [];
    case 5:
      return {};
    case 6:
      return [rng.pick(AWKWARD_TEXT)];
    case 7:
      return { [rng.pick(['__proto__', 'constructor', 'toString', 'id', 'type'])]: rng.pick(AWKWARD_TEXT) };
    case 8:
      return String(rng.int(1e9));
    default:
      return 'x'.repeat(rng.int(4) === 0 ? 100_000 : 40);
  }
}

/** `n` random bytes. */
export function randomBytes(rng: Prng, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rng.int(256);
  return b;
}

/**
 * One format-blind edit of a datagram (`kind` 0-3): a bit flipped, a byte set to one of `values` (or any), a
 * cut at a random length, or 1-8 random bytes appended. Binary mutators add their format's own edits beside it.
 */
export function byteEdit(rng: Prng, input: Buffer, kind: 0 | 1 | 2 | 3, values: readonly number[]): Buffer {
  const b = input;
  switch (kind) {
    case 0:
      if (b.length > 0) {
        const pos = rng.int(b.length);
        b[pos] = (b[pos] as number) ^ (1 << rng.int(8));
      }
      return b;
    case 1:
      if (b.length > 0) {
        const pos = rng.int(b.length);
        b[pos] = rng.pick([...values, rng.int(256)]);
      }
      return b;
    case 2:
      return b.subarray(0, rng.int(b.length + 1));
    default:
      return Buffer.concat([b, randomBytes(rng, 1 + rng.int(8))]);
  }
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

/**
 * One structurally mutated deep copy of a JSON value: 1-`maxEdits` edits, each replacing a node with an
 * awkward value, deleting a key or element, duplicating an array element, adding an unknown key, or (for a
 * string) mutating its text.
 */
export function mutateJson<T>(rng: Prng, value: T, maxEdits = 3): unknown {
  let root = JSON.parse(JSON.stringify(value)) as Json;
  const edits = 1 + rng.int(maxEdits);
  for (let i = 0; i < edits; i++) {
    const all = paths(root);
    const path = rng.pick(all);
    if (path.length === 0) {
      if (rng.chance(0.3)) root = awkwardJson(rng) as Json;
      continue;
    }
    const parent = path.slice(0, -1).reduce<Json>((node, k) => (node as Record<string | number, Json>)[k] as Json, root) as Record<string | number, Json> | Json[];
    const key = path[path.length - 1] as string | number;
    const current = (parent as Record<string | number, Json>)[key];
    switch (rng.int(5)) {
      case 0:
        (parent as Record<string | number, Json>)[key] = awkwardJson(rng) as Json;
        break;
      case 1:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete (parent as Record<string, Json>)[key];
        break;
      case 2:
        if (Array.isArray(parent)) parent.splice(key as number, 0, JSON.parse(JSON.stringify(current ?? null)) as Json);
        else (parent as Record<string, Json>)[`x_${rng.int(100)}`] = awkwardJson(rng) as Json;
        break;
      case 3:
        if (typeof current === 'string') (parent as Record<string | number, Json>)[key] = mutateText(rng, current, 2);
        else (parent as Record<string | number, Json>)[key] = awkwardJson(rng) as Json;
        break;
      default:
        if (Array.isArray(current)) current.push(JSON.parse(JSON.stringify(current[0] ?? null)) as Json);
        else (parent as Record<string | number, Json>)[key] = awkwardJson(rng) as Json;
    }
  }
  return root;
}

/** Runs `cases` mutated inputs through `check`; collects the cases whose check threw, with the input. */
export function fuzz<I>(options: { seed: number; cases: number; make: (rng: Prng, index: number) => I; check: (input: I) => void }): { index: number; input: I; error: string }[] {
  const failures: { index: number; input: I; error: string }[] = [];
  for (let i = 0; i < options.cases; i++) {
    const rng = new Prng((options.seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
    const input = options.make(rng, i);
    try {
      options.check(input);
    } catch (err) {
      failures.push({ index: i, input, error: err instanceof Error ? `${err.constructor.name}: ${err.message}` : String(err) });
      if (failures.length >= 20) break;
    }
  }
  return failures;
}
