import { silentLogger } from '@wagw/logging';
import { verifyWebhookSignature } from '@wagw/whatsapp';
import { TimerRegistry } from './timers';
import { type WebhookKind, WebhookSender, type WebhookTransport } from './webhook.sender';

const SECRET = 'app-secret';

/** Answers from a script of statuses (then 200), and records what arrived. */
class ScriptedTransport implements WebhookTransport {
  readonly received: { body: Buffer; signature: string | undefined }[] = [];
  constructor(private readonly script: (number | Error)[] = []) {}

  async post(_url: string, body: Buffer, headers: Record<string, string>): Promise<number> {
    const next = this.script.shift() ?? 200;
    if (next instanceof Error) throw next;
    if (next >= 200 && next < 300) this.received.push({ body, signature: headers['x-hub-signature-256'] });
    return next;
  }

  tags(): string[] {
    return this.received.map((r) => (JSON.parse(r.body.toString()) as { tag: string }).tag);
  }
}

describe('WebhookSender', () => {
  let timers: TimerRegistry;

  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    timers = new TimerRegistry();
  });

  afterEach(() => {
    timers.close();
    jest.useRealTimers();
  });

  const sender = (transport: WebhookTransport, maxAttempts = 3): WebhookSender =>
    new WebhookSender({ url: 'http://127.0.0.1:1/hook', appSecret: SECRET, maxAttempts, retryBaseDelayMs: 100, transport, timers, logger: silentLogger() });
  const send = (s: WebhookSender, key: string, tag: string, kind: WebhookKind = 'calls.connect'): void => {
    s.enqueue(key, kind, { tag });
  };

  it('signs the exact bytes it sends with the app secret', async () => {
    const t = new ScriptedTransport();
    const s = sender(t);
    send(s, 'a', 'x');
    await s.idle();
    const [r] = t.received;
    expect(r?.signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(r!.body, r!.signature, SECRET)).toEqual({ ok: true });
    expect(verifyWebhookSignature(r!.body, r!.signature, 'other-secret').ok).toBe(false);
  });

  it('retries a 500 and a network error with backoff, keeping the order of one key', async () => {
    const t = new ScriptedTransport([500, new Error('ECONNREFUSED')]);
    const s = sender(t);
    send(s, 'call-1', 'first');
    send(s, 'call-1', 'second');
    await jest.advanceTimersByTimeAsync(99);
    expect(t.received).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1 + 200);
    await s.idle();
    expect(t.tags()).toEqual(['first', 'second']);
    const [first] = s.log();
    expect(first?.attempts.map((a) => a.status ?? a.error)).toEqual([500, 'ECONNREFUSED', 200]);
    expect(first?.state).toBe('delivered');
  });

  it('gives up after webhookMaxAttempts and moves on', async () => {
    const t = new ScriptedTransport([500, 500]);
    const s = sender(t, 2);
    send(s, 'k', 'lost');
    send(s, 'k', 'next');
    await jest.advanceTimersByTimeAsync(100);
    await s.idle();
    expect(s.log().map((r) => r.state)).toEqual(['failed', 'delivered']);
    expect(t.tags()).toEqual(['next']);
  });

  it('duplicates every webhook N times with the same bytes and signature', async () => {
    const t = new ScriptedTransport();
    const s = sender(t);
    s.setFaults({ duplicateCount: 2 });
    send(s, 'k', 'dup');
    await s.idle();
    expect(t.tags()).toEqual(['dup', 'dup', 'dup']);
    expect(new Set(t.received.map((r) => r.signature)).size).toBe(1);
    expect(s.log().map((r) => r.copy)).toEqual([0, 1, 2]);
  });

  it('reorder holds the next call until its terminate and sends terminate first, once', async () => {
    const t = new ScriptedTransport();
    const s = sender(t);
    s.setFaults({ reorderNextCall: true });
    s.callStarted('call-1');
    send(s, 'call-1', 'connect');
    send(s, 'call-1', 'ringing', 'calls.status');
    await s.idle();
    expect(t.received).toHaveLength(0);
    expect(s.log().map((r) => r.state)).toEqual(['held', 'held']);
    send(s, 'call-1', 'terminate', 'calls.terminate');
    await s.idle();
    expect(t.tags()).toEqual(['terminate', 'connect', 'ringing']);
    expect(s.faults.reorderNextCall).toBe(false);
    s.callStarted('call-2');
    send(s, 'call-2', 'connect-2');
    await s.idle();
    expect(t.tags()).toEqual(['terminate', 'connect', 'ringing', 'connect-2']);
  });

  it('delays every webhook by delayMs', async () => {
    const t = new ScriptedTransport();
    const s = sender(t);
    s.setFaults({ delayMs: 5000 });
    send(s, 'k', 'late');
    await jest.advanceTimersByTimeAsync(4999);
    expect(t.received).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    await s.idle();
    expect(t.tags()).toEqual(['late']);
  });

  it('keys are independent: a failing key does not hold back another', async () => {
    const t = new ScriptedTransport([500]);
    const s = sender(t);
    send(s, 'a', 'a1');
    send(s, 'b', 'b1');
    await jest.advanceTimersByTimeAsync(0);
    expect(t.tags()).toEqual(['b1']);
    await jest.advanceTimersByTimeAsync(100);
    await s.idle();
    expect(t.tags()).toEqual(['b1', 'a1']);
  });

  it('reset drops what is queued; close stops deliveries', async () => {
    const t = new ScriptedTransport([500]);
    const s = sender(t);
    send(s, 'k', 'dropped');
    await jest.advanceTimersByTimeAsync(0);
    s.reset();
    timers.cancelAll();
    await s.idle();
    expect(s.log()).toEqual([]);
    s.close();
    send(s, 'k', 'after-close');
    await s.idle();
    expect(t.received).toHaveLength(0);
  });
});
