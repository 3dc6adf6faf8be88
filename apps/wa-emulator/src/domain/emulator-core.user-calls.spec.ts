import { parseWebhook } from '@wagw/whatsapp';
import { businessAnswerSdp, whatsappOfferSdp } from '../../test/fake-user-media';
import { type TestCore, freshTestCore } from '../../test/core-harness';
import { replyOf } from '../../test/webhook-events';
import { DAY_MS } from './clock';
import { GraphError } from './emulator.errors';

const WA_ID = '15552223333';
const ACCEPT_WINDOW_MS = 30_000;
const MEDIA_TIMEOUT_MS = 20_000;

async function graphError(p: Promise<unknown> | (() => unknown)): Promise<GraphError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}

describe('EmulatorCore: user-initiated calls', () => {
  let h: TestCore;

  freshTestCore((c) => (h = c), { acceptWindowMs: ACCEPT_WINDOW_MS, mediaTimeoutMs: MEDIA_TIMEOUT_MS });

  const call = (action: string, callId: string, sdp?: string, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
    h.core.callsAction({ messaging_product: 'whatsapp', call_id: callId, action, ...(sdp ? { session: { sdp_type: 'answer', sdp } } : {}), ...extra });

  it("a user's call sends a signed connect webhook carrying WhatsApp's offer, in Meta's shape", async () => {
    h.core.createUser(WA_ID, 'Jane');
    const { waCallId } = await h.core.userCall(WA_ID, { ctaPayload: 'queue=billing' });
    await h.core.webhooksIdle();

    const [body] = h.transport.bodies as Record<string, unknown>[];
    expect(h.transport.signaturesValid).toEqual([true]);
    expect(body).toMatchObject({ object: 'whatsapp_business_account', entry: [{ id: h.config.emulator.wabaId, changes: [{ field: 'calls' }] }] });
    const [event] = h.transport.events();
    expect(event?.value['metadata']).toEqual({ display_phone_number: h.config.whatsapp.businessNumber, phone_number_id: h.config.whatsapp.phoneNumberId });
    expect(event?.value['contacts']).toEqual([{ profile: { name: 'Jane' }, wa_id: WA_ID, user_id: expect.stringMatching(/^US\.\d{19}$/) }]);
    expect(event?.item).toEqual({
      id: waCallId,
      from: WA_ID,
      from_user_id: expect.any(String),
      to: h.config.whatsapp.businessNumber,
      event: 'connect',
      timestamp: expect.stringMatching(/^\d{10}$/),
      direction: 'USER_INITIATED',
      cta_payload: 'queue=billing',
      session: { sdp_type: 'offer', sdp: h.core.lifecycle.find(waCallId)?.offerSdp },
    });
    expect(parseWebhook(body).rejected).toEqual([]);
  });

  it('pre_accept refuses an SDP that is not an answer with 100 and the reason in error_data', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    const err = await graphError(call('pre_accept', waCallId, whatsappOfferSdp()));
    expect(err.metaCode).toBe(100);
    expect(err.httpStatus).toBe(400);
    expect(err.errorData?.details).toMatch(/actpass|ice-lite/);
    expect(h.core.lifecycle.find(waCallId)?.state).toBe('ringing');
  });

  it('accept must carry the pre_accept SDP byte for byte', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    const sdp = businessAnswerSdp();
    await call('pre_accept', waCallId, sdp);
    expect(h.media.session(waCallId).remoteSdp).toBe(sdp);

    const err = await graphError(call('accept', waCallId, sdp.replace('a=sendrecv', 'a=sendrecv\r\na=ptime:20')));
    expect(err.metaCode).toBe(100);
    expect(err.errorData?.details).toMatch(/identical to the SDP sent with pre_accept/);
    expect(h.core.lifecycle.find(waCallId)?.state).toBe('pre_accepted');

    await expect(call('accept', waCallId, sdp)).resolves.toEqual({ messaging_product: 'whatsapp', success: true });
    expect(h.core.lifecycle.find(waCallId)?.state).toBe('accepted');
  });

  it('accept without pre_accept applies the answer to the user media', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    const sdp = businessAnswerSdp();
    await call('accept', waCallId, sdp, { biz_opaque_callback_data: 'agent-42' });
    expect(h.media.session(waCallId).remoteSdp).toBe(sdp);
    expect(h.core.lifecycle.find(waCallId)?.bizOpaqueCallbackData).toBe('agent-42');
  });

  it('a call not accepted within the accept window ends: terminate COMPLETED without start_time or duration', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    await call('pre_accept', waCallId, businessAnswerSdp());
    await jest.advanceTimersByTimeAsync(ACCEPT_WINDOW_MS - 1);
    expect(h.core.lifecycle.find(waCallId)?.state).toBe('pre_accepted');
    await jest.advanceTimersByTimeAsync(1);
    await h.core.webhooksIdle();

    const terminate = h.transport.eventsOf(waCallId).find((e) => e.type === 'call.terminate');
    expect(terminate?.item).toMatchObject({ status: 'COMPLETED', direction: 'USER_INITIATED' });
    expect(terminate?.item).not.toHaveProperty('duration');
    expect(terminate?.item).not.toHaveProperty('start_time');
    expect(h.core.lifecycle.find(waCallId)?.endReason).toBe('not_answered');
    expect(h.media.session(waCallId).closed).toBe(true);
  });

  it('no media from the business within mediaTimeoutMs after accept ends the call FAILED with 138021', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    await call('accept', waCallId, businessAnswerSdp());
    await jest.advanceTimersByTimeAsync(MEDIA_TIMEOUT_MS);
    await h.core.webhooksIdle();

    const terminate = h.transport.eventsOf(waCallId).find((e) => e.type === 'call.terminate');
    expect(terminate?.item).toMatchObject({ status: 'FAILED', duration: expect.any(Number), start_time: expect.any(String) });
    expect(terminate?.value['errors']).toEqual([expect.objectContaining({ code: 138021, error_data: { details: expect.any(String) } })]);
    expect(h.core.lifecycle.find(waCallId)?.endReason).toBe('media_timeout');
  });

  it('media from the business keeps the call up; a later silence of one period fails it', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    await call('accept', waCallId, businessAnswerSdp());
    h.media.session(waCallId).receiveFromBusiness(50);
    await jest.advanceTimersByTimeAsync(MEDIA_TIMEOUT_MS);
    expect(h.core.lifecycle.find(waCallId)?.state).toBe('accepted');
    h.media.session(waCallId).receiveFromBusiness(50);
    await jest.advanceTimersByTimeAsync(MEDIA_TIMEOUT_MS);
    expect(h.core.lifecycle.find(waCallId)?.state).toBe('accepted');
    await jest.advanceTimersByTimeAsync(MEDIA_TIMEOUT_MS);
    expect(h.core.lifecycle.find(waCallId)?.endReason).toBe('media_timeout');
  });

  it('RTCP alone from the business keeps the call up (a hold without music, TS-2512)', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    await call('accept', waCallId, businessAnswerSdp());
    h.media.session(waCallId).receiveFromBusiness(50);
    for (let i = 0; i < 3; i++) {
      h.media.session(waCallId).receiveRtcpFromBusiness(1);
      await jest.advanceTimersByTimeAsync(MEDIA_TIMEOUT_MS);
      expect(h.core.lifecycle.find(waCallId)?.state).toBe('accepted');
    }
    await jest.advanceTimersByTimeAsync(MEDIA_TIMEOUT_MS);
    expect(h.core.lifecycle.find(waCallId)?.endReason).toBe('media_timeout');
  });

  it('the user hanging up an answered call sends terminate COMPLETED with start_time, end_time and duration', async () => {
    const { waCallId } = await h.core.userCall(WA_ID);
    await call('accept', waCallId, businessAnswerSdp());
    const connectedAt = h.core.clock.now();
    h.core.clock.advance(65_000);
    h.core.hangup(WA_ID);
    await h.core.webhooksIdle();

    const terminate = h.transport.eventsOf(waCallId).find((e) => e.type === 'call.terminate');
    expect(terminate?.item).toMatchObject({
      status: 'COMPLETED',
      start_time: String(Math.floor(connectedAt / 1000)),
      end_time: String(Math.floor((connectedAt + 65_000) / 1000)),
      duration: 65,
    });
    expect(h.transport.types(waCallId)).toEqual(['call.connect', 'call.terminate']);
    expect(h.media.session(waCallId).closed).toBe(true);
    expect(h.core.userView(WA_ID)['currentCall']).toBeNull();
  });

  it('actions on unknown or ended calls are refused with 100', async () => {
    expect((await graphError(call('terminate', 'wacid.nope'))).errorData?.details).toMatch(/not a valid call id/);
    const { waCallId } = await h.core.userCall(WA_ID);
    await call('terminate', waCallId);
    const err = await graphError(call('accept', waCallId, businessAnswerSdp()));
    expect(err.metaCode).toBe(100);
    expect(err.errorData?.details).toMatch(/already ended/);
  });

  it('reject ends a ringing call; after accept only terminate is allowed', async () => {
    const first = await h.core.userCall(WA_ID);
    await call('reject', first.waCallId);
    expect(h.core.lifecycle.find(first.waCallId)?.endReason).toBe('business_reject');
    const second = await h.core.userCall(WA_ID);
    await call('accept', second.waCallId, businessAnswerSdp());
    expect((await graphError(call('reject', second.waCallId))).errorData?.details).toMatch(/use terminate/);
    await call('terminate', second.waCallId);
    expect(h.core.lifecycle.find(second.waCallId)?.endReason).toBe('business_terminate');
  });

  it('with callback_permission_status ENABLED a user call grants temporary permission, context.id = the wacid', async () => {
    h.core.updateSettings({ calling: { callback_permission_status: 'ENABLED' } });
    const { waCallId } = await h.core.userCall(WA_ID);
    h.core.hangup(WA_ID);
    await h.core.webhooksIdle();

    const reply = h.transport.events().find((e) => e.type === 'call_permission_reply');
    expect(reply?.item['context']).toEqual({ from: WA_ID, id: waCallId });
    expect(replyOf(reply!)).toEqual({
      response: 'accept',
      is_permanent: false,
      expiration_timestamp: String(Math.floor((h.core.clock.now() + 7 * DAY_MS) / 1000)),
      response_source: 'automatic',
    });
    expect(h.core.callPermissions({ user_wa_id: WA_ID })['permission']).toMatchObject({ status: 'temporary' });
    expect(h.transport.types()).toContain('settings');
  });

  it('a connected user call resets the permission request quota', async () => {
    const request = { messaging_product: 'whatsapp', to: WA_ID, type: 'interactive', interactive: { type: 'call_permission_request', action: { name: 'call_permission_request' } } };
    h.core.sendMessage(request);
    expect((await graphError(() => h.core.sendMessage(request))).metaCode).toBe(138009);
    const { waCallId } = await h.core.userCall(WA_ID);
    await call('accept', waCallId, businessAnswerSdp());
    expect(() => h.core.sendMessage(request)).not.toThrow();
  });
});
