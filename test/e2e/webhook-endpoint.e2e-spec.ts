import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CallRecord } from '@wagw/call-state';
import { signWebhookBody } from '@wagw/whatsapp';
import { MediaBusClient } from '../../apps/signalling/src/media/media-bus.client';
import { WebhookIngestService } from '../../apps/signalling/src/webhooks/webhook-ingest.service';
import { eventually, startStack, type Stack } from '../support/stack';
import { expectNoLeaks } from '../support/leaks';
import { scrapedSample } from '../support/metrics';

/**
 * The signalling app's WhatsApp callback URL, booted with the media app and the emulator: the signature over
 * the exact bytes (401 and nothing applied otherwise), 400 for a body that is not JSON, 200 + dead letter for
 * shapes it cannot use, de-duplication of a connect delivered 20 times at once, and the hub.challenge
 * handshake. The connects are the emulator's own (a real werift offer); the emulator's delivery is held
 * back (delay fault) so each test posts the bytes itself.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'webhooks');
const fixture = (kind: 'good' | 'bad', name: string): Buffer => readFileSync(join(FIXTURES, kind, `${name}.json`));

interface DeadLetters {
  total: number;
  items: { receivedAt: string; path: string; reason: string; raw: unknown }[];
}

describe('POST /webhooks/whatsapp on the booted signalling app', () => {
  const user = '15552224242';
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ name: 'webhook-endpoint' });
    // The emulator keeps its webhooks to itself for 10 minutes: only what a test posts reaches signalling.
    await stack.emu('PUT', '/emulator/faults', { delayMs: 600_000 });
    await stack.emu('POST', '/emulator/users', { waId: user, name: 'Jane' });
  });

  // its calls come from webhooks posted by hand: no WhatsApp user hangs them up
  afterEach(() => expectNoLeaks(stack, { endLiveCalls: true }));
  afterEach(async () => {
    await stack.close();
  });

  const url = (): string => `${stack.signalling.baseUrl}/webhooks/whatsapp`;
  const sign = (body: Buffer | string): string => signWebhookBody(body, stack.config.whatsapp.appSecret);

  async function post(body: Buffer | string, signature?: string): Promise<{ status: number; text: string }> {
    const res = await fetch(url(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }) },
      body: typeof body === 'string' ? body : new Uint8Array(body),
    });
    return { status: res.status, text: await res.text() };
  }

  /** A user call at the emulator; returns its connect webhook exactly as the emulator would send it. */
  async function emulatorConnect(): Promise<{ waCallId: string; body: Buffer }> {
    const { waCallId } = await stack.emu<{ waCallId: string }>('POST', `/emulator/users/${user}/call`, {});
    const [held] = await stack.emu<{ payload: unknown; signature: string; state: string }[]>('GET', `/emulator/webhooks?key=${encodeURIComponent(waCallId)}&kind=calls.connect`);
    if (!held) throw new Error(`no connect webhook logged for ${waCallId}`);
    expect(held.state).toBe('queued');
    const body = Buffer.from(JSON.stringify(held.payload), 'utf8');
    expect(sign(body)).toBe(held.signature); // the same bytes the emulator signed
    return { waCallId, body };
  }

  const ingestIdle = (): Promise<void> => stack.signalling.app.get(WebhookIngestService).idle();
  const graphRequests = (query: string): Promise<{ action: string; httpStatus: number }[]> => stack.emu('GET', `/emulator/graph-requests?${query}`);
  const deadLetters = async (): Promise<DeadLetters> => (await stack.api('GET', '/v1/webhooks/dead-letters')).body as DeadLetters;

  it('a connect with a good signature is acknowledged with 200 and applied: the call is answered and recorded', async () => {
    const { waCallId, body } = await emulatorConnect();

    const res = await post(body, sign(body));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toEqual({ received: true });

    const record = await eventually(`call ${waCallId} active`, async () => {
      const r = await stack.api('GET', `/v1/calls/${waCallId}`);
      return r.status === 200 && (r.body as CallRecord).state === 'active' ? (r.body as CallRecord) : undefined;
    }, 15_000);
    expect(record).toMatchObject({ direction: 'inbound', waCallId, userWaId: user, userName: 'Jane' });
    expect((await graphRequests(`callId=${encodeURIComponent(waCallId)}`)).map((r) => [r.action, r.httpStatus])).toEqual([
      ['pre_accept', 200],
      ['accept', 200],
    ]);
    expect((await stack.emu<{ state: string }>('GET', `/emulator/calls/${waCallId}`)).state).toBe('accepted');
  });

  it('a wrong, missing or malformed signature, or a body altered by one byte, is 401 and nothing is applied', async () => {
    const { waCallId, body } = await emulatorConnect();
    const keysBefore = await stack.keys();
    const altered = Buffer.from(body);
    const at = altered.indexOf('"Jane"') + 2;
    altered[at] = 'o'.charCodeAt(0); // still valid JSON, "Jone": only the signature can tell
    expect(() => JSON.parse(altered.toString('utf8'))).not.toThrow();

    const attempts: [string, Buffer, string | undefined][] = [
      ['signed with another secret', body, signWebhookBody(body, 'not-the-app-secret')],
      ['no signature header', body, undefined],
      ['empty signature header', body, ''],
      ['not sha256=<64 hex>', body, 'sha256=abc'],
      ['another algorithm', body, sign(body).replace('sha256=', 'sha1=')],
      ['one byte altered after signing', altered, sign(body)],
    ];
    for (const [what, bytes, signature] of attempts) {
      const res = await post(bytes, signature);
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
    }

    await ingestIdle();
    expect((await stack.api('GET', `/v1/calls/${waCallId}`)).status).toBe(404);
    expect(await stack.keys()).toEqual(keysBefore);
    expect(await graphRequests(`callId=${encodeURIComponent(waCallId)}`)).toEqual([]);
    expect((await deadLetters()).total).toBe(0);
  });

  it('a body that is not JSON, correctly signed, is 400 and nothing is applied', async () => {
    const keysBefore = await stack.keys();
    for (const text of ['{"object": "whatsapp_business_account", "entry": [', 'hello', '']) {
      const res = await post(text, sign(text));
      expect({ text, status: res.status }).toEqual({ text, status: 400 });
    }
    await ingestIdle();
    expect(await stack.keys()).toEqual(keysBefore);
    expect((await deadLetters()).total).toBe(0);
  });

  it('well-formed JSON of an unknown or invalid shape is acknowledged with 200 and parked in the dead-letter list with its reason', async () => {
    const cases: [Buffer, string, RegExp][] = [
      [fixture('bad', 'connect-without-call-id'), 'entry[0].changes[0].value.calls[0]', /id is missing/],
      [fixture('bad', 'wrong-object'), '$', /whatsapp_business_account/],
      [Buffer.from(JSON.stringify({ hello: 'world' })), '$', /.+/],
    ];
    for (const [body] of cases) expect((await post(body, sign(body))).status).toBe(200);

    await ingestIdle();
    const letters = await deadLetters();
    expect(letters.total).toBe(cases.length);
    for (const [body, path, reason] of cases) {
      const raw = path === '$' ? JSON.parse(body.toString('utf8')) : (JSON.parse(body.toString('utf8')) as { entry: { changes: { value: { calls: unknown[] } }[] }[] }).entry[0]?.changes[0]?.value.calls[0];
      expect(letters.items).toContainEqual({ receivedAt: expect.any(String), path, reason: expect.stringMatching(reason), raw });
    }
    const callKeys = (await stack.keys()).filter((k) => k.startsWith(`${stack.config.redis.keyPrefix}:call:`));
    expect(callKeys).toEqual([]);
  });

  it("a connect for another phone number of the account is acknowledged, parked with why, and nothing is answered", async () => {
    const { waCallId, body } = await emulatorConnect();
    const other = JSON.parse(body.toString('utf8')) as { entry: { changes: { value: { metadata: { phone_number_id: string } } }[] }[] };
    other.entry[0]!.changes[0]!.value.metadata.phone_number_id = '100000000000999';
    const signed = Buffer.from(JSON.stringify(other), 'utf8');
    expect((await post(signed, sign(signed))).status).toBe(200);

    await ingestIdle();
    const letters = await deadLetters();
    expect(letters.items).toEqual([
      {
        receivedAt: expect.any(String),
        path: 'phone_number_id 100000000000999',
        reason: `call.connect for phone number id 100000000000999, not this gateway's (whatsapp.phoneNumberId ${stack.config.whatsapp.phoneNumberId}): ignored`,
        raw: expect.objectContaining({ kind: 'call.connect', waCallId }),
      },
    ]);
    expect((await stack.keys()).filter((k) => k.startsWith(`${stack.config.redis.keyPrefix}:call:`))).toEqual([]);
    expect(await graphRequests(`callId=${encodeURIComponent(waCallId)}`)).toEqual([]);
    expect(await scrapedSample(stack.signalling.baseUrl, 'wagw_webhooks_total', { result: 'other_number' })).toBe(1);
  });

  it('the same signed connect posted 20 times at once gives 20 acks, one call record and one pre_accept', async () => {
    const { waCallId, body } = await emulatorConnect();
    const signature = sign(body);

    const results = await Promise.all(Array.from({ length: 20 }, () => post(body, signature)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));

    await ingestIdle();
    const prefix = stack.config.redis.keyPrefix;
    const callKeys = (await stack.keys()).filter((k) => k.startsWith(`${prefix}:call:`));
    expect(callKeys).toHaveLength(1);
    const { active, recent } = (await stack.api('GET', '/v1/calls')).body as { active: CallRecord[]; recent: CallRecord[] };
    expect([...active, ...recent].filter((c) => c.waCallId === waCallId)).toHaveLength(1);
    expect(await graphRequests(`action=pre_accept&callId=${encodeURIComponent(waCallId)}`)).toHaveLength(1);
    expect(await graphRequests('action=pre_accept')).toHaveLength(1);
    expect((await stack.signalling.app.get(MediaBusClient).listLegs()).legs).toHaveLength(1);
  });

  it('the GET hub.challenge handshake echoes the challenge for the verify token and refuses anything else with 403', async () => {
    const handshake = async (params: Record<string, string>): Promise<{ status: number; text: string }> => {
      const res = await fetch(`${url()}?${new URLSearchParams(params).toString()}`);
      return { status: res.status, text: await res.text() };
    };
    const token = stack.config.whatsapp.verifyToken;

    expect(await handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': token, 'hub.challenge': '1158201444' })).toEqual({ status: 200, text: '1158201444' });
    expect((await handshake({ 'hub.mode': 'subscribe', 'hub.verify_token': `${token}x`, 'hub.challenge': '1158201444' })).status).toBe(403);
    expect((await handshake({ 'hub.mode': 'subscribe', 'hub.challenge': '1158201444' })).status).toBe(403);
    expect((await handshake({ 'hub.mode': 'unsubscribe', 'hub.verify_token': token, 'hub.challenge': '1158201444' })).status).toBe(403);
  });
});
