import { createHmac } from 'node:crypto';
import { silentLogger } from '@wagw/logging';
import type { CrmEvent } from './crm-event.types';
import { CrmWebhookSender, type FetchLike, signCrmWebhook, verifyCrmWebhook } from './crm-webhook.sender';

const SECRET = 'crm-secret-0123456789';
const URL_ = 'http://127.0.0.1:1/crm';

interface Received {
  body: string;
  headers: Record<string, string>;
}

/**
 * A fake fetch answering from a script (a status, an Error to throw, or 'hang' to wait for the abort);
 * 200 once the script is used up. `received` keeps every attempt, `delivered` only the 2xx ones.
 */
class FakeFetch {
  readonly attempts: Received[] = [];
  readonly delivered: Received[] = [];
  constructor(private readonly script: (number | Error | 'hang')[] = []) {}

  readonly fetch: FetchLike = async (_url, init) => {
    const rec = { body: String(init.body), headers: init.headers as Record<string, string> };
    this.attempts.push(rec);
    const next = this.script.shift() ?? 200;
    if (next === 'hang') {
      return new Promise<Response>((_resolve, reject) => init.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    }
    if (next instanceof Error) throw next;
    if (next >= 200 && next < 300) this.delivered.push(rec);
    return new Response(next === 204 ? null : 'ok', { status: next });
  };

  ids(list: Received[] = this.delivered): string[] {
    return list.map((r) => (JSON.parse(r.body) as CrmEvent).id);
  }
}

function ev(seq: number, data: Record<string, unknown>, type: CrmEvent['type'] = 'call.ringing'): CrmEvent {
  return { id: `e-${seq}`, type, at: 1000 + seq, data } as CrmEvent;
}

describe('CrmWebhookSender', () => {
  let sender: CrmWebhookSender | undefined;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });

  afterEach(() => {
    sender?.close();
    expect(jest.getTimerCount()).toBe(0);
    jest.useRealTimers();
  });

  const make = (f: FakeFetch, extra: Partial<ConstructorParameters<typeof CrmWebhookSender>[0]> = {}): CrmWebhookSender =>
    (sender = new CrmWebhookSender({ url: URL_, secret: SECRET, maxAttempts: 4, retryBaseDelayMs: 100, fetch: f.fetch, logger: silentLogger(), ...extra }));

  it('POSTs the JSON envelope signed with HMAC-SHA256 of the exact body, with the event id and type', async () => {
    const f = new FakeFetch();
    const s = make(f);
    const event = ev(1, { callId: 'call_1', waId: '155500', side: 'user' });
    s.enqueue(event);
    await s.idle();
    const [got] = f.delivered;
    expect(JSON.parse(got!.body)).toEqual(event);
    const expected = `sha256=${createHmac('sha256', SECRET).update(got!.body).digest('hex')}`;
    expect(got!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-wagw-signature-256': expected,
      'x-wagw-event-id': 'e-1',
      'x-wagw-event-type': 'call.ringing',
      'x-wagw-delivery-attempt': '1',
    });
    expect(verifyCrmWebhook(got!.body, got!.headers['x-wagw-signature-256'], SECRET)).toBe(true);
    expect(verifyCrmWebhook(got!.body, got!.headers['x-wagw-signature-256'], 'another-secret-000')).toBe(false);
    expect(verifyCrmWebhook(`${got!.body} `, got!.headers['x-wagw-signature-256'], SECRET)).toBe(false);
    expect(verifyCrmWebhook(got!.body, undefined, SECRET)).toBe(false);
    expect(signCrmWebhook(got!.body, SECRET)).toBe(expected);
  });

  it('retries a 500, a network error and a redirect with doubling delays, then delivers once', async () => {
    const f = new FakeFetch([500, new Error('ECONNREFUSED'), 302]);
    const s = make(f);
    s.enqueue(ev(1, { callId: 'c', side: 'agent' }));
    await jest.advanceTimersByTimeAsync(0);
    expect(f.attempts).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(99);
    expect(f.attempts).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1); // 100 ms after the first failure
    expect(f.attempts).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(199);
    expect(f.attempts).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(1); // then 200 ms
    expect(f.attempts).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(400); // then 400 ms
    await s.idle();
    expect(f.attempts.map((a) => a.headers['x-wagw-delivery-attempt'])).toEqual(['1', '2', '3', '4']);
    expect(f.ids()).toEqual(['e-1']);
    expect(new Set(f.attempts.map((a) => a.body)).size).toBe(1);
  });

  it('gives up after maxAttempts and goes on with the next event of the same call', async () => {
    const f = new FakeFetch([503, 503, 503]);
    const s = make(f, { maxAttempts: 3 });
    s.enqueue(ev(1, { callId: 'c', side: 'agent' }));
    s.enqueue(ev(2, { callId: 'c', side: 'user' }));
    await jest.advanceTimersByTimeAsync(1000);
    await s.idle();
    expect(f.attempts).toHaveLength(4);
    expect(f.ids(f.attempts)).toEqual(['e-1', 'e-1', 'e-1', 'e-2']);
    expect(f.ids()).toEqual(['e-2']);
    expect(s.pendingCount).toBe(0);
  });

  it('keeps the order of one call even while an earlier event is being retried; other calls are not held up', async () => {
    const f = new FakeFetch([500]);
    const s = make(f);
    s.enqueue(ev(1, { callId: 'A', waId: '111' }, 'call.incoming'));
    s.enqueue(ev(2, { callId: 'B', waId: '222' }, 'call.incoming'));
    s.enqueue(ev(3, { callId: 'A', waId: '111', direction: 'inbound' }, 'call.connected'));
    s.enqueue(ev(4, { callId: 'A', direction: 'inbound', cause: 'x', durationMs: 1 }, 'call.ended')); // no waId: still call A's queue
    await jest.advanceTimersByTimeAsync(0);
    expect(f.ids()).toEqual(['e-2']);
    await jest.advanceTimersByTimeAsync(100);
    await s.idle();
    expect(f.ids()).toEqual(['e-2', 'e-1', 'e-3', 'e-4']);
  });

  it('keeps a user permission events and their call events in one order', async () => {
    const f = new FakeFetch([500]);
    const s = make(f);
    s.enqueue(ev(1, { waId: '111', businessNumber: 'b', messageId: 'm', callId: 'A' }, 'permission.requested'));
    s.enqueue(ev(2, { waId: '111', businessNumber: 'b', kind: 'once', source: 'user_action' }, 'permission.granted'));
    s.enqueue(ev(3, { callId: 'A', side: 'user' }, 'call.ringing'));
    await jest.advanceTimersByTimeAsync(100);
    await s.idle();
    expect(f.ids()).toEqual(['e-1', 'e-2', 'e-3']);
  });

  it('aborts a request that does not answer within the deadline and retries it', async () => {
    const f = new FakeFetch(['hang']);
    const s = make(f, { requestTimeoutMs: 1000 });
    s.enqueue(ev(1, { callId: 'c', side: 'agent' }));
    await jest.advanceTimersByTimeAsync(1000);
    expect(f.attempts).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(100);
    await s.idle();
    expect(f.attempts).toHaveLength(2);
    expect(f.ids()).toEqual(['e-1']);
  });

  it('enqueue returns at once, before any delivery, and never throws into the caller', () => {
    const f = new FakeFetch();
    const s = make(f, { fetch: () => { throw new Error('sync failure in fetch'); } });
    expect(() => s.enqueue(ev(1, { callId: 'c', side: 'agent' }))).not.toThrow();
    expect(s.pendingCount).toBe(1);
  });

  it('close() aborts the request in flight, cancels retries and leaves no timer', async () => {
    const f = new FakeFetch([500, 'hang']);
    const s = make(f);
    s.enqueue(ev(1, { callId: 'c', side: 'agent' }));
    s.enqueue(ev(2, { callId: 'd', side: 'agent' }));
    await jest.advanceTimersByTimeAsync(0);
    expect(s.timerCount).toBe(2); // c waits for its retry; d's request is in flight with its deadline
    expect(s.close()).toBe(2);
    expect(s.timerCount).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(f.attempts).toHaveLength(2);
    s.enqueue(ev(3, { callId: 'c', side: 'agent' }));
    expect(s.pendingCount).toBe(0);
    await s.idle();
  });

  it('drops the oldest waiting event when too many are undelivered', async () => {
    const f = new FakeFetch(['hang']);
    const s = make(f, { maxPending: 3, requestTimeoutMs: 60_000 });
    for (let i = 1; i <= 5; i++) s.enqueue(ev(i, { callId: 'c', side: 'agent' }));
    expect(s.pendingCount).toBe(3);
    await jest.advanceTimersByTimeAsync(60_000 + 100);
    await s.idle();
    expect(f.ids()).toEqual(['e-1', 'e-4', 'e-5']);
  });

  it('refuses a URL that is not http(s) and an empty secret', () => {
    expect(() => new CrmWebhookSender({ url: 'ftp://x', secret: SECRET, maxAttempts: 1, retryBaseDelayMs: 10, logger: silentLogger() })).toThrow(TypeError);
    expect(() => new CrmWebhookSender({ url: URL_, secret: '', maxAttempts: 1, retryBaseDelayMs: 10, logger: silentLogger() })).toThrow(TypeError);
  });
});
