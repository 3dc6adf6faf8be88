import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fuzz, mutateJson, mutateText, type Prng } from '@wagw/testing';
import type { CallingSettings } from '../calling-settings.schema';
import type {
  CallParties,
  ContactInfo,
  ParsedWebhook,
  WebhookErrorInfo,
  WebhookEvent,
  WebhookEventKind,
  WebhookSource,
} from './webhook-events.types';
import { parseWebhook } from './webhook.parser';

/**
 * Robustness of `parseWebhook` (documented never to throw) on mutated copies of the captured fixtures: no
 * throw, every event well-formed by its own type (webhook-events.types.ts, values as the schemas produce
 * them), every rejection and ignored item located in the body, and every item accounted for exactly once.
 * Deterministic: a failure names (seed, index) and prints the input.
 */

const FIXTURES = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'webhooks');
const loadDir = (dir: 'good' | 'bad', only?: readonly string[]): { name: string; body: unknown }[] =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.json') && (!only || only.includes(f.slice(0, -5))))
    .sort()
    .map((f) => ({ name: `${dir}/${f}`, body: JSON.parse(readFileSync(join(FIXTURES, dir, f), 'utf8')) as unknown }));

const GOOD = loadDir('good');
const BAD = loadDir('bad', ['one-bad-call-beside-a-good-one', 'connect-sdp-not-sdp', 'permission-reply-bad-expiration', 'terminate-timestamp-not-digits', 'contacts-not-an-array', 'settings-unknown-calling-status']);
const SEEDS = [...GOOD, ...BAD];

// --- the invariants of each event type -------------------------------------------------------------

type Check = (v: unknown) => boolean;
/** One check per property of T: the compiler keeps these in step with webhook-events.types.ts. */
type Shape<T> = { [K in keyof T]-?: Check };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const opt = (c: Check): Check => (v) => v === undefined || c(v);
const oneOf = (...values: readonly unknown[]): Check => (v) => values.includes(v);
const arrayOf = (c: Check): Check => (v) => Array.isArray(v) && v.every((x) => c(x));
const str: Check = (v) => typeof v === 'string';
const optStr = opt(str);
/** `nonEmpty` in wire-common.schema.ts: trimmed, at least one character. */
const id: Check = (v) => typeof v === 'string' && v.length > 0 && v.trim() === v;
/** `epochSeconds`: a non-negative integer, as its number branch accepts (zod's `int()` is a safe integer). */
const seconds: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const onOff = oneOf('ENABLED', 'DISABLED');

/** Problems of `value` against `shape`; `exact`: every key of the shape present and no other key. */
function problemsOf(value: unknown, shape: Record<string, Check>, exact: boolean): string[] {
  if (!isRecord(value)) return [`not an object: ${preview(value)}`];
  const out: string[] = [];
  for (const key of Object.keys(value)) if (!(key in shape)) out.push(`unexpected key ${key}`);
  for (const [key, check] of Object.entries(shape)) {
    if (exact && !(key in value)) out.push(`missing key ${key}`);
    else if (!check(value[key])) out.push(`${key} = ${preview(value[key])}`);
  }
  return out;
}

const object =
  <T>(shape: Shape<T>): Check =>
  (v) =>
    problemsOf(v, shape, false).length === 0;

const SOURCE: Shape<WebhookSource> = { wabaId: optStr, phoneNumberId: id, displayPhoneNumber: optStr };
const CONTACT: Shape<ContactInfo> = { contactName: optStr, contactUsername: optStr, contactWaId: optStr, contactUserId: optStr };
const PARTIES: Shape<CallParties> = {
  waCallId: id,
  direction: opt(oneOf('user_initiated', 'business_initiated')),
  from: optStr,
  to: optStr,
  fromUserId: optStr,
  fromParentUserId: optStr,
  toUserId: optStr,
  toParentUserId: optStr,
  timestamp: seconds,
  bizOpaqueCallbackData: optStr,
  ctaPayload: optStr,
  deeplinkPayload: optStr,
};
const ERRORS = arrayOf(object<WebhookErrorInfo>({ code: Number.isSafeInteger, title: optStr, message: optStr, href: optStr, details: optStr }));
const CALLING = object<CallingSettings>({
  status: opt(onOff),
  callIconVisibility: opt((v) => typeof v === 'string' && v !== ''),
  callbackPermissionStatus: opt(onOff),
  srtpKeyExchangeProtocol: opt(oneOf('DTLS', 'SDES')),
  sip: opt(object<NonNullable<CallingSettings['sip']>>({ status: opt(onOff), servers: arrayOf(object({ hostname: str, port: opt(Number.isSafeInteger) })) })),
  raw: isRecord,
});

type EventOf<K extends WebhookEventKind> = Extract<WebhookEvent, { kind: K }>;

const SHAPES: { [K in WebhookEventKind]: Shape<EventOf<K>> } = {
  'call.connect': {
    kind: oneOf('call.connect'),
    ...SOURCE,
    ...CONTACT,
    ...PARTIES,
    sdpType: oneOf('offer', 'answer'),
    sdp: (v) => typeof v === 'string' && v.startsWith('v=0'),
  },
  'call.terminate': {
    kind: oneOf('call.terminate'),
    ...SOURCE,
    ...CONTACT,
    ...PARTIES,
    status: oneOf('completed', 'failed'),
    startTime: opt(seconds),
    endTime: opt(seconds),
    durationSeconds: opt((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0),
    errors: ERRORS,
  },
  'call.status': {
    kind: oneOf('call.status'),
    ...SOURCE,
    ...CONTACT,
    waCallId: id,
    status: oneOf('ringing', 'accepted', 'rejected'),
    timestamp: seconds,
    recipientId: optStr,
    recipientUserId: optStr,
    recipientParentUserId: optStr,
    bizOpaqueCallbackData: optStr,
  },
  'permission.reply': {
    kind: oneOf('permission.reply'),
    ...SOURCE,
    ...CONTACT,
    messageId: id,
    from: optStr,
    fromUserId: optStr,
    timestamp: seconds,
    response: oneOf('accept', 'reject'),
    isPermanent: oneOf(true, false),
    expiresAt: opt(seconds),
    responseSource: opt(oneOf('user_action', 'automatic')),
    contextId: opt(id),
    contextKind: opt(oneOf('message', 'call')),
  },
  'message.status': {
    kind: oneOf('message.status'),
    ...SOURCE,
    messageId: id,
    status: oneOf('sent', 'delivered', 'read', 'failed'),
    timestamp: seconds,
    recipientId: optStr,
    recipientUserId: optStr,
    bizOpaqueCallbackData: optStr,
    errors: ERRORS,
  },
  'call.voicemail': {
    kind: oneOf('call.voicemail'),
    ...SOURCE,
    ...CONTACT,
    waCallId: (v) => typeof v === 'string' && v.startsWith('wacid.'),
    from: optStr,
    fromUserId: optStr,
    timestamp: seconds,
    audio: object<EventOf<'call.voicemail'>['audio']>({ mediaId: id, mimeType: optStr, sha256: optStr, url: optStr }),
  },
  'settings.update': {
    kind: oneOf('settings.update'),
    wabaId: optStr,
    phoneNumberId: id,
    timestamp: opt(seconds),
    calling: CALLING,
  },
  'account.update': {
    kind: oneOf('account.update'),
    wabaId: optStr,
    event: oneOf('account_violation', 'account_restriction'),
    phoneNumber: optStr,
    timestamp: opt(seconds),
    violationType: opt(id),
    restrictions: arrayOf(object<EventOf<'account.update'>['restrictions'][number]>({ type: id, expiration: opt(seconds) })),
  },
};

function eventProblems(e: WebhookEvent): string[] {
  const kind: unknown = (e as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !Object.prototype.hasOwnProperty.call(SHAPES, kind)) return [`unknown kind ${preview(kind)}`];
  const out = problemsOf(e, SHAPES[kind as WebhookEventKind] as Record<string, Check>, true);
  // `contextKind` follows from `contextId` (messages-field.parser.ts): a wacid names a call, anything else a message.
  if (e.kind === 'permission.reply') {
    const expected = e.contextId === undefined ? undefined : e.contextId.startsWith('wacid.') ? 'call' : 'message';
    if (e.contextKind !== expected) out.push(`contextKind ${preview(e.contextKind)} for contextId ${preview(e.contextId)}`);
  }
  return out.map((p) => `${e.kind}: ${p}`);
}

// --- accounting: every item the parser walks ends as exactly one event, rejection or ignored entry -----

const PATH_SEGMENT = /([A-Za-z_]\w*)|\[(\d+)\]/g;
const MISSING = Symbol('missing');

/** The node at a parser path (`$`, `entry[0].changes[1].value.calls[2]`), or MISSING. */
function nodeAt(body: unknown, path: string): unknown {
  if (path === '$') return body;
  let node = body;
  for (const m of path.matchAll(PATH_SEGMENT)) {
    const key = m[1] ?? Number(m[2]);
    if (!(isRecord(node) || Array.isArray(node)) || !Object.prototype.hasOwnProperty.call(node, key)) return MISSING;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

const covers = (outer: string, inner: string) => outer === '$' || inner === outer || inner.startsWith(`${outer}.`) || inner.startsWith(`${outer}[`);

/**
 * The units that yield one outcome each: every item of `calls`/`statuses` (calls field) or
 * `messages`/`statuses` (messages field), else the change's value. Anything malformed above a unit is a
 * rejection that covers it, so only array-shaped parts are walked.
 */
function unitsOf(body: unknown): string[] {
  const units: string[] = [];
  const entries = isRecord(body) ? body['entry'] : undefined;
  if (!Array.isArray(entries)) return units;
  entries.forEach((entry, i) => {
    const changes = isRecord(entry) ? entry['changes'] : undefined;
    if (!Array.isArray(changes)) return;
    changes.forEach((change, j) => {
      const value = isRecord(change) ? change['value'] : undefined;
      if (!isRecord(change) || !isRecord(value)) return;
      const at = `entry[${i}].changes[${j}].value`;
      const field = typeof change['field'] === 'string' ? change['field'].trim() : undefined;
      const lists = field === 'calls' ? ['calls', 'statuses'] : field === 'messages' ? ['messages', 'statuses'] : undefined;
      if (!lists) return void units.push(at);
      for (const key of lists) {
        const items = value[key];
        if (Array.isArray(items)) items.forEach((_, k) => units.push(`${at}.${key}[${k}]`));
      }
    });
  });
  return units;
}

function accountingProblems(body: unknown, parsed: ParsedWebhook): string[] {
  const out: string[] = [];
  const outcomes = [...parsed.rejected.map((r) => ({ what: 'rejected', ...r })), ...parsed.ignored.map((r) => ({ what: 'ignored', ...r }))];
  for (const o of outcomes) {
    if (typeof o.reason !== 'string' || o.reason.trim() === '') out.push(`${o.what} at ${o.path} without a reason`);
    if (typeof o.path !== 'string' || nodeAt(body, o.path) === MISSING) out.push(`${o.what} at ${String(o.path)}: no such node in the body`);
  }
  for (const r of parsed.rejected) {
    // `raw` is the item as received; a change's value is checked as a record (zod copies it).
    const ok = r.path.endsWith('.value') ? isRecord(r.raw) : r.raw === nodeAt(body, r.path);
    if (!ok) out.push(`rejected at ${r.path}: raw is not the node at that path`);
  }
  outcomes.forEach((a, i) =>
    outcomes.forEach((b, j) => {
      if (i !== j && covers(a.path, b.path)) out.push(`${a.what} at ${a.path} and ${b.what} at ${b.path}: one item, two outcomes`);
    }),
  );
  const open = unitsOf(body).filter((u) => !outcomes.some((o) => covers(o.path, u)));
  if (parsed.events.length !== open.length) out.push(`${parsed.events.length} events for ${open.length} items without another outcome (${open.join(', ')})`);
  return out;
}

/** Cases whose result held at least one event / rejection / ignored item: a run must exercise all three. */
const tally = { events: 0, rejected: 0, ignored: 0 };

function problemsOfBody(body: unknown): string[] {
  const parsed = parseWebhook(body);
  if (parsed.events.length > 0) tally.events++;
  if (parsed.rejected.length > 0) tally.rejected++;
  if (parsed.ignored.length > 0) tally.ignored++;
  return [...parsed.events.flatMap(eventProblems), ...accountingProblems(body, parsed)];
}

function check(body: unknown): void {
  const problems = problemsOfBody(body);
  if (problems.length > 0) throw new Error(problems.join('\n'));
}

/** Runs the cases; returns the failures and the share of cases with events, rejections and ignored items. */
function run<I>(seed: number, cases: number, make: (rng: Prng, seedBody: unknown) => I, checkCase: (input: I) => void = check) {
  Object.assign(tally, { events: 0, rejected: 0, ignored: 0 });
  const failures = fuzz<I>({ seed, cases, make: (rng, i) => make(rng, (SEEDS[i % SEEDS.length] as { body: unknown }).body), check: checkCase });
  return { failures, events: tally.events / cases, rejected: tally.rejected / cases, ignored: tally.ignored / cases };
}

function preview(v: unknown): string {
  if (typeof v === 'symbol') return v.toString();
  const s = v === undefined ? 'undefined' : typeof v === 'number' ? String(v) : JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

// --- an extra mutator: awkward numbers where the schemas take numbers or digit strings ---------------

const NUMERIC_EDGES: readonly unknown[] = ['9'.repeat(400), '99999999999999999999', '9007199254740993', 2 ** 53, 1e21, 1.5, -0, '00', ' 42 ', '1.5', '0.', '1e3', '٣', Number.MAX_VALUE, '0'.repeat(30)];

/** Replaces 1-3 number or digit-string leaves (timestamps, durations, error codes, ports) with an edge value. */
function mutateNumbers(rng: Prng, value: unknown): unknown {
  const root = JSON.parse(JSON.stringify(value)) as unknown;
  const leaves: { parent: Record<string | number, unknown>; key: string | number }[] = [];
  const walk = (node: unknown): void => {
    if (!isRecord(node) && !Array.isArray(node)) return;
    for (const [key, child] of Object.entries(node)) {
      if (typeof child === 'number' || (typeof child === 'string' && /^\d+(\.\d+)?$/.test(child))) leaves.push({ parent: node as Record<string, unknown>, key });
      walk(child);
    }
  };
  walk(root);
  for (let n = 1 + rng.int(3); n > 0 && leaves.length > 0; n--) {
    const leaf = rng.pick(leaves);
    leaf.parent[leaf.key] = rng.pick(NUMERIC_EDGES);
  }
  return root;
}

const NOT_JSON = Symbol('not JSON');

describe('parseWebhook under mutated fixtures', () => {
  it('starts from every good fixture and six bad ones, on which the checks hold', () => {
    expect(GOOD.length).toBeGreaterThanOrEqual(20);
    expect(BAD).toHaveLength(6);
    // so that a mutated case that fails names a problem of the mutation, not of the fixture
    expect(SEEDS.flatMap((s) => problemsOfBody(s.body).map((p) => `${s.name}: ${p}`))).toEqual([]);
  });

  it('its checks catch a malformed event, a lost item, a misplaced rejection and an empty reason', () => {
    const good = GOOD.find((s) => s.name === 'good/uic-connect.json');
    if (!good) throw new Error('fixture good/uic-connect.json is missing');
    const parsed = parseWebhook(good.body);
    const event = parsed.events[0] as WebhookEvent;
    expect(eventProblems({ ...event, timestamp: Number.POSITIVE_INFINITY } as WebhookEvent)).toEqual(['call.connect: timestamp = Infinity']);
    expect(eventProblems({ ...event, extra: 1 } as unknown as WebhookEvent)).toEqual(['call.connect: unexpected key extra']);
    expect(accountingProblems(good.body, { ...parsed, events: [] })).toEqual([expect.stringMatching(/^0 events for 1 items/)]);
    expect(accountingProblems(good.body, { ...parsed, rejected: [{ path: 'entry[0].changes[9]', reason: 'x', raw: null }] })).toEqual([
      'rejected at entry[0].changes[9]: no such node in the body',
      'rejected at entry[0].changes[9]: raw is not the node at that path',
    ]);
    expect(accountingProblems(good.body, { ...parsed, ignored: [{ path: 'entry[0]', reason: '' }] })).toEqual([
      'ignored at entry[0] without a reason',
      expect.stringMatching(/^1 events for 0 items/),
    ]);
  });

  it('never throws and yields well-formed, fully accounted results under structural mutation (4000 cases)', () => {
    const result = run(0x5eed_0001, 4000, (rng, body) => mutateJson(rng, body, 1 + rng.int(4)));
    expect(result.failures).toEqual([]);
    // the mutants reach every way out: events, rejections and ignored items
    expect(result.events).toBeGreaterThan(0.15);
    expect(result.rejected).toBeGreaterThan(0.3);
    expect(result.ignored).toBeGreaterThan(0.05);
  });

  it('keeps the same guarantees when awkward numbers replace timestamps, durations and codes (1000 cases)', () => {
    const result = run(0x5eed_0002, 1000, mutateNumbers);
    expect(result.failures).toEqual([]);
    expect(result.events).toBeGreaterThan(0.2);
    expect(result.rejected).toBeGreaterThan(0.3);
  });

  it('keeps the same guarantees on mutated JSON text that still parses (2000 cases)', () => {
    let parsedCases = 0;
    const result = run<unknown>(
      0x5eed_0003,
      2000,
      (rng, body) => {
        try {
          return JSON.parse(mutateText(rng, JSON.stringify(body), 2)) as unknown;
        } catch {
          return NOT_JSON; // text that no longer parses never reaches the parser (the controller's body parser refuses it)
        }
      },
      (body) => {
        if (body === NOT_JSON) return;
        parsedCases++;
        check(body);
      },
    );
    expect(result.failures).toEqual([]);
    expect(parsedCases).toBeGreaterThan(400);
    expect(result.events).toBeGreaterThan(0.1);
  });
});
