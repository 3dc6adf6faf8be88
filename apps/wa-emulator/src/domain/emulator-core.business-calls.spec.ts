import { parseWebhook } from '@wagw/whatsapp';
import { businessOfferSdp } from '../../test/fake-user-media';
import { type TestCore, freshTestCore } from '../../test/core-harness';
import { replyOf } from '../../test/webhook-events';
import { DAY_MS } from './clock';
import { GraphError } from './emulator.errors';
import type { UserBehaviour } from './users.registry';

const WA_ID = '15552228888';
const RING_TIMEOUT_MS = 45_000;
const MEDIA_TIMEOUT_MS = 20_000;
const ANSWER_AFTER_MS = 2_000;

async function graphError(p: Promise<unknown>): Promise<GraphError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof GraphError) return err;
    throw err;
  }
  throw new Error('expected a GraphError');
}

describe('EmulatorCore: business-initiated calls', () => {
  let h: TestCore;

  freshTestCore((c) => {
    h = c;
    h.core.createUser(WA_ID, 'Sam');
  }, { ringTimeoutMs: RING_TIMEOUT_MS, mediaTimeoutMs: MEDIA_TIMEOUT_MS, dailyConnectedCallCap: 2 });

  const grantPermanent = (): void => h.core.users.get(WA_ID).permissions.grantPermanent(h.core.clock.now());
  const behave = (incomingCall: UserBehaviour['incomingCall']): void => {
    h.core.setBehaviour(WA_ID, { incomingCall, answerAfterMs: ANSWER_AFTER_MS });
  };
  const connect = async (extra: Record<string, unknown> = {}): Promise<string> => {
    const res = await h.core.callsAction({ messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp: businessOfferSdp() }, ...extra });
    return ((res['calls'] as { id: string }[])[0] as { id: string }).id;
  };
  /** One call that ends unanswered (ring timeout) or declined. */
  const unansweredCall = async (how: 'reject' | 'ignore'): Promise<void> => {
    behave(how);
    await connect();
    await jest.advanceTimersByTimeAsync(how === 'reject' ? ANSWER_AFTER_MS : RING_TIMEOUT_MS);
  };
  const answeredCall = async (): Promise<string> => {
    behave('accept');
    const id = await connect();
    await jest.advanceTimersByTimeAsync(ANSWER_AFTER_MS);
    await h.core.callsAction({ messaging_product: 'whatsapp', call_id: id, action: 'terminate' });
    return id;
  };

  it('connect without a call permission is refused with 138006', async () => {
    const err = await graphError(connect());
    expect([err.metaCode, err.httpStatus]).toEqual([138006, 401]);
    expect(h.core.listCalls()).toEqual([]);
  });

  it('connect returns the call id, then connect (answer) and RINGING webhooks; the user answers: ACCEPTED', async () => {
    grantPermanent();
    behave('accept');
    const res = await h.core.callsAction({
      messaging_product: 'whatsapp',
      to: WA_ID,
      action: 'connect',
      session: { sdp_type: 'offer', sdp: businessOfferSdp() },
      biz_opaque_callback_data: 'crm-ticket-8812',
    });
    const id = (res['calls'] as { id: string }[])[0]?.id as string;
    expect(res).toEqual({ messaging_product: 'whatsapp', calls: [{ id: expect.stringMatching(/^wacid\./) }] });
    await h.core.webhooksIdle();
    const [connectEvent, ringing] = h.transport.eventsOf(id);
    expect(connectEvent?.item).toMatchObject({
      from: h.config.whatsapp.businessNumber,
      to: WA_ID,
      to_user_id: expect.any(String),
      event: 'connect',
      direction: 'BUSINESS_INITIATED',
      biz_opaque_callback_data: 'crm-ticket-8812',
      session: { sdp_type: 'answer', sdp: expect.stringContaining('a=setup:active') },
    });
    expect(ringing?.item).toEqual({
      id,
      type: 'call',
      status: 'RINGING',
      timestamp: expect.stringMatching(/^\d+$/),
      recipient_id: WA_ID,
      recipient_user_id: expect.any(String),
      biz_opaque_callback_data: 'crm-ticket-8812',
    });
    expect(h.media.session(id).remoteSdp).toContain('a=setup:actpass');

    await jest.advanceTimersByTimeAsync(ANSWER_AFTER_MS);
    await h.core.webhooksIdle();
    expect(h.transport.types(id)).toEqual(['call.connect', 'status.RINGING', 'status.ACCEPTED']);
    expect(h.core.lifecycle.find(id)?.state).toBe('accepted');
    for (const body of h.transport.bodies) expect(parseWebhook(body).rejected).toEqual([]);
  });

  it('a declining user sends REJECTED then terminate without duration', async () => {
    grantPermanent();
    behave('reject');
    const id = await connect();
    await jest.advanceTimersByTimeAsync(ANSWER_AFTER_MS);
    await h.core.webhooksIdle();
    expect(h.transport.types(id)).toEqual(['call.connect', 'status.RINGING', 'status.REJECTED', 'call.terminate']);
    const terminate = h.transport.eventsOf(id)[3];
    expect(terminate?.item).toMatchObject({ status: 'COMPLETED', direction: 'BUSINESS_INITIATED' });
    expect(terminate?.item).not.toHaveProperty('duration');
  });

  it('an ignored call rings until the ring timeout, then terminate', async () => {
    grantPermanent();
    behave('ignore');
    const id = await connect();
    await jest.advanceTimersByTimeAsync(RING_TIMEOUT_MS - 1);
    expect(h.core.lifecycle.find(id)?.state).toBe('ringing');
    await jest.advanceTimersByTimeAsync(1);
    await h.core.webhooksIdle();
    expect(h.transport.types(id)).toEqual(['call.connect', 'status.RINGING', 'call.terminate']);
    expect(h.core.lifecycle.find(id)?.endReason).toBe('ring_timeout');
  });

  it('4 consecutive unanswered or rejected calls revoke the permission with a reject/automatic reply without context', async () => {
    grantPermanent();
    await unansweredCall('reject');
    await unansweredCall('ignore');
    await unansweredCall('reject');
    await h.core.webhooksIdle();
    expect(h.transport.types()).not.toContain('call_permission_reply');
    await unansweredCall('ignore');
    await h.core.webhooksIdle();

    const reply = h.transport.events().find((e) => e.type === 'call_permission_reply');
    expect(replyOf(reply!)).toEqual({ response: 'reject', response_source: 'automatic' });
    expect(reply?.item).not.toHaveProperty('context');
    expect((await graphError(connect())).metaCode).toBe(138006);
  });

  it('a connected call resets the unanswered streak', async () => {
    grantPermanent();
    for (let i = 0; i < 3; i++) await unansweredCall('reject');
    await answeredCall();
    for (let i = 0; i < 3; i++) await unansweredCall('ignore');
    expect(h.core.callPermissions({ user_wa_id: WA_ID })['permission']).toEqual({ status: 'permanent' });
  });

  it('the daily cap of connected calls per pair refuses with 138012 and the next allowed time, until 24 h pass', async () => {
    grantPermanent();
    const firstAt = h.core.clock.now();
    await answeredCall();
    await answeredCall();
    const err = await graphError(connect());
    expect(err.metaCode).toBe(138012);
    expect(err.errorData?.['next_allowed_call_time']).toBe(Math.floor((firstAt + ANSWER_AFTER_MS + DAY_MS) / 1000));
    h.core.advanceClock(DAY_MS);
    await expect(connect()).resolves.toMatch(/^wacid\./);
  });

  it('a second call to a user already in a call is refused with 138003', async () => {
    grantPermanent();
    behave('ignore');
    await connect();
    expect((await graphError(connect())).metaCode).toBe(138003);
  });

  it('an answered business call without media from the business ends FAILED with 138021', async () => {
    grantPermanent();
    behave('accept');
    const id = await connect();
    await jest.advanceTimersByTimeAsync(ANSWER_AFTER_MS + MEDIA_TIMEOUT_MS);
    await h.core.webhooksIdle();
    const terminate = h.transport.eventsOf(id).find((e) => e.type === 'call.terminate');
    expect(terminate?.item['status']).toBe('FAILED');
    expect(terminate?.value['errors']).toEqual([expect.objectContaining({ code: 138021 })]);
  });

  it('connect with an SDP offer lacking ICE credentials is refused with 100', async () => {
    grantPermanent();
    const sdp = businessOfferSdp().replace(/a=ice-pwd:[^\r]*\r\n/, '');
    const err = await graphError(h.core.callsAction({ messaging_product: 'whatsapp', to: WA_ID, action: 'connect', session: { sdp_type: 'offer', sdp } }));
    expect(err.metaCode).toBe(100);
    expect(err.errorData?.details).toMatch(/ice-pwd/);
  });

  it('connect may name the user by BSUID (recipient); an unknown BSUID is 138001', async () => {
    grantPermanent();
    behave('ignore');
    const bsuid = h.core.users.get(WA_ID).bsuid;
    const res = await h.core.callsAction({ messaging_product: 'whatsapp', recipient: bsuid, action: 'connect', session: { sdp_type: 'offer', sdp: businessOfferSdp() } });
    const id = (res['calls'] as { id: string }[])[0]?.id as string;
    expect(h.core.lifecycle.find(id)?.waId).toBe(WA_ID);
    const err = await graphError(h.core.callsAction({ messaging_product: 'whatsapp', recipient: 'US.0', action: 'connect', session: { sdp_type: 'offer', sdp: businessOfferSdp() } }));
    expect(err.metaCode).toBe(138001);
  });

  it('a temporary permission older than 7 days no longer allows calls', async () => {
    h.core.users.get(WA_ID).permissions.grantTemporary(h.core.clock.now());
    h.core.advanceClock(7 * DAY_MS);
    expect((await graphError(connect())).metaCode).toBe(138006);
  });
});
