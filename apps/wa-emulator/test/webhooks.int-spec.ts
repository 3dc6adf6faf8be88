import { parseWebhook } from '@wagw/whatsapp';
import { businessAnswerSdp } from './fake-user-media';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';

const WA_ID = '15552225555';

describe('wa-emulator over HTTP: webhook delivery', () => {
  let h: EmulatorHarness;

  beforeEach(async () => {
    h = await startEmulatorHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  const userCall = async (): Promise<string> => (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;

  it('every webhook is signed over the exact bytes sent and parses with the gateway parser without rejections', async () => {
    const waCallId = await userCall();
    const sdp = businessAnswerSdp();
    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action: 'accept', session: { sdp_type: 'answer', sdp } });
    h.media.session(waCallId).receiveFromBusiness(3);
    await h.control('POST', `users/${WA_ID}/hangup`);
    await h.graph('POST', 'messages', { messaging_product: 'whatsapp', to: WA_ID, type: 'text', text: { body: 'hi' } });
    await h.receiver.waitFor((events) => events.some((e) => e.type === 'call.terminate') && events.some((e) => e.type === 'message_status.delivered'));

    expect(h.receiver.received.length).toBeGreaterThanOrEqual(4);
    for (const r of h.receiver.received) {
      expect(r.signatureOk).toBe(true);
      expect(parseWebhook(r.body).rejected).toEqual([]);
    }
    const log = await h.control('GET', 'webhooks');
    const bodies = new Set(h.receiver.received.map((r) => r.raw.toString('utf8')));
    expect(log.body.every((d: { payload: unknown }) => bodies.has(JSON.stringify(d.payload)))).toBe(true);
  });

  it('a receiver answering 500 gets the same webhook again (at-least-once), and the call keeps its order', async () => {
    h.receiver.failNext(2);
    const waCallId = await userCall();
    await h.control('POST', `users/${WA_ID}/hangup`);
    await h.receiver.waitForEvent(waCallId, 'call.terminate');

    expect(h.receiver.refused).toBe(2);
    expect(h.receiver.eventsOf(waCallId).map((e) => e.type)).toEqual(['call.connect', 'call.terminate']);
    const log = await h.control('GET', `webhooks?key=${encodeURIComponent(waCallId)}`);
    expect(log.body.map((d: { kind: string }) => d.kind)).toEqual(['calls.connect', 'calls.terminate']);
    expect(log.body[0].attempts.map((a: { status: number }) => a.status)).toEqual([500, 500, 200]);
    expect(log.body[0].state).toBe('delivered');
  });

  it('a receiver that is down gets the webhook once it answers again', async () => {
    h.receiver.failNext(3);
    const waCallId = await userCall();
    await h.receiver.waitForEvent(waCallId, 'call.connect');
    const log = await h.control('GET', 'webhooks?kind=calls.connect');
    expect(log.body[0].attempts).toHaveLength(4);
  });

  it('the duplicate switch sends every webhook N extra times with identical bytes', async () => {
    expect((await h.control('PUT', 'faults', { duplicateCount: 2 })).body).toEqual({ duplicateCount: 2, delayMs: 0, reorderNextCall: false, graphFailures: [] });
    const waCallId = await userCall();
    await h.receiver.waitFor((events) => events.filter((e) => e.id === waCallId).length === 3);
    const raws = h.receiver.received.map((r) => r.raw.toString('utf8'));
    expect(new Set(raws).size).toBe(1);
    expect(new Set(h.receiver.received.map((r) => r.signature)).size).toBe(1);
  });

  it('the reorder switch delivers the next call terminate before its connect', async () => {
    await h.control('PUT', 'faults', { reorderNextCall: true });
    const waCallId = await userCall();
    expect((await h.control('GET', `webhooks?key=${encodeURIComponent(waCallId)}`)).body.map((d: { state: string }) => d.state)).toEqual(['held']);
    await h.control('POST', `users/${WA_ID}/hangup`);
    await h.receiver.waitFor((events) => events.filter((e) => e.id === waCallId).length === 2);
    expect(h.receiver.eventsOf(waCallId).map((e) => e.type)).toEqual(['call.terminate', 'call.connect']);
    expect((await h.control('GET', 'faults')).body.reorderNextCall).toBe(false);

    const next = await userCall();
    await h.receiver.waitForEvent(next, 'call.connect');
  });

  it('the delay switch holds webhooks back before the first attempt', async () => {
    await h.control('PUT', 'faults', { delayMs: 1500 });
    const waCallId = await userCall();
    const queued = await h.control('GET', `webhooks?key=${encodeURIComponent(waCallId)}`);
    expect(queued.body[0]).toMatchObject({ state: 'queued', attempts: [] });
    expect(h.receiver.received).toHaveLength(0);
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    expect(connect.item['event']).toBe('connect');
    const delivered = await h.control('GET', `webhooks?key=${encodeURIComponent(waCallId)}`);
    expect(delivered.body[0].deliveredAt - delivered.body[0].enqueuedAt).toBeGreaterThanOrEqual(1500);
  });

  it('reset clears calls, users, faults and the log', async () => {
    await h.control('PUT', 'faults', { duplicateCount: 1 });
    const waCallId = await userCall();
    await h.receiver.waitFor((events) => events.filter((e) => e.id === waCallId).length === 2);
    expect((await h.control('POST', 'reset')).status).toBe(200);
    expect((await h.control('GET', 'calls')).body).toEqual([]);
    expect((await h.control('GET', 'webhooks')).body).toEqual([]);
    expect((await h.control('GET', 'faults')).body.duplicateCount).toBe(0);
    expect((await h.control('GET', `users/${WA_ID}`)).status).toBe(404);
    expect(h.media.session(waCallId).closed).toBe(true);
  });
});
