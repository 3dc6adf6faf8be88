import { businessAnswerSdp, businessOfferSdp } from './fake-user-media';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';
import { replyOf } from './webhook-events';
import type { HttpResult } from './webhook-receiver';

const WA_ID = '15552229999';
const DAY_MS = 86_400_000;
const PERMISSION_REQUEST = {
  messaging_product: 'whatsapp',
  recipient_type: 'individual',
  to: WA_ID,
  type: 'interactive',
  interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' }, body: { text: 'About your order' } },
};

describe('wa-emulator over HTTP: permissions and business-initiated calls', () => {
  let h: EmulatorHarness;

  beforeEach(async () => {
    h = await startEmulatorHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  const connect = (): Promise<HttpResult> =>
    h.graph('POST', 'calls', { messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp: businessOfferSdp() } });
  const behave = (body: Record<string, unknown>): Promise<HttpResult> => h.control('PUT', `users/${WA_ID}/behaviour`, body);
  const requestPermission = async (): Promise<string> => {
    const res = await h.graph('POST', 'messages', PERMISSION_REQUEST);
    expect(res.status).toBe(200);
    return res.body.messages[0].id as string;
  };
  const grantPermanent = async (): Promise<void> => {
    await requestPermission();
    expect((await h.control('POST', `users/${WA_ID}/permission-reply`, { choice: 'always_allow' })).status).toBe(200);
  };
  /** Places a call the user declines at once or ignores (ring timeout), and waits for its terminate. */
  const unanswered = async (incomingCall: 'reject' | 'ignore'): Promise<void> => {
    await behave({ incomingCall, answerAfterMs: 0 });
    const res = await connect();
    expect(res.status).toBe(200);
    await h.receiver.waitForEvent(res.body.calls[0].id, 'call.terminate');
  };

  it('connect without permission: 401/138006 in Meta error shape', async () => {
    const res = await connect();
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: { message: expect.any(String), type: 'OAuthException', code: 138006, error_data: { details: expect.any(String) }, fbtrace_id: expect.any(String) } });
  });

  it('request, allow_once, then a call the user answers: connect (answer), RINGING, ACCEPTED; business terminate ends it', async () => {
    const wamid = await requestPermission();
    await h.receiver.waitForEvent(wamid, 'message_status.delivered');
    expect(h.receiver.eventsOf(wamid).map((e) => e.type)).toEqual(['message_status.sent', 'message_status.delivered']);

    const reply = await h.control('POST', `users/${WA_ID}/permission-reply`, { choice: 'allow_once', requestId: wamid });
    expect(reply.body).toMatchObject({ requestId: wamid, response: 'accept', isPermanent: false, expirationTimestamp: expect.any(Number) });
    const events = await h.receiver.waitFor((evs) => evs.some((e) => e.type === 'call_permission_reply'));
    const replyEvent = events.find((e) => e.type === 'call_permission_reply');
    expect(replyEvent?.item['context']).toEqual({ from: WA_ID, id: wamid });
    expect(replyOf(replyEvent!)).toEqual({ response: 'accept', is_permanent: false, expiration_timestamp: String(reply.body.expirationTimestamp), response_source: 'user_action' });
    const perms = await h.graph('GET', `call_permissions?user_wa_id=${WA_ID}`);
    expect(perms.body.permission).toEqual({ status: 'temporary', expiration_time: reply.body.expirationTimestamp });

    await behave({ incomingCall: 'accept', answerAfterMs: 0 });
    const res = await connect();
    expect(res.body).toEqual({ messaging_product: 'whatsapp', calls: [{ id: expect.stringMatching(/^wacid\./) }] });
    const id = res.body.calls[0].id as string;
    await h.receiver.waitForEvent(id, 'status.ACCEPTED');
    expect(h.receiver.eventsOf(id).map((e) => e.type)).toEqual(['call.connect', 'status.RINGING', 'status.ACCEPTED']);
    expect(h.receiver.eventsOf(id)[0]?.item['session']).toEqual({ sdp_type: 'answer', sdp: expect.stringContaining('v=0') });

    h.media.session(id).receiveFromBusiness(10);
    expect((await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: id, action: 'terminate' })).status).toBe(200);
    const terminate = await h.receiver.waitForEvent(id, 'call.terminate');
    expect(terminate.item).toMatchObject({ status: 'COMPLETED', direction: 'BUSINESS_INITIATED', duration: expect.any(Number) });
  });

  it('4 unanswered or rejected calls in a row revoke the permission (reject/automatic, no context); then 138006', async () => {
    await grantPermanent();
    await unanswered('reject');
    await unanswered('ignore');
    await unanswered('reject');
    await unanswered('reject');
    const events = await h.receiver.waitFor((evs) => evs.some((e) => e.type === 'call_permission_reply' && replyOf(e)['response'] === 'reject'));
    const revoke = events.find((e) => e.type === 'call_permission_reply' && replyOf(e)['response'] === 'reject');
    expect(replyOf(revoke!)).toEqual({ response: 'reject', response_source: 'automatic' });
    expect(revoke?.item).not.toHaveProperty('context');
    expect((await connect()).body.error.code).toBe(138006);
  });

  it('the daily connected-call cap gives 138012 with the next allowed time; the clock frees it after 24 h', async () => {
    await h.close();
    h = await startEmulatorHarness({ dailyConnectedCallCap: 1 });
    await grantPermanent();
    await behave({ incomingCall: 'accept', answerAfterMs: 0 });
    const first = (await connect()).body.calls[0].id as string;
    await h.receiver.waitForEvent(first, 'status.ACCEPTED');
    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: first, action: 'terminate' });

    const capped = await connect();
    expect(capped.status).toBe(400);
    expect(capped.body.error).toMatchObject({ code: 138012, error_data: { details: expect.any(String), next_allowed_call_time: expect.any(Number) } });
    const perms = await h.graph('GET', `call_permissions?user_wa_id=${WA_ID}`);
    expect(perms.body.actions[1]).toMatchObject({ action_name: 'start_call', can_perform_action: false, limits: [{ max_allowed: 1, current_usage: 1 }] });

    await h.control('POST', 'clock/advance', { ms: DAY_MS });
    expect((await connect()).status).toBe(200);
  });

  it('a permanent permission outlives any clock advance until the user revokes it', async () => {
    await grantPermanent();
    await h.control('POST', 'clock/advance', { ms: 90 * DAY_MS });
    await behave({ incomingCall: 'ignore' });
    expect((await connect()).status).toBe(200);
    await h.control('POST', `users/${WA_ID}/hangup`);
    const revoked = await h.control('POST', `users/${WA_ID}/revoke`, {});
    expect(revoked.body.permission.status).toBe('no_permission');
    expect((await connect()).body.error.code).toBe(138006);
  });

  it('a connected call resets the unanswered streak: 3 declined, 1 answered, 3 declined keep the permission', async () => {
    await grantPermanent();
    for (let i = 0; i < 3; i++) await unanswered('reject');
    await behave({ incomingCall: 'accept', answerAfterMs: 0 });
    const answered = (await connect()).body.calls[0].id as string;
    await h.receiver.waitForEvent(answered, 'status.ACCEPTED');
    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: answered, action: 'terminate' });
    for (let i = 0; i < 3; i++) await unanswered('reject');
    expect((await h.graph('GET', `call_permissions?user_wa_id=${WA_ID}`)).body.permission).toEqual({ status: 'permanent' });
    expect((await h.control('GET', `users/${WA_ID}`)).body.permission.unansweredStreak).toBe(3);
  });

  it('an answered business call whose business sends no media ends FAILED with 138021', async () => {
    await h.close();
    h = await startEmulatorHarness({ mediaTimeoutMs: 1000 });
    await grantPermanent();
    await behave({ incomingCall: 'accept', answerAfterMs: 0 });
    const id = (await connect()).body.calls[0].id as string;
    const terminate = await h.receiver.waitForEvent(id, 'call.terminate');
    expect(terminate.item).toMatchObject({ status: 'FAILED', direction: 'BUSINESS_INITIATED' });
    expect(terminate.value['errors']).toEqual([expect.objectContaining({ code: 138021 })]);
  });

  it('a temporary permission expires after 7 days of emulator clock', async () => {
    await requestPermission();
    await h.control('POST', `users/${WA_ID}/permission-reply`, { choice: 'allow_once' });
    await h.control('POST', 'clock/advance', { ms: 7 * DAY_MS - 1000 });
    await behave({ incomingCall: 'ignore' });
    const ok = await connect();
    expect(ok.status).toBe(200);
    await h.control('POST', `users/${WA_ID}/hangup`);
    await h.control('POST', 'clock/advance', { ms: 1000 });
    expect((await connect()).body.error.code).toBe(138006);
  });

  it('a second call to a user in a call is 138003; a ringing call can be answered or rejected by hand; ring timeout ends it', async () => {
    await grantPermanent();
    await behave({ incomingCall: 'ignore' });
    const first = (await connect()).body.calls[0].id as string;
    expect((await connect()).body.error.code).toBe(138003);
    expect((await h.control('POST', `users/${WA_ID}/answer`)).status).toBe(200);
    await h.receiver.waitForEvent(first, 'status.ACCEPTED');
    expect((await h.control('POST', `users/${WA_ID}/answer`)).status).toBe(409);
    expect((await h.control('POST', `users/${WA_ID}/hangup`)).status).toBe(200);
    await h.receiver.waitForEvent(first, 'call.terminate');

    const second = (await connect()).body.calls[0].id as string;
    await h.control('POST', `users/${WA_ID}/reject`);
    await h.receiver.waitForEvent(second, 'call.terminate');
    expect(h.receiver.eventsOf(second).map((e) => e.type)).toEqual(['call.connect', 'status.RINGING', 'status.REJECTED', 'call.terminate']);

    const third = (await connect()).body.calls[0].id as string;
    await h.receiver.waitForEvent(third, 'call.terminate');
    expect((await h.control('GET', `calls/${third}`)).body.endReason).toBe('ring_timeout');
  });

  it('permission requests: 1 per 24 h and 2 per 7 days (138009), reset by a connected call; 138017 once permanent', async () => {
    await requestPermission();
    const second = await h.graph('POST', 'messages', PERMISSION_REQUEST);
    expect(second.status).toBe(400);
    expect(second.body.error).toMatchObject({ code: 138009, error_data: { details: expect.stringContaining('24 hours') } });
    await h.control('POST', 'clock/advance', { ms: DAY_MS });
    await requestPermission();
    await h.control('POST', 'clock/advance', { ms: DAY_MS });
    expect((await h.graph('POST', 'messages', PERMISSION_REQUEST)).body.error.error_data.details).toMatch(/7 days/);

    const call = await h.control('POST', `users/${WA_ID}/call`, {});
    await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: call.body.waCallId, action: 'accept', session: { sdp_type: 'answer', sdp: businessAnswerSdp() } });
    await h.control('POST', `users/${WA_ID}/hangup`);
    await requestPermission();

    await h.control('POST', `users/${WA_ID}/permission-reply`, { choice: 'always_allow' });
    await h.control('POST', 'clock/advance', { ms: DAY_MS });
    expect((await h.graph('POST', 'messages', PERMISSION_REQUEST)).body.error.code).toBe(138017);
  });

  it('a template registered as a permission template counts as a request', async () => {
    await h.control('POST', 'templates', { name: 'callback_consent' });
    const template = { messaging_product: 'whatsapp', to: WA_ID, type: 'template', template: { name: 'callback_consent', language: { code: 'en_US' } } };
    expect((await h.graph('POST', 'messages', template)).status).toBe(200);
    expect((await h.graph('POST', 'messages', template)).body.error.code).toBe(138009);
    const user = await h.control('GET', `users/${WA_ID}`);
    expect(user.body.pendingPermissionRequests).toEqual([expect.objectContaining({ via: 'template', state: 'pending' })]);
  });
});
