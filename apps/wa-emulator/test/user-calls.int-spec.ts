import { businessAnswerSdp } from './fake-user-media';
import { type EmulatorHarness, startEmulatorHarness } from './emulator-harness';
import { replyOf } from './webhook-events';
import { httpJson } from './webhook-receiver';

const WA_ID = '15552223333';

describe('wa-emulator over HTTP: user-initiated calls', () => {
  let h: EmulatorHarness;

  beforeEach(async () => {
    h = await startEmulatorHarness();
  });

  afterEach(async () => {
    await h.close();
  });

  const action = (act: string, callId: string, sdp?: string, sdpType = 'answer'): ReturnType<EmulatorHarness['graph']> =>
    h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: callId, action: act, ...(sdp ? { session: { sdp_type: sdpType, sdp } } : {}) });
  const userCall = async (): Promise<string> => {
    const res = await h.control('POST', `users/${WA_ID}/call`, {});
    expect(res.status).toBe(200);
    return res.body.waCallId as string;
  };

  it("Graph requests need the bearer token (401/190) and the business's phone number id (400/100), in Meta's error shape", async () => {
    const bad = await h.graph('GET', 'settings', undefined, 'wrong-token');
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ error: { message: expect.stringContaining('access token'), type: 'OAuthException', code: 190, fbtrace_id: expect.any(String) } });

    const { graphApiVersion, accessToken } = h.config.whatsapp;
    const other = await httpJson('GET', `${h.emulator.baseUrl}/${graphApiVersion}/999/settings`, undefined, { authorization: `Bearer ${accessToken}` });
    expect(other.status).toBe(400);
    expect(other.body.error).toMatchObject({ code: 100, error_subcode: 33, type: 'GraphMethodException' });
  });

  it('a user calls: signed connect with the offer; pre_accept and accept with the same answer; hang-up sends terminate with duration', async () => {
    const waCallId = await userCall();
    const connect = await h.receiver.waitForEvent(waCallId, 'call.connect');
    expect(connect.item).toMatchObject({ from: WA_ID, to: h.config.whatsapp.businessNumber, direction: 'USER_INITIATED', session: { sdp_type: 'offer' } });
    expect(h.receiver.received.every((r) => r.signatureOk)).toBe(true);

    const sdp = businessAnswerSdp();
    const pre = await action('pre_accept', waCallId, sdp);
    expect(pre).toEqual({ status: 200, body: { messaging_product: 'whatsapp', success: true } });
    expect(h.media.session(waCallId).remoteSdp).toBe(sdp);
    expect((await action('accept', waCallId, sdp)).status).toBe(200);
    h.media.session(waCallId).receiveFromBusiness(10);

    await h.control('POST', 'clock/advance', { ms: 42_000 });
    expect((await h.control('POST', `users/${WA_ID}/hangup`)).status).toBe(200);
    const terminate = await h.receiver.waitForEvent(waCallId, 'call.terminate');
    expect(terminate.item).toMatchObject({ status: 'COMPLETED', duration: 42, start_time: expect.any(String), end_time: expect.any(String) });
    expect(h.media.session(waCallId).closed).toBe(true);

    const detail = await h.control('GET', `calls/${waCallId}`);
    expect(detail.body.timeline.map((e: { event: string }) => e.event)).toEqual(
      expect.arrayContaining(['user_called', 'pre_accepted', 'connected', 'user_hung_up', 'terminated']),
    );
  });

  it("pre_accept refuses an SDP that is not an answer; accept refuses an SDP that differs from pre_accept's (100, error_data)", async () => {
    const waCallId = await userCall();
    const sdp = businessAnswerSdp();
    const notAnswer = await action('pre_accept', waCallId, sdp.replace('a=setup:active', 'a=setup:actpass'));
    expect(notAnswer.status).toBe(400);
    expect(notAnswer.body.error).toMatchObject({ code: 100, error_data: { details: expect.stringMatching(/actpass/) } });

    const noFingerprint = await action('accept', waCallId, sdp.replace(/a=fingerprint:[^\r]*\r\n/, ''));
    expect(noFingerprint.body.error.error_data.details).toMatch(/fingerprint/);

    expect((await action('pre_accept', waCallId, sdp, 'offer')).status).toBe(200); // §9: both spellings
    const differs = await action('accept', waCallId, sdp.replace('a=mid:audio', 'a=mid:0'));
    expect(differs.status).toBe(400);
    expect(differs.body.error.error_data.details).toMatch(/identical to the SDP sent with pre_accept/);
    expect((await action('accept', waCallId, sdp)).status).toBe(200);
  });

  it('a call not accepted within the accept window ends with terminate, no duration', async () => {
    const waCallId = await userCall();
    await action('pre_accept', waCallId, businessAnswerSdp());
    const terminate = await h.receiver.waitForEvent(waCallId, 'call.terminate');
    expect(terminate.item['status']).toBe('COMPLETED');
    expect(terminate.item).not.toHaveProperty('duration');
    expect((await h.control('GET', `calls/${waCallId}`)).body.endReason).toBe('not_answered');
    const late = await action('accept', waCallId, businessAnswerSdp());
    expect(late.status).toBe(400);
    expect(late.body.error.error_data.details).toMatch(/already ended/);
  });

  it('an accepted call whose business sends no media ends FAILED with errors[] 138021', async () => {
    await h.close();
    h = await startEmulatorHarness({ mediaTimeoutMs: 1000 });
    const waCallId = await userCall();
    await action('accept', waCallId, businessAnswerSdp());
    const terminate = await h.receiver.waitForEvent(waCallId, 'call.terminate');
    expect(terminate.item['status']).toBe('FAILED');
    expect(terminate.value['errors']).toEqual([
      { code: 138021, message: 'Media receive timeout', href: expect.any(String), error_data: { details: expect.stringContaining('No media') } },
    ]);
  });

  it('actions on an unknown call, and reject after accept, are refused with 100', async () => {
    const unknown = await action('terminate', 'wacid.unknown');
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toMatchObject({ code: 100, error_data: { details: expect.stringMatching(/not a valid call id/) } });
    const badAction = await h.graph('POST', 'calls', { messaging_product: 'whatsapp', call_id: 'x', action: 'hold' });
    expect(badAction.body.error.error_data.details).toMatch(/action must be one of/);

    const waCallId = await userCall();
    await action('accept', waCallId, businessAnswerSdp());
    h.media.session(waCallId).receiveFromBusiness(5);
    expect((await action('reject', waCallId)).body.error.error_data.details).toMatch(/use terminate/);
    expect((await action('terminate', waCallId)).status).toBe(200);
    await h.receiver.waitForEvent(waCallId, 'call.terminate');
  });

  it('with callback_permission_status ENABLED, a call grants temporary permission (automatic reply, context.id = wacid)', async () => {
    const set = await h.graph('POST', 'settings', { calling: { callback_permission_status: 'ENABLED' } });
    expect(set).toEqual({ status: 200, body: { success: true } });
    const settings = await h.receiver.waitFor((events) => events.some((e) => e.type === 'settings'));
    expect(settings.find((e) => e.type === 'settings')?.item).toMatchObject({
      type: 'phone_number_settings',
      phone_number_settings: { phone_number_id: h.config.whatsapp.phoneNumberId, calling: { callback_permission_status: 'ENABLED', status: 'ENABLED' } },
    });

    const waCallId = await userCall();
    await h.control('POST', `users/${WA_ID}/hangup`);
    const events = await h.receiver.waitFor((evs) => evs.some((e) => e.type === 'call_permission_reply'));
    const reply = events.find((e) => e.type === 'call_permission_reply');
    expect(reply?.item['context']).toEqual({ from: WA_ID, id: waCallId });
    expect(replyOf(reply!)).toMatchObject({ response: 'accept', is_permanent: false, response_source: 'automatic', expiration_timestamp: expect.any(String) });
    const perms = await h.graph('GET', `call_permissions?user_wa_id=${WA_ID}`);
    expect(perms.body.permission).toMatchObject({ status: 'temporary', expiration_time: Number(replyOf(reply!)['expiration_timestamp']) });
  });
});
