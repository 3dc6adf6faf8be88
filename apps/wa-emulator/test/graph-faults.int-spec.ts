import { businessAnswerSdp } from './fake-user-media';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';

const WA_ID = '15552227777';

describe('wa-emulator over HTTP: graphFailures fault', () => {
  let h: EmulatorHarness;

  beforeEach(async () => {
    h = await startEmulatorHarness({ acceptWindowMs: 30_000 });
    await h.control('POST', 'users', { waId: WA_ID });
  });

  afterEach(async () => {
    await h.close();
  });

  /** A Graph POST with the response headers (httpJson drops them). */
  const graphWithHeaders = async (path: string, body: unknown): Promise<{ status: number; retryAfter: string | null; body: Record<string, unknown> }> => {
    const { phoneNumberId, graphApiVersion, accessToken } = h.config.whatsapp;
    const res = await fetch(`${h.emulator.baseUrl}/${graphApiVersion}/${phoneNumberId}/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify(body),
    });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown> };
  };

  it('PUT /emulator/faults arms graph failures, GET shows what is left, invalid rules are refused with 400', async () => {
    const rule = { action: 'terminate', status: 503, count: 2, when: 'before' };
    const put = await h.control('PUT', 'faults', { graphFailures: [rule] });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ duplicateCount: 0, delayMs: 0, reorderNextCall: false, graphFailures: [rule] });

    for (const bad of [
      { ...rule, status: 404 },
      { ...rule, count: 0 },
      { ...rule, count: 11 },
      { ...rule, when: 'during' },
      { ...rule, action: 'dance' },
      { ...rule, extra: true },
      { action: 'connect', status: 503, when: 'after' },
    ]) {
      expect((await h.control('PUT', 'faults', { graphFailures: [bad] })).status).toBe(400);
    }
    expect((await h.control('GET', 'faults')).body.graphFailures).toEqual([rule]);
    expect((await h.control('PUT', 'faults', { graphFailures: [] })).body.graphFailures).toEqual([]);
  });

  it("a 429 'before' on messages answers Meta's rate-limit error with Retry-After, and sends nothing", async () => {
    await h.control('PUT', 'faults', { graphFailures: [{ action: 'messages', status: 429, count: 1, when: 'before', retryAfterS: 3 }] });
    const message = { messaging_product: 'whatsapp', to: WA_ID, type: 'text', text: { body: 'hello' } };

    const refused = await graphWithHeaders('messages', message);
    expect(refused.status).toBe(429);
    expect(refused.retryAfter).toBe('3');
    expect(refused.body).toEqual({
      error: {
        message: expect.stringContaining('80007'),
        type: 'OAuthException',
        code: 80007,
        is_transient: true,
        error_data: { details: expect.stringContaining('injected') },
        fbtrace_id: expect.any(String),
      },
    });
    const sent = await h.graph('POST', 'messages', message);
    expect(sent.status).toBe(200);
    const wamid = sent.body.messages[0].id as string;
    await h.receiver.waitForEvent(wamid, 'message_status.delivered');
    expect(h.receiver.events().filter((e) => e.type === 'message_status.sent')).toHaveLength(1);
  });

  it("a 503 'after' on terminate ends the call (one terminate webhook) yet answers the business 503", async () => {
    const waCallId = (await h.control('POST', `users/${WA_ID}/call`, {})).body.waCallId as string;
    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: waCallId, action: 'accept', session: { sdp_type: 'answer', sdp: businessAnswerSdp() } });
    await h.control('PUT', 'faults', { graphFailures: [{ action: 'terminate', status: 503, count: 1, when: 'after' }] });

    const res = await graphWithHeaders('calls', { messaging_product: 'whatsapp', call_id: waCallId, action: 'terminate' });
    expect(res.status).toBe(503);
    expect(res.retryAfter).toBeNull();
    expect(res.body['error']).toMatchObject({ code: 2, is_transient: true });
    await h.receiver.waitForEvent(waCallId, 'call.terminate');
    expect((await h.control('GET', `calls/${waCallId}`)).body).toMatchObject({ state: 'ended', endReason: 'business_terminate' });

    await h.emulator.core.webhooksIdle();
    expect(h.receiver.eventsOf(waCallId).filter((e) => e.type === 'call.terminate')).toHaveLength(1);
    expect((await h.control('GET', 'faults')).body.graphFailures).toEqual([]);
    const requests = await h.control('GET', `graph-requests?callId=${encodeURIComponent(waCallId)}`);
    expect(requests.body.map((r: { action: string; httpStatus: number }) => [r.action, r.httpStatus])).toEqual([
      ['accept', 200],
      ['terminate', 503],
    ]);
    expect((await h.control('GET', 'graph-requests?action=terminate')).body).toEqual([expect.objectContaining({ callId: waCallId, code: 2, injected: 'after' })]);
  });

  it('POST /emulator/reset disarms graph failures', async () => {
    await h.control('PUT', 'faults', { graphFailures: [{ status: 500, count: 5, when: 'before' }] });
    expect((await h.graph('GET', 'settings')).status).toBe(500);
    await h.control('POST', 'reset');
    expect((await h.graph('GET', 'settings')).status).toBe(200);
  });
});
